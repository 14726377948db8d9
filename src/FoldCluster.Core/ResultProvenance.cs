using System.Reflection;

namespace FoldCluster.Core;

/// <summary>
/// Where and how one result was computed (DESIGN.md section 9), stored beside it: results of one seed differ between
/// machines (libtorch picks kernels by CPU instruction set), so a table can say when its cells mix them.
/// <para>
/// CodeVersion: the version and commit of the build ("0.1.0+&lt;commit&gt;", commit "unknown" when not built from a
/// checkout). CpuIsa: the instruction sets libtorch's kernels may use here, with any limit set through the environment.
/// FeatureCacheKey: SHA-256 over the cache keys of the dataset's extracted utterances (the features trained on are
/// those of them that have every modality in UtteranceModalities). LeftOut: utterances of the corpus not trained on, by reason.
/// </para>
/// </summary>
public sealed record ResultProvenance(
    string CodeVersion,
    string TorchSharpVersion,
    string LibtorchVersion,
    string Device,
    string DeviceName,
    string CpuModel,
    string CpuIsa,
    int Threads,
    string WorkerHost,
    string FeatureCacheKey,
    string UtteranceModalities,
    int Utterances,
    IReadOnlyDictionary<string, int> LeftOut);

/// <summary>The build this process runs: its version and the commit it was built from.</summary>
public static class BuildInfo
{
    /// <summary>The commit stamped at build time (git rev-parse HEAD when built from a checkout), else "unknown".</summary>
    public static string Commit { get; } =
        typeof(BuildInfo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "FoldClusterCommit")?.Value is { Length: > 0 } commit ? commit : "unknown";

    /// <summary>"0.1.0+&lt;commit&gt;".</summary>
    public static string CodeVersion { get; } =
        (typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0]
        + "+" + Commit;
}
