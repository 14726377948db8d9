using System.Text.RegularExpressions;
using FoldCluster.Core;
using FoldCluster.Features.Cache;

namespace FoldCluster.Features;

/// <summary>Progress of one extraction: utterances done of total, and a line saying what happens.</summary>
public sealed record ExtractionProgress(int Done, int Total, string Message);

/// <summary>
/// Raw corpus to the trainer's <see cref="FeatureSet"/> through the content-addressed cache (DESIGN.md 4.5).
/// <para>
/// Cache folder: entries/ (one file per utterance and settings, shared by all datasets), &lt;dataset&gt;/manifest.json
/// (the utterances of the last extraction, read by <see cref="Load(string, string)"/>), &lt;dataset&gt;/manifest-&lt;extractor&gt;.json,
/// &lt;dataset&gt;/report.json, and locks/. The key of an entry is <see cref="FeatureKey"/>; one run is an
/// <see cref="ExtractionRun"/>; the manifest is <see cref="FeatureManifest"/>.
/// </para>
/// <para>
/// Each utterance gets the inputs it has: audio from its WAV, video from its clip or dialog video, text from its
/// transcript; an absent input is stored empty and loads as null, so a corpus without videos (or transcripts)
/// still gives A+T (or A+V) features. Which utterances a job trains on is the sweep's choice (its modality sets).
/// </para>
/// <para>
/// Word2Vec: <see cref="DatasetSource.Word2VecPath"/>, else &lt;root&gt;/word2vec.bin when that file exists (the generated
/// corpus writes its vocabulary there); with neither, extraction of a corpus with transcripts stops with a
/// <see cref="BadInputException"/>.
/// </para>
/// </summary>
public static partial class FeatureStore
{
    /// <summary>Bump when the numbers an extraction produces change; every cached entry then becomes a miss.</summary>
    public const int FeatureVersion = 1;

    public const string DefaultWord2VecFile = "word2vec.bin";

    public static FeatureSet LoadOrExtract(DatasetSource source, string cacheDirectory, IProgress<string>? progress, CancellationToken ct) =>
        LoadOrExtract(source, null, cacheDirectory, progress is null ? null : new MessageProgress(progress), ct).Features;

    /// <summary>Forwards on the reporting thread, so messages keep their order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class MessageProgress(IProgress<string> inner) : IProgress<ExtractionProgress>
    {
        public void Report(ExtractionProgress value) => inner.Report(value.Message);
    }

    /// <summary>The same, with explicit video settings (null: <see cref="ExtractionOptions.DefaultFor"/> the root) and the report.</summary>
    public static (FeatureSet Features, ExtractionReport Report) LoadOrExtract(
        DatasetSource source, ExtractionOptions? options, string cacheDirectory, IProgress<ExtractionProgress>? progress, CancellationToken ct) =>
        new ExtractionRun(source, options, cacheDirectory, progress).Execute(ct);

    /// <summary>The features that `features extract` last wrote for <paramref name="datasetName"/> into the cache.</summary>
    public static FeatureSet Load(string cacheDirectory, string datasetName) => Load(cacheDirectory, datasetName, null);

    /// <summary>The same for one extractor's extraction (resnet50, vggface, resnet50-random, ...).</summary>
    public static FeatureSet Load(string cacheDirectory, string datasetName, string? extractor) =>
        FeatureManifest.Load(new FeatureCache(cacheDirectory), cacheDirectory, ValidateName(datasetName), extractor is null ? null : ValidateName(extractor));

    /// <summary>The report of the last extraction of a dataset, if any.</summary>
    public static string ReportPath(string cacheDirectory, string datasetName) =>
        Path.Combine(new FeatureCache(cacheDirectory).Directory, ValidateName(datasetName), "report.json");

    /// <summary>An utterance's features from its cache entry: empty arrays are inputs the utterance does not have.</summary>
    internal static UtteranceFeatures ToUtterance(string id, string speaker, Emotion label, CachedFeatures f) =>
        new(id, speaker, label, f.Audio.Length == 0 ? null : f.Audio, f.Video.Length == 0 ? null : f.Video, f.Text.Length == 0 ? null : f.Text);

    internal static string ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || !SafeName().IsMatch(name))
        {
            throw new BadInputException($"dataset name '{name}' is not valid: use letters, digits, '.', '_' and '-' only");
        }
        return name;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex SafeName();
}
