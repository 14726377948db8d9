using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using FoldCluster.Core;

namespace FoldCluster.Features.Cache;

/// <summary>
/// The pooled features of one utterance as stored in the cache: Audio [3*64*128], Video [32*VideoWidth], Text [32*300],
/// plus the token counts the extraction report needs (OOV rate) without re-reading Word2Vec.
/// </summary>
public sealed record CachedFeatures(float[] Audio, float[] Video, float[] Text, int VideoWidth, int Tokens, int OovTokens);

/// <summary>
/// Content-addressed feature cache (DESIGN.md 4.5). An entry lives at entries/&lt;first two hex digits&gt;/&lt;key&gt;.fcf
/// where key = SHA-256 of the corpus fingerprint, utterance id, extractor name and settings and the feature version
/// (see <see cref="FeatureStore"/>). File layout (little-endian): "FCF1", int32 format version, int32 video width,
/// int32 audio/video/text lengths, int32 tokens, int32 OOV tokens, the 64 hex characters of the key, the float32
/// arrays, and finally the SHA-256 of all preceding bytes. An entry is written to a temporary file in the same
/// directory and renamed into place (atomic on one file system), so a reader sees either nothing or a whole entry;
/// an entry whose length, key or checksum does not match is reported as corrupt and recomputed, never used.
/// </summary>
public sealed class FeatureCache
{
    private const int FormatVersion = 1;
    private const int HeaderInts = 7;
    private const int KeyChars = 64;
    private const int HeaderBytes = 4 + HeaderInts * 4 + KeyChars;
    private static readonly byte[] Magic = "FCF1"u8.ToArray();

    public FeatureCache(string directory)
    {
        if (string.IsNullOrWhiteSpace(directory))
        {
            throw new BadInputException("no cache directory given");
        }
        Directory = Path.GetFullPath(directory);
    }

    public string Directory { get; }

    public static string Key(string canonical) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));

    public string EntryPath(string key) => Path.Combine(Directory, "entries", key[..2], key + ".fcf");

    public enum ReadResult
    {
        Hit,
        Missing,
        Corrupt,
    }

    public ReadResult TryRead(string key, out CachedFeatures? features)
    {
        features = null;
        var path = EntryPath(key);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return ReadResult.Missing;
        }
        catch (DirectoryNotFoundException)
        {
            return ReadResult.Missing;
        }
        features = Decode(bytes, key);
        return features is null ? ReadResult.Corrupt : ReadResult.Hit;
    }

    private static CachedFeatures? Decode(byte[] bytes, string key)
    {
        if (bytes.Length < HeaderBytes + 32 || !bytes.AsSpan(0, 4).SequenceEqual(Magic))
        {
            return null;
        }
        var span = bytes.AsSpan();
        int Int(int i) => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 + i * 4, 4));
        if (Int(0) != FormatVersion)
        {
            return null;
        }
        int videoWidth = Int(1), audio = Int(2), video = Int(3), text = Int(4), tokens = Int(5), oov = Int(6);
        if (audio < 0 || video < 0 || text < 0 || videoWidth < 0)
        {
            return null;
        }
        long expected = HeaderBytes + 4L * (audio + video + text) + 32;
        if (bytes.Length != expected)
        {
            return null;
        }
        if (Encoding.ASCII.GetString(span.Slice(4 + HeaderInts * 4, KeyChars)) != key)
        {
            return null;
        }
        var body = span[..^32];
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(span[^32..]))
        {
            return null;
        }
        int offset = HeaderBytes;
        float[] Floats(int count)
        {
            var result = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(offset, count * 4)).ToArray();
            offset += count * 4;
            return result;
        }
        return new CachedFeatures(Floats(audio), Floats(video), Floats(text), videoWidth, tokens, oov);
    }

    public void Write(string key, CachedFeatures features)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("the feature cache format is little-endian");
        }
        var path = EntryPath(key);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        long length = HeaderBytes + 4L * (features.Audio.Length + features.Video.Length + features.Text.Length) + 32;
        var bytes = new byte[length];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        int[] header = [FormatVersion, features.VideoWidth, features.Audio.Length, features.Video.Length, features.Text.Length, features.Tokens, features.OovTokens];
        for (int i = 0; i < header.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span.Slice(4 + i * 4, 4), header[i]);
        }
        Encoding.ASCII.GetBytes(key, span.Slice(4 + HeaderInts * 4, KeyChars));
        int offset = HeaderBytes;
        foreach (var array in new[] { features.Audio, features.Video, features.Text })
        {
            MemoryMarshal.AsBytes(array.AsSpan()).CopyTo(span[offset..]);
            offset += array.Length * 4;
        }
        SHA256.HashData(span[..offset], span[offset..]);
        WriteAtomically(path, bytes);
    }

    /// <summary>Writes to a unique temporary file beside the target, flushes it, then renames it over the target.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> bytes)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        System.IO.Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// Another holder of the lock, as opposed to an I/O error of the file system. On Unix .NET reports the flock
    /// refusal with the errno as HResult (EWOULDBLOCK: 11 on Linux, 35 on macOS); on Windows as a sharing or lock
    /// violation (Win32 errors 32, 33).
    /// </summary>
    private static bool IsContention(IOException e) =>
        e.GetType() == typeof(IOException)
        && (OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 32 or 33 : e.HResult is 11 or 35);

    /// <summary>
    /// An exclusive lock on a named extraction, held across threads and processes of this machine: the lock file is
    /// opened with FileShare.None, which .NET maps to an advisory flock on Unix and a share lock on Windows. The lock
    /// disappears with the process, so a crashed extractor never blocks the next one. Only contention waits; any
    /// other I/O error ends the call with its cause.
    /// </summary>
    public IDisposable AcquireLock(string name, Action<string>? onWait, CancellationToken ct)
    {
        var path = Path.Combine(Directory, "locks", name + ".lock");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        bool told = false;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (!IsContention(e))
            {
                // Disk full, read-only file system, no lock support (some NFS mounts), a broken path: waiting
                // cannot help. The extraction fails with the cause (a failure of the attempt, retried elsewhere).
                throw new IOException($"feature cache lock {path} cannot be taken: {e.Message}", e);
            }
            catch (IOException)
            {
                if (!told)
                {
                    onWait?.Invoke($"waiting for another extraction holding {path}");
                    told = true;
                }
                ct.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
            }
        }
    }
}
