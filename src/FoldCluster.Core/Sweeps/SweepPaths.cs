namespace FoldCluster.Core.Sweeps;

/// <summary>
/// Relative paths in a sweep spec (dataset root, Word2Vec file, weights) are relative to a data root:
/// `sweep submit --data-root DIR` makes them absolute before the spec is stored; paths still relative
/// in the stored spec are resolved by each worker against its own `node start --data-root`.
/// </summary>
public static class SweepPaths
{
    public static string? Resolve(string? path, string? dataRoot)
    {
        if (string.IsNullOrEmpty(path) || string.IsNullOrEmpty(dataRoot) || Path.IsPathRooted(path))
        {
            return path;
        }
        return Path.GetFullPath(Path.Combine(dataRoot, path));
    }

    /// <summary>The dataset with its relative paths resolved against a worker's data root (unchanged when null).</summary>
    public static DatasetSource Resolve(DatasetSource source, string? dataRoot) => source with
    {
        Root = Resolve(source.Root, dataRoot)!,
        Word2VecPath = Resolve(source.Word2VecPath, dataRoot),
        WeightsPath = Resolve(source.WeightsPath, dataRoot),
        TranscriptsPath = Resolve(source.TranscriptsPath, dataRoot),
    };

    /// <summary>The spec with every dataset's relative paths made absolute against the data root.</summary>
    public static SweepSpec Resolve(SweepSpec spec, string? dataRoot)
    {
        if (string.IsNullOrEmpty(dataRoot))
        {
            return spec;
        }
        var full = Path.GetFullPath(dataRoot);
        return spec with
        {
            Datasets = [.. spec.Datasets.Select(d => d with
            {
                Root = Resolve(d.Root, full)!,
                Word2Vec = Resolve(d.Word2Vec, full),
                Weights = Resolve(d.Weights, full),
                Transcripts = Resolve(d.Transcripts, full),
            })],
        };
    }
}
