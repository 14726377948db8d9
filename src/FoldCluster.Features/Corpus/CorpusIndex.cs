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
    /// <summary>In the paper's four classes and every input present.</summary>
    public bool Usable => Label is not null && Transcript is not null && AudioPath is not null && VideoPath is not null;
}

/// <summary>A line or file that could not be used, named so the user can find it.</summary>
public sealed record CorpusProblem(string File, int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}

/// <summary>Counts of 4-class utterances whose audio, video or transcript is missing.</summary>
public sealed record MissingCounts(int Audio, int Video, int Transcript);

/// <summary>What a corpus reader found below a root.</summary>
public sealed class CorpusIndex
{
    public CorpusIndex(string layout, string root, IReadOnlyList<CorpusUtterance> entries, IReadOnlyList<CorpusProblem> problems)
    {
        Layout = layout;
        Root = root;
        Entries = entries;
        Problems = problems;
        Usable = entries.Where(e => e.Usable).ToList();
        Excluded = entries.Where(e => e.Label is null)
            .GroupBy(e => e.RawLabel, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var fourClass = entries.Where(e => e.Label is not null).ToList();
        Missing = new MissingCounts(
            fourClass.Count(e => e.AudioPath is null),
            fourClass.Count(e => e.VideoPath is null),
            fourClass.Count(e => e.Transcript is null));
    }

    public string Layout { get; }
    public string Root { get; }

    /// <summary>Every labelled entry, excluded labels included, in file order.</summary>
    public IReadOnlyList<CorpusUtterance> Entries { get; }

    /// <summary>The 4-class utterances with audio, video and transcript present.</summary>
    public IReadOnlyList<CorpusUtterance> Usable { get; }

    public IReadOnlyDictionary<string, int> Excluded { get; }
    public MissingCounts Missing { get; }
    public IReadOnlyList<CorpusProblem> Problems { get; }

    public IReadOnlyDictionary<string, int> ByLabel => Emotions.All.ToDictionary(
        e => e.Name(), e => Usable.Count(u => u.Label == e), StringComparer.Ordinal);

    public IReadOnlyDictionary<string, int> BySpeaker => Usable.GroupBy(u => u.Speaker, StringComparer.Ordinal)
        .OrderBy(g => g.Key, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>The 4-class utterances left out for a missing input, with the label file and line that names them.</summary>
    public IEnumerable<(CorpusUtterance Utterance, string Reason)> Incomplete() =>
        Entries.Where(e => e.Label is not null && !e.Usable).Select(e => (e, string.Join("; ", new[]
        {
            e.AudioPath is null ? "audio file missing" : null,
            e.VideoPath is null ? "video file missing" : null,
            e.Transcript is null ? "transcript missing" : null,
        }.Where(s => s is not null))));

    /// <summary>Missing inputs of the 4-class utterances, as problems naming the label file and line.</summary>
    public IEnumerable<CorpusProblem> MissingInputs() =>
        Incomplete().Select(x => new CorpusProblem(x.Utterance.LabelFile, x.Utterance.LabelLine, $"utterance {x.Utterance.Id} skipped: {x.Reason}"));
}

/// <summary>Reads a corpus root in one of the supported layouts.</summary>
public static class CorpusReader
{
    public const string Iemocap = "iemocap";
    public const string MspImprov = "msp-improv";

    public static CorpusIndex Read(string layout, string root) => (layout ?? "").Trim().ToLowerInvariant() switch
    {
        Iemocap => IemocapReader.Read(root),
        MspImprov or "msp_improv" or "mspimprov" => MspImprovReader.Read(root),
        _ => throw new BadInputException($"unknown corpus layout '{layout}': expected {Iemocap} or {MspImprov}"),
    };

    public static string NormalizeLayout(string layout) => (layout ?? "").Trim().ToLowerInvariant() switch
    {
        Iemocap => Iemocap,
        MspImprov or "msp_improv" or "mspimprov" => MspImprov,
        _ => throw new BadInputException($"unknown corpus layout '{layout}': expected {Iemocap} or {MspImprov}"),
    };
}
