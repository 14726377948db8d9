// MSBuild inline task (compiled by RoslynCodeTaskFactory from Directory.Build.targets).
// Sets VER_FLG_WEAK on one Vernaux entry of an ELF64 shared object's .gnu.version_r section,
// so that a missing symbol version becomes a loader warning instead of a fatal error.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class FoldClusterWeakenGlibcxxNeed : Task
{
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string Version { get; set; } = "";

    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        if (SystemLibstdcxxHas(Version))
        {
            return true;
        }
        foreach (var item in Files)
        {
            var path = item.GetMetadata("FullPath");
            try
            {
                var outcome = Patch(path, Version);
                if (outcome == "patched")
                {
                    Log.LogMessage(MessageImportance.High,
                        $"foldcluster: marked {Version} as a weak version need in {path} (system libstdc++ lacks it)");
                }
                else if (outcome != "already")
                {
                    Log.LogMessage(MessageImportance.Low, $"foldcluster: {path}: {outcome}");
                }
            }
            catch (Exception e)
            {
                Log.LogError($"foldcluster: cannot patch {path}: {e.Message}");
                return false;
            }
        }
        return !Log.HasLoggedErrors;
    }

    private static bool SystemLibstdcxxHas(string version)
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        };
        var needle = Encoding.ASCII.GetBytes(version + "\0");
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return IndexOf(File.ReadAllBytes(candidate), needle) >= 0;
            }
        }
        return false; // unknown system: patching is harmless (weak need only)
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i <= haystack.Length - needle.Length; i++)
        {
            var match = true;
            for (var j = 0; j < needle.Length && match; j++)
            {
                match = haystack[i + j] == needle[j];
            }
            if (match) return i;
        }
        return -1;
    }

    private static string Patch(string path, string version)
    {
        var stamp = File.GetLastWriteTimeUtc(path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
            return "not an ELF file";
        if (bytes[4] != 2 || bytes[5] != 1) return "not a little-endian ELF64 file";

        var shoff = (long)BitConverter.ToUInt64(bytes, 0x28);
        int shentsize = BitConverter.ToUInt16(bytes, 0x3A);
        int shnum = BitConverter.ToUInt16(bytes, 0x3C);
        for (var s = 0; s < shnum; s++)
        {
            var sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(bytes, (int)sh + 4) != ShtGnuVerneed) continue;
            var secOffset = (long)BitConverter.ToUInt64(bytes, (int)sh + 24);
            var link = BitConverter.ToUInt32(bytes, (int)sh + 40);
            var count = BitConverter.ToUInt32(bytes, (int)sh + 44);
            var strSh = shoff + (long)link * shentsize;
            var strOffset = (long)BitConverter.ToUInt64(bytes, (int)strSh + 24);

            var vn = secOffset;
            for (var i = 0; i < count; i++)
            {
                int vnCnt = BitConverter.ToUInt16(bytes, (int)vn + 2);
                var vnAux = BitConverter.ToUInt32(bytes, (int)vn + 8);
                var vnNext = BitConverter.ToUInt32(bytes, (int)vn + 12);
                var aux = vn + vnAux;
                for (var a = 0; a < vnCnt; a++)
                {
                    var flags = BitConverter.ToUInt16(bytes, (int)aux + 4);
                    var nameOff = BitConverter.ToUInt32(bytes, (int)aux + 8);
                    var next = BitConverter.ToUInt32(bytes, (int)aux + 12);
                    if (ReadCString(bytes, strOffset + nameOff) == version)
                    {
                        if ((flags & VerFlgWeak) != 0) return "already";
                        flags |= VerFlgWeak;
                        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Write))
                        {
                            fs.Position = aux + 4;
                            fs.WriteByte((byte)(flags & 0xff));
                            fs.WriteByte((byte)(flags >> 8));
                        }
                        File.SetLastWriteTimeUtc(path, stamp);
                        return "patched";
                    }
                    if (next == 0) break;
                    aux += next;
                }
                if (vnNext == 0) break;
                vn += vnNext;
            }
            return "no need for " + version;
        }
        return "no .gnu.version_r section";
    }

    private static string ReadCString(byte[] bytes, long offset)
    {
        var end = offset;
        while (end < bytes.Length && bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, (int)offset, (int)(end - offset));
    }
}
