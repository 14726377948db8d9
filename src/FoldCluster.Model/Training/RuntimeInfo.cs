using System.Reflection;
using FoldCluster.Core.Processes;
using static TorchSharp.torch;

namespace FoldCluster.Model.Training;

/// <summary>
/// What a result's provenance says about the numerical runtime: TorchSharp and libtorch versions, the device's name,
/// the CPU model and the instruction sets libtorch's CPU kernels may use. libtorch does not expose the kernel ISA it
/// dispatched to through TorchSharp, so this is derived the way it chooses: ATen's best level the CPU supports
/// (avx512 / avx2 / default), lowered by ATEN_CPU_CAPABILITY when set; oneDNN's limit ONEDNN_MAX_CPU_ISA (or
/// DNNL_MAX_CPU_ISA) when set, else the CPU's best.
/// </summary>
public static class RuntimeInfo
{
    public static string TorchSharpVersion { get; } =
        (typeof(TorchSharp.torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown").Split('+')[0];

    public static string LibtorchVersion => __version__;

    private static readonly Lazy<(string Model, HashSet<string> Flags)> Cpu = new(ReadCpuInfo);

    /// <summary>"model name" of /proc/cpuinfo (the first processor), else "unknown".</summary>
    public static string CpuModel => Cpu.Value.Model;

    /// <summary>e.g. "aten=avx512 onednn=avx512_core_vnni (cpu flags: avx512f avx2 fma sse4_2)".</summary>
    public static string CpuIsa
    {
        get
        {
            var flags = Cpu.Value.Flags;
            string best = flags.IsSupersetOf(["avx512f", "avx512bw", "avx512vl", "avx512dq"]) ? "avx512"
                : flags.IsSupersetOf(["avx2", "fma"]) ? "avx2"
                : "default";
            var aten = Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY") is { Length: > 0 } cap ? $"{cap.ToLowerInvariant()} (ATEN_CPU_CAPABILITY)" : best;
            var onednnLimit = Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA");
            var onednn = onednnLimit is { Length: > 0 } ? $"{onednnLimit.ToLowerInvariant()} (ONEDNN_MAX_CPU_ISA)" : OneDnnBest(flags);
            var shown = new[] { "amx_tile", "avx512_vnni", "avx512f", "avx2", "fma", "avx", "sse4_2", "sse4_1" }.Where(flags.Contains);
            return $"aten={aten} onednn={onednn} (cpu flags: {string.Join(' ', shown)})";
        }
    }

    /// <summary>The device's own name: the CPU model for cpu, the GPU's name (nvidia-smi) for cuda:N.</summary>
    public static string DeviceName(string device)
    {
        var d = (device ?? "cpu").Trim().ToLowerInvariant();
        if (!d.StartsWith("cuda", StringComparison.Ordinal))
        {
            return CpuModel;
        }
        var index = d.Length > 5 ? d[5..] : "0";
        try
        {
            var smi = ChildProcess.Run(new ChildProcessStart("nvidia-smi", ["--query-gpu=name", "--format=csv,noheader", "-i", index]), TimeSpan.FromSeconds(5));
            var name = string.Join('\n', smi.OutputLines).Trim();
            return smi.ExitCode == 0 && name.Length > 0 ? name : "unknown";
        }
        catch (Exception e) when (e is ChildProcessStartException or TimeoutException)
        {
            return "unknown";
        }
    }

    /// <summary>libtorch's intra-op thread count of this process.</summary>
    public static int Threads => get_num_threads();

    private static string OneDnnBest(HashSet<string> flags) =>
        flags.Contains("amx_tile") ? "avx512_core_amx"
        : flags.Contains("avx512_vnni") ? "avx512_core_vnni"
        : flags.Contains("avx512f") ? "avx512_core"
        : flags.Contains("avx2") ? "avx2"
        : flags.Contains("avx") ? "avx"
        : flags.Contains("sse4_1") ? "sse41"
        : "default";

    private static (string, HashSet<string>) ReadCpuInfo()
    {
        string model = "unknown";
        var flags = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon < 0)
                {
                    if (line.Length == 0 && flags.Count > 0)
                    {
                        break; // the first processor's block is enough
                    }
                    continue;
                }
                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (name == "model name" && model == "unknown")
                {
                    model = value;
                }
                else if (name is "flags" or "Features")
                {
                    flags.UnionWith(value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return (model, flags);
    }
}
