using FoldCluster.Core;

namespace FoldCluster.Features.Corpus;

/// <summary>Which half of a side-by-side frame shows the speaker (IEMOCAP dialogs); Full for single-actor clips.</summary>
public enum FrameRegion
{
    Full,
    Left,
    Right,
}

/// <summary>One labelled utterance entry as the corpus files describe it (DESIGN.md section 7).</summary>
public sealed record CorpusUtterance(
    string Id,
    string Speaker,
    string Session,
    string Gender,
    string Group,
    double Start,
    double End,
    string RawLabel,
    Emotion? Label,
    string? Transcript,
    string? AudioPath,
    string? VideoPath,
    double VideoStart,
    double VideoEnd,
    string LabelFile,
    int LabelLine)
{
    /// <summary>The inputs this utterance has: audio (its WAV), video (its clip or dialog video), text (its transcript).</summary>
    public Modality Modalities =>
        (AudioPath is null ? Modality.None : Modality.Audio)
        | (VideoPath is null ? Modality.None : Modality.Video)
        | (Transcript is null ? Modality.None : Modality.Text);

    /// <summary>Has every input of <paramref name="required"/>.</summary>
    public bool Has(Modality required) => (Modalities & required) == required;
}

/// <summary>A line or file that could not be used, named so the user can find it.</summary>
public sealed record CorpusProblem(string File, int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}

/// <summary>Counts of 4-class utterances whose audio, video or transcript is missing.</summary>
public sealed record MissingCounts(int Audio, int Video, int Transcript);

/// <summary>Counts of 4-class utterances that have audio, video or a transcript (JSON: audio, video, text).</summary>
public sealed record ModalityCounts(int Audio, int Video, int Text)
{
    public int Of(Modality modality) => modality switch
    {
        Modality.Audio => Audio,
        Modality.Video => Video,
        Modality.Text => Text,
        _ => throw new ArgumentOutOfRangeException(nameof(modality), modality, "one modality expected"),
    };

    public override string ToString() => $"audio {Audio}, video {Video}, text {Text}";
}

/// <summary>What a corpus reader found below a root.</summary>
public sealed class CorpusIndex
{
    /// <summary>Audio, video and text: what the paper's full model (A+V+T) needs.</summary>
    public const Modality AllInputs = Modality.Audio | Modality.Video | Modality.Text;

    public CorpusIndex(string layout, string root, IReadOnlyList<CorpusUtterance> entries, IReadOnlyList<CorpusProblem> problems)
    {
        Layout = layout;
        Root = root;
        Entries = entries;
        Problems = problems;
        Utterances = entries.Where(e => e.Label is not null).ToList();
        Excluded = entries.Where(e => e.Label is null)
            .GroupBy(e => e.RawLabel, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        Missing = new MissingCounts(
            Utterances.Count(e => e.AudioPath is null),
            Utterances.Count(e => e.VideoPath is null),
            Utterances.Count(e => e.Transcript is null));
        Modalities = new ModalityCounts(
            Utterances.Count - Missing.Audio, Utterances.Count - Missing.Video, Utterances.Count - Missing.Transcript);
    }

    public string Layout { get; }
    public string Root { get; }

    /// <summary>Every labelled entry, excluded labels included, in file order.</summary>
    public IReadOnlyList<CorpusUtterance> Entries { get; }

    /// <summary>The utterances labelled in the paper's four classes, whatever inputs they have.</summary>
    public IReadOnlyList<CorpusUtterance> Utterances { get; }

    public IReadOnlyDictionary<string, int> Excluded { get; }
    public MissingCounts Missing { get; }

    /// <summary>How many of <see cref="Utterances"/> have each input.</summary>
    public ModalityCounts Modalities { get; }

    public IReadOnlyList<CorpusProblem> Problems { get; }

    public IReadOnlyDictionary<string, int> ByLabel => Emotions.All.ToDictionary(
        e => e.Name(), e => Utterances.Count(u => u.Label == e), StringComparer.Ordinal);

    public IReadOnlyDictionary<string, int> BySpeaker => Utterances.GroupBy(u => u.Speaker, StringComparer.Ordinal)
        .OrderBy(g => g.Key, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>The 4-class utterances that have every input of <paramref name="required"/>.</summary>
    public IReadOnlyList<CorpusUtterance> Having(Modality required) => Utterances.Where(u => u.Has(required)).ToList();

    /// <summary>The 4-class utterances lacking some input, and which inputs they lack.</summary>
    public IEnumerable<(CorpusUtterance Utterance, string Reason)> Incomplete() =>
        Utterances.Where(e => e.Modalities != AllInputs).Select(e => (e, MissingReason(e.Modalities)));

    /// <summary>"audio file missing; transcript missing" for the inputs of A, V, T that <paramref name="present"/> lacks.</summary>
    public static string MissingReason(Modality present) => string.Join("; ", new[]
    {
        present.HasFlag(Modality.Audio) ? null : "audio file missing",
        present.HasFlag(Modality.Video) ? null : "video file missing",
        present.HasFlag(Modality.Text) ? null : "transcript missing",
    }.Where(s => s is not null));

    /// <summary>Missing inputs of the 4-class utterances, as problems naming the label file and line.</summary>
    public IEnumerable<CorpusProblem> MissingInputs() =>
        Incomplete().Select(x => new CorpusProblem(x.Utterance.LabelFile, x.Utterance.LabelLine, $"utterance {x.Utterance.Id}: {x.Reason}"));
}

/// <summary>Reads a corpus root in one of the supported layouts.</summary>
public static class CorpusReader
{
    public const string Iemocap = "iemocap";
    public const string MspImprov = "msp-improv";

    public static CorpusIndex Read(string layout, string root) => Read(layout, root, null);

    /// <summary>
    /// The same, with the words of a user-supplied transcript file (<see cref="TranscriptFile"/>) in place of the
    /// corpus's own where it names an utterance (MSP-IMPROV releases without per-clip transcripts).
    /// </summary>
    public static CorpusIndex Read(string layout, string root, string? transcriptsFile)
    {
        var index = NormalizeLayout(layout) switch
        {
            Iemocap => IemocapReader.Read(root),
            _ => MspImprovReader.Read(root),
        };
        return string.IsNullOrWhiteSpace(transcriptsFile) ? index : TranscriptFile.Apply(index, transcriptsFile);
    }

    public static string NormalizeLayout(string layout) => (layout ?? "").Trim().ToLowerInvariant() switch
    {
        Iemocap => Iemocap,
        MspImprov or "msp_improv" or "mspimprov" => MspImprov,
        _ => throw new BadInputException($"unknown corpus layout '{layout}': expected {Iemocap} or {MspImprov}"),
    };
}
