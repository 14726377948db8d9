using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Features.Cache;
using FoldCluster.Features.Corpus;
using FoldCluster.Features.Video;

namespace FoldCluster.Features;

/// <summary>
/// The manifest of a dataset's last extraction: &lt;dataset&gt;/manifest.json and manifest-&lt;extractor&gt;.json list the
/// utterances (id, speaker, label) and their cache keys; report.json beside them is the <see cref="ExtractionReport"/>.
/// </summary>
internal static class FeatureManifest
{
    private sealed record Manifest(string Dataset, string Layout, string Extractor, int VideoWidth, int FeatureVersion, IReadOnlyList<ManifestUtterance> Utterances);

    private sealed record ManifestUtterance(string Id, string Speaker, string Label, string Key);

    public static void Write(FeatureCache cache, string dataset, string layout, FrameNetworkSpec spec,
        IReadOnlyList<CorpusUtterance> kept, IReadOnlyDictionary<string, string> keys, ExtractionReport report)
    {
        var manifest = new Manifest(dataset, layout, spec.RecordedName, spec.FeatureWidth, FeatureStore.FeatureVersion,
            kept.Select(u => new ManifestUtterance(u.Id, u.Speaker, u.Label!.Value.Name(), keys[u.Id])).ToList());
        var json = JsonSerializer.SerializeToUtf8Bytes(manifest, ExtractionReport.Json);
        var folder = Path.Combine(cache.Directory, dataset);
        FeatureCache.WriteAtomically(Path.Combine(folder, $"manifest-{spec.RecordedName}.json"), json);
        FeatureCache.WriteAtomically(Path.Combine(folder, "manifest.json"), json);
        FeatureCache.WriteAtomically(Path.Combine(folder, "report.json"), System.Text.Encoding.UTF8.GetBytes(report.ToJson()));
    }

    public static FeatureSet Load(FeatureCache cache, string cacheDirectory, string name, string? extractor)
    {
        var file = Path.Combine(cache.Directory, name, extractor is null ? "manifest.json" : $"manifest-{extractor}.json");
        if (!File.Exists(file))
        {
            throw new BadInputException(
                $"{file}: no extracted features for dataset '{name}'{(extractor is null ? "" : $" and extractor {extractor}")} in {cache.Directory}: run `foldcluster features extract --dataset {name} --cache {cacheDirectory} ...` first");
        }
        Manifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(file), ExtractionReport.Json)
                ?? throw new JsonException("empty manifest");
        }
        catch (JsonException e)
        {
            throw new BadInputException($"{file}: unreadable feature manifest ({e.Message}): run `foldcluster features extract` again");
        }
        var utterances = new List<UtteranceFeatures>(manifest.Utterances.Count);
        foreach (var u in manifest.Utterances)
        {
            if (cache.TryRead(u.Key, out var f) != FeatureCache.ReadResult.Hit)
            {
                throw new BadInputException(
                    $"{cache.EntryPath(u.Key)}: cache entry of {u.Id} is missing or corrupt: run `foldcluster features extract` again to recompute it");
            }
            utterances.Add(FeatureStore.ToUtterance(u.Id, u.Speaker, ParseEmotion(u.Label, file), f!));
        }
        return new FeatureSet(manifest.Dataset, manifest.Extractor, manifest.VideoWidth, utterances);
    }

    private static Emotion ParseEmotion(string label, string file) =>
        Emotions.All.FirstOrDefault(e => e.Name() == label) is var e && e.Name() == label
            ? e
            : throw new BadInputException($"{file}: unknown label '{label}' in feature manifest");
}
