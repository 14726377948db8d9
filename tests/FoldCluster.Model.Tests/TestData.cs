using FoldCluster.Core;

namespace FoldCluster.Model.Tests;

/// <summary>Generated feature sets shared by the tests (building one takes a moment).</summary>
internal static class TestData
{
    private static readonly Lazy<FeatureSet> Learning = new(() => SyntheticFeatures.Generate(600, 7));
    private static readonly Lazy<FeatureSet> Small = new(() => SyntheticFeatures.Generate(120, 3));

    /// <summary>600 utterances, as in the learning test.</summary>
    public static FeatureSet LearningSet => Learning.Value;

    /// <summary>120 utterances, for fast behavioural tests.</summary>
    public static FeatureSet SmallSet => Small.Value;

    public static JobKey Key(string method = "cmha", string modalities = "AVT", int fold = 0, bool pretrained = true, int seed = 1, string split = "utterance") =>
        new("synthetic", split, fold, method, modalities, pretrained, "synthetic-2048", seed, "tiny");

    /// <summary>Few epochs, so behavioural tests stay quick.</summary>
    public static readonly IReadOnlyDictionary<string, string> Quick = new Dictionary<string, string>
    {
        ["epochs_stage1"] = "1",
        ["epochs_stage2"] = "2",
    };
}
