using FoldCluster.Core;
using FoldCluster.Core.Sweeps;

namespace FoldCluster.Core.Tests.Sweeps;

public sealed class StoreFeaturesSpecTests
{
    private const string Minimal = """
        name: mine
        datasets:
          - name: iemocap
            layout: iemocap
            root: corpora/IEMOCAP_full_release
            extractor: resnet50
            weights: weights/resnet50.pt
        methods: [cmha]
        modalities: [AVT]
        folds: [2, 3, 4]
        """;

    private static JobKey Fold(SweepSpec spec, int fold) => spec.Expand().Single(k => k.Fold == fold);

    [Fact]
    public void Without_the_field_no_job_stores_features_and_the_normalised_text_does_not_mention_it()
    {
        var spec = SweepSpecParser.Parse(Minimal, "spec.yaml");

        Assert.Equal(StoredFeatureLevel.None, spec.StoreFeatures);
        Assert.All(spec.Expand(), k => Assert.False(spec.OverridesFor(spec.Datasets[0], k).ContainsKey(FeatureKinds.OverrideKey)));
        Assert.DoesNotContain("store_features", spec.ToYaml());
    }

    [Fact]
    public void Store_features_defaults_to_the_first_fold_of_the_sweep()
    {
        var spec = SweepSpecParser.Parse(Minimal + "\nstore_features: fused\n", "spec.yaml");

        Assert.Equal(StoredFeatureLevel.Fused, spec.StoreFeatures);
        Assert.Equal([2], spec.FoldsStoringFeatures);
        Assert.Equal("fused", spec.OverridesFor(spec.Datasets[0], Fold(spec, 2))[FeatureKinds.OverrideKey]);
        Assert.False(spec.OverridesFor(spec.Datasets[0], Fold(spec, 3)).ContainsKey(FeatureKinds.OverrideKey));
    }

    [Fact]
    public void Named_folds_store_and_the_normalised_text_round_trips()
    {
        var spec = SweepSpecParser.Parse(Minimal + "\nstore_features: all\nstore_features_folds: [3, 4]\n", "spec.yaml");

        Assert.Equal([3, 4], spec.FoldsStoringFeatures);
        Assert.Equal("all", spec.OverridesFor(spec.Datasets[0], Fold(spec, 4))[FeatureKinds.OverrideKey]);
        var reparsed = SweepSpecParser.Parse(spec.ToYaml(), "normalised");
        Assert.Equal(spec.ToYaml(), reparsed.ToYaml());
        Assert.Equal(StoredFeatureLevel.All, reparsed.StoreFeatures);
        Assert.NotEqual(SweepSpecParser.Parse(Minimal, "spec.yaml").Hash(), spec.Hash());
    }

    [Theory]
    [InlineData("store_features: some\n", "'some' is not allowed; allowed values: none, fused, all")]
    [InlineData("store_features: all\nstore_features_folds: [7]\n", "'7' is not one of the sweep's folds (2, 3, 4)")]
    [InlineData("store_features_folds: [2]\n", "store_features is none")]
    public void Bad_store_features_fields_are_refused_with_the_allowed_values(string extra, string expected)
    {
        var e = Assert.Throws<BadInputException>(() => SweepSpecParser.Parse(Minimal + "\n" + extra, "spec.yaml"));

        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("smoke")]
    [InlineData("paper")]
    [InlineData("paper-table2")]
    [InlineData("paper-table3")]
    public void Presets_store_all_features_on_fold_0(string preset)
    {
        var spec = SweepPresets.Load(preset);

        Assert.Equal(StoredFeatureLevel.All, spec.StoreFeatures);
        Assert.Equal([0], spec.FoldsStoringFeatures);
    }
}
