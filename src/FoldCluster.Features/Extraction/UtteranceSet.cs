using FoldCluster.Core;

namespace FoldCluster.Features;

/// <summary>
/// The utterances a sweep trains on for one dataset: those that have every modality its modality sets need
/// (<see cref="Core.Sweeps.SweepSpec.UtteranceSetFor"/>), so all its jobs share one fold plan. What is left out is
/// counted by reason ("no video", "no audio and text", "not extracted" for inputs that could not be read).
/// </summary>
public sealed record UtteranceSet(FeatureSet Features, ModalitySet Modalities, IReadOnlyDictionary<string, int> LeftOut)
{
    public static UtteranceSet Select(FeatureSet all, ExtractionReport report, ModalitySet required) =>
        Select(all, required, report.Skipped.Select(s => s.Utterance).Distinct(StringComparer.Ordinal).Count());

    /// <summary>The utterances of a loaded feature set that have every modality of <paramref name="required"/> (no extraction report at hand).</summary>
    public static UtteranceSet Select(FeatureSet all, ModalitySet required) => Select(all, required, notExtracted: 0);

    private static UtteranceSet Select(FeatureSet all, ModalitySet required, int notExtracted)
    {
        var leftOut = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var kept = new List<UtteranceFeatures>(all.Utterances.Count);
        foreach (var u in all.Utterances)
        {
            var present = (u.Audio is null ? Modality.None : Modality.Audio)
                | (u.Video is null ? Modality.None : Modality.Video)
                | (u.Text is null ? Modality.None : Modality.Text);
            if (Reason(required.Flags, present) is not { } reason)
            {
                kept.Add(u);
                continue;
            }
            leftOut[reason] = leftOut.GetValueOrDefault(reason) + 1;
        }
        if (notExtracted > 0)
        {
            leftOut["not extracted"] = notExtracted;
        }
        return new UtteranceSet(all with { Utterances = kept }, required, leftOut);
    }

    /// <summary>Why an utterance with <paramref name="present"/> is not in a set that needs <paramref name="required"/>: "no video", "no audio and text"; null when it is in.</summary>
    public static string? Reason(Modality required, Modality present)
    {
        var absent = new[] { (Modality.Audio, "audio"), (Modality.Video, "video"), (Modality.Text, "text") }
            .Where(m => required.HasFlag(m.Item1) && !present.HasFlag(m.Item1)).Select(m => m.Item2).ToList();
        return absent.Count == 0 ? null : "no " + string.Join(" and ", absent);
    }

    /// <summary>"25 utterances with A+V+T; left out: 6 no video".</summary>
    public override string ToString() =>
        $"{Features.Utterances.Count} utterances with {string.Join('+', Modalities.ToString().ToCharArray())}"
        + (LeftOut.Count == 0 ? "" : "; left out: " + string.Join(", ", LeftOut.Select(kv => $"{kv.Value} {kv.Key}")));
}
