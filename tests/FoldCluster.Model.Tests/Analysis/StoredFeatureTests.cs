using FoldCluster.Core;

namespace FoldCluster.Model.Tests.Analysis;

public sealed class StoredFeatureTests
{
    [Fact]
    public void Level_all_hands_back_every_kind_for_every_test_utterance_with_its_width()
    {
        var outcome = ModelTrainer.Train(TestData.SmallSet, TestData.Key(), TestData.Quick, "cpu", StoredFeatureLevel.All, null, CancellationToken.None);

        var testIds = outcome.Predictions.Select(p => p.UtteranceId).Order(StringComparer.Ordinal).ToArray();
        var byKind = outcome.Features.GroupBy(v => v.Kind).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(
            ["encoded.audio", "encoded.text", "encoded.video", "fused.stage1", "fused.stage2", "input.audio", "input.text", "input.video"],
            byKind.Keys.Order(StringComparer.Ordinal));
        // Encoder outputs and fused codes share the latent width (300 in the paper profile; smaller in quick tests).
        var latent = byKind["fused.stage2"][0].Values.Length;
        foreach (var (kind, vectors) in byKind)
        {
            Assert.Equal(testIds, vectors.Select(v => v.UtteranceId).Order(StringComparer.Ordinal));
            var expected = kind switch
            {
                "input.audio" => FeatureSet.AudioChannels * FeatureSet.MelBands,
                "input.video" => TestData.SmallSet.VideoWidth,
                "input.text" => FeatureSet.TextWidth,
                _ => latent,
            };
            Assert.All(vectors, v => Assert.Equal(expected, v.Values.Length));
            Assert.All(vectors, v => Assert.All(v.Values, x => Assert.True(float.IsFinite(x))));
        }
        // Stage 2 fine-tunes the encoders and the fusion, so its fused code differs from stage 1's.
        Assert.NotEqual(byKind["fused.stage1"][0].Values, byKind["fused.stage2"].Single(v => v.UtteranceId == byKind["fused.stage1"][0].UtteranceId).Values);
    }

    [Fact]
    public void Level_fused_of_an_np_job_has_only_the_stage_2_code_and_the_default_stores_nothing()
    {
        var fused = ModelTrainer.Train(TestData.SmallSet, TestData.Key(method: "concat", modalities: "AV", pretrained: false), TestData.Quick, "cpu",
            StoredFeatureLevel.Fused, null, CancellationToken.None);
        var none = ModelTrainer.Train(TestData.SmallSet, TestData.Key(method: "concat", modalities: "AV", pretrained: false), TestData.Quick, "cpu",
            null, CancellationToken.None);

        Assert.Equal(["fused.stage2"], fused.Features.Select(v => v.Kind).Distinct());
        Assert.Equal(fused.Predictions.Count, fused.Features.Count);
        Assert.Empty(none.Features);
        // Capturing is read-only: the same job scores the same with and without it.
        Assert.Equal(none.Test.Confusion, fused.Test.Confusion);
    }
}
