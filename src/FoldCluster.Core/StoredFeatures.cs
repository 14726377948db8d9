namespace FoldCluster.Core;

/// <summary>
/// Which time-pooled vectors a job stores for its test utterances (sweep field <c>store_features</c>), for the
/// analysis figures: Fig. 5 and 7 (t-SNE of fused codes), Fig. 8 (MINE of inputs and encoder outputs), Fig. 9 (DCCA).
/// </summary>
public enum StoredFeatureLevel
{
    None,

    /// <summary>The stage-1 and stage-2 fused codes.</summary>
    Fused,

    /// <summary>Also each modality's input and each encoder's output.</summary>
    All,
}

/// <summary>One stored vector: a test utterance's time-pooled features of one kind (see <see cref="FeatureKinds"/>).</summary>
public sealed record FeatureVector(string UtteranceId, string Kind, float[] Values);

/// <summary>The kinds of stored vectors, as the database keys them.</summary>
public static class FeatureKinds
{
    /// <summary>The fused code after stage 1 (unsupervised reconstruction), with stage 1's best weights.</summary>
    public const string FusedStage1 = "fused.stage1";

    /// <summary>The fused code after stage 2 (classification), with the weights the test fold is evaluated with.</summary>
    public const string FusedStage2 = "fused.stage2";

    /// <summary>The model's (standardised) input of a modality, pooled over time: "input.audio", "input.video", "input.text".</summary>
    public static string Input(string modality) => "input." + modality;

    /// <summary>An encoder's output [32 x 300] pooled over its 32 positions: "encoded.audio", ...</summary>
    public static string Encoded(string modality) => "encoded." + modality;

    public static readonly IReadOnlyList<string> Modalities = ["audio", "video", "text"];

    public static StoredFeatureLevel ParseLevel(string text, string where) => text.Trim().ToLowerInvariant() switch
    {
        "none" => StoredFeatureLevel.None,
        "fused" => StoredFeatureLevel.Fused,
        "all" => StoredFeatureLevel.All,
        _ => throw new BadInputException($"{where}: '{text}' is not allowed; allowed values: none, fused, all"),
    };

    public static string Name(StoredFeatureLevel level) => level.ToString().ToLowerInvariant();

    /// <summary>Key in a job's override map that asks its trainer to store features at a level.</summary>
    public const string OverrideKey = "analysis.store_features";
}
