using System.Globalization;
using FoldCluster.Features.Cache;
using FoldCluster.Features.Corpus;
using FoldCluster.Features.Video;

namespace FoldCluster.Features;

/// <summary>
/// The cache key of one utterance's features (DESIGN.md 4.5): SHA-256 over the feature version, the layout, the
/// recorded extractor name, the weights and Word2Vec files (name, size, modification time), the video settings, and
/// the utterance's own inputs (id, audio and video file size and modification time, time range, gender, transcript).
/// </summary>
internal sealed class FeatureKey(string layout, FrameNetworkSpec spec, string? word2vecPath, ExtractionOptions options)
{
    /// <summary>The part shared by every utterance of the extraction.</summary>
    public string Settings { get; } = string.Join('|',
        $"feature-version={FeatureStore.FeatureVersion}", $"layout={layout}", $"extractor={spec.RecordedName}",
        $"weights={FileIdentity(spec.WeightsPath)}", $"word2vec={FileIdentity(word2vecPath)}", options.Canonical);

    public string Of(CorpusUtterance u) => FeatureCache.Key(Settings + "|" + Fingerprint(u));

    private static string Fingerprint(CorpusUtterance u) => string.Create(CultureInfo.InvariantCulture,
        $"id={u.Id}|audio={FileIdentity(u.AudioPath)}|video={FileIdentity(u.VideoPath)}|range={u.VideoStart:R}-{u.VideoEnd:R}|gender={u.Gender}|text={u.Transcript}");

    internal static string FileIdentity(string? path)
    {
        if (path is null)
        {
            return "none";
        }
        var info = new FileInfo(path);
        return string.Create(CultureInfo.InvariantCulture, $"{info.Name}:{info.Length}:{info.LastWriteTimeUtc.Ticks}");
    }
}
