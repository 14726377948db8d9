namespace FoldCluster.Core;

/// <summary>
/// LTPP-pooled features of one utterance (DESIGN.md 4.4), flattened row-major:
/// Audio [3][64][128], Video [32][VideoWidth], Text [32][300]. A missing modality is null.
/// </summary>
public sealed record UtteranceFeatures(
    string UtteranceId,
    string Speaker,
    Emotion Label,
    float[]? Audio,
    float[]? Video,
    float[]? Text);

/// <summary>The features of a whole dataset, as the trainer consumes them.</summary>
public sealed record FeatureSet(
    string Dataset,
    string Extractor,
    int VideoWidth,
    IReadOnlyList<UtteranceFeatures> Utterances)
{
    public const int AudioChannels = 3;
    public const int MelBands = 64;
    public const int AudioFrames = 128;
    public const int SequenceLength = 32;
    public const int TextWidth = 300;
    public const int AudioLength = AudioChannels * MelBands * AudioFrames;
    public const int TextLength = SequenceLength * TextWidth;
}
