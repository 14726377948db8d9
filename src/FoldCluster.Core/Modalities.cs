namespace FoldCluster.Core;

[Flags]
public enum Modality
{
    None = 0,
    Audio = 1,
    Video = 2,
    Text = 4,
}

/// <summary>A set of modalities written as in the paper's tables: A, V, T, AV, AT, VT, AVT (always in A, V, T order).</summary>
public readonly record struct ModalitySet(Modality Flags)
{
    public static readonly IReadOnlyList<string> Allowed = ["A", "V", "T", "AV", "AT", "VT", "AVT"];

    public bool HasAudio => Flags.HasFlag(Modality.Audio);
    public bool HasVideo => Flags.HasFlag(Modality.Video);
    public bool HasText => Flags.HasFlag(Modality.Text);
    public int Count => (HasAudio ? 1 : 0) + (HasVideo ? 1 : 0) + (HasText ? 1 : 0);

    public static ModalitySet Parse(string text)
    {
        var normalized = (text ?? "").Trim().ToUpperInvariant().Replace("+", "", StringComparison.Ordinal);
        var flags = Modality.None;
        foreach (var c in normalized)
        {
            var next = c switch
            {
                'A' => Modality.Audio,
                'V' => Modality.Video,
                'T' => Modality.Text,
                _ => throw new BadInputException($"modality set '{text}' is not valid: expected one of {string.Join(", ", Allowed)}"),
            };
            if (flags.HasFlag(next))
            {
                throw new BadInputException($"modality set '{text}' names a modality twice: expected one of {string.Join(", ", Allowed)}");
            }
            flags |= next;
        }
        if (flags == Modality.None)
        {
            throw new BadInputException($"modality set '{text}' is empty: expected one of {string.Join(", ", Allowed)}");
        }
        return new ModalitySet(flags);
    }

    public override string ToString() =>
        (HasAudio ? "A" : "") + (HasVideo ? "V" : "") + (HasText ? "T" : "");
}
