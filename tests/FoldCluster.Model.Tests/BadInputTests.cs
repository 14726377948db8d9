using FoldCluster.Core;

namespace FoldCluster.Model.Tests;

public class BadInputTests
{
    private static BadInputException Fails(FeatureSet features, JobKey key, IReadOnlyDictionary<string, string>? overrides = null, string device = "cpu") =>
        Assert.Throws<BadInputException>(() => ModelTrainer.Train(features, key, overrides ?? TestData.Quick, device, null, CancellationToken.None));

    [Fact]
    public void Unknown_method_names_the_allowed_ones()
    {
        var e = Fails(TestData.SmallSet, TestData.Key(method: "lstm"));
        Assert.Contains("'lstm'", e.Message);
        Assert.Contains("concat, tfn, mult, cmha", e.Message);
    }

    [Fact]
    public void Unknown_modality_set_is_bad_input()
    {
        Assert.Contains("'AX'", Fails(TestData.SmallSet, TestData.Key(modalities: "AX")).Message);
    }

    [Fact]
    public void A_method_that_cannot_take_the_set_is_bad_input()
    {
        Assert.Contains("single modality", Fails(TestData.SmallSet, TestData.Key(method: "cmha", modalities: "A")).Message);
        Assert.Contains("cannot take AV", Fails(TestData.SmallSet, TestData.Key(method: "none", modalities: "AV")).Message);
    }

    [Fact]
    public void Non_finite_features_name_the_utterance()
    {
        var good = SyntheticFeatures.Generate(40, 1);
        var audio = (float[])good.Utterances[5].Audio!.Clone();
        audio[17] = float.NaN;
        var bad = good with { Utterances = good.Utterances.Select((u, i) => i == 5 ? u with { Audio = audio } : u).ToList() };
        var e = Fails(bad, TestData.Key());
        Assert.Contains(good.Utterances[5].UtteranceId, e.Message);
        Assert.Contains("NaN", e.Message);

        var text = (float[])good.Utterances[2].Text!.Clone();
        text[0] = float.PositiveInfinity;
        bad = good with { Utterances = good.Utterances.Select((u, i) => i == 2 ? u with { Text = text } : u).ToList() };
        Assert.Contains("infinite", Fails(bad, TestData.Key()).Message);
    }

    [Fact]
    public void Shapes_that_do_not_match_are_bad_input()
    {
        var good = SyntheticFeatures.Generate(40, 1);
        var bad = good with { Utterances = good.Utterances.Select((u, i) => i == 3 ? u with { Video = new float[100] } : u).ToList() };
        var e = Fails(bad, TestData.Key());
        Assert.Contains("100 video values", e.Message);
        Assert.Contains("[32][2048]", e.Message);

        var missing = good with { Utterances = good.Utterances.Select(u => u with { Text = null }).ToList() };
        Assert.Contains("no text features", Fails(missing, TestData.Key()).Message);
        // ... but a job that does not use text is fine without it.
        ModelTrainer.Train(missing, TestData.Key(method: "concat", modalities: "AV"), TestData.Quick, "cpu", null, CancellationToken.None);
    }

    [Fact]
    public void An_empty_class_in_the_training_folds_is_bad_input()
    {
        var good = SyntheticFeatures.Generate(60, 2);
        var noSad = good with { Utterances = good.Utterances.Where(u => u.Label != Emotion.Sad).ToList() };
        var e = Fails(noSad, TestData.Key());
        Assert.Contains("'sad'", e.Message);
        Assert.Contains("training folds", e.Message);
    }

    [Fact]
    public void Unknown_profile_override_and_device_are_bad_input()
    {
        Assert.Contains("paper, tiny", Assert.Throws<BadInputException>(() => TrainingProfile.Get("huge")).Message);
        var e = Fails(TestData.SmallSet, TestData.Key(), new Dictionary<string, string> { ["epochs"] = "3" });
        Assert.Contains("'epochs'", e.Message);
        Assert.Contains("epochs_stage1", e.Message);
        Assert.Contains("latent width 30 is not divisible by heads 4",
            Assert.Throws<BadInputException>(() => TrainingProfile.Tiny.WithOverrides(new Dictionary<string, string> { ["latent"] = "30", ["heads"] = "4" })).Message);
        Assert.Contains("'tpu'", Fails(TestData.SmallSet, TestData.Key(), device: "tpu").Message);
    }
}
