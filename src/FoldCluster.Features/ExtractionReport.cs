using System.Text.Json;
using System.Text.Json.Serialization;
using FoldCluster.Features.Corpus;

namespace FoldCluster.Features;

/// <summary>An utterance left out of the features, with the file (and line) to look at and why.</summary>
public sealed record SkippedUtterance(string Utterance, string File, int Line, string Reason);

/// <summary>
/// What one extraction of a dataset did (saved as report.json in the dataset's cache folder): counts, skipped
/// utterances and why, label-file problems, the out-of-vocabulary rate of the words and the wall-clock seconds.
/// Modalities: how many of the extracted utterances have each input. CacheKey: SHA-256 over the cache keys of the
/// extracted utterances, in id order: one name for exactly these features.
/// </summary>
public sealed record ExtractionReport(
    string Dataset,
    string Layout,
    string Root,
    string Extractor,
    int VideoWidth,
    string Settings,
    int LabelledEntries,
    int FourClass,
    int Utterances,
    int Extracted,
    int FromCache,
    int CorruptRecomputed,
    IReadOnlyDictionary<string, int> ByLabel,
    IReadOnlyDictionary<string, int> Excluded,
    MissingCounts Missing,
    IReadOnlyList<SkippedUtterance> Skipped,
    IReadOnlyList<CorpusProblem> Problems,
    long Tokens,
    long OovTokens,
    double OovRate,
    double Seconds,
    DateTime FinishedUtc,
    ModalityCounts Modalities,
    string CacheKey)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>A few plain lines for the console.</summary>
    public IEnumerable<string> Summary()
    {
        yield return $"dataset {Dataset} ({Layout}) from {Root}";
        yield return $"extractor {Extractor} ({VideoWidth}-d frames), {Settings}";
        yield return $"utterances: {Utterances} with features ({Extracted} extracted, {FromCache} from cache{(CorruptRecomputed > 0 ? $", {CorruptRecomputed} corrupt entries recomputed" : "")}); " +
            string.Join(", ", ByLabel.Select(kv => $"{kv.Key} {kv.Value}"));
        yield return $"inputs of those utterances: {Modalities}";
        yield return $"labelled entries {LabelledEntries}, 4-class {FourClass}, excluded: " +
            (Excluded.Count == 0 ? "none" : string.Join(", ", Excluded.Select(kv => $"{kv.Key} {kv.Value}")));
        yield return $"skipped {Skipped.Count} (missing audio {Missing.Audio}, video {Missing.Video}, transcript {Missing.Transcript}), label-file problems {Problems.Count}";
        foreach (var s in Skipped.Take(10))
        {
            yield return $"  skipped {s.Utterance}: {s.File}{(s.Line > 0 ? $":{s.Line}" : "")}: {s.Reason}";
        }
        if (Skipped.Count > 10)
        {
            yield return $"  ... {Skipped.Count - 10} more in report.json";
        }
        foreach (var p in Problems.Take(10))
        {
            yield return $"  problem {p}";
        }
        yield return $"words: {Tokens} tokens, {OovTokens} out of vocabulary ({OovRate:P1})";
        yield return $"seconds: {Seconds:F1}";
    }
}
