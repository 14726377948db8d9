using FoldCluster.Core;

namespace FoldCluster.Model.Tests;

public class ModelCardTests
{
    [Theory]
    [InlineData("mult", "AVT")]
    [InlineData("tfn", "AV")]
    [InlineData("cmha", "AT")]
    [InlineData("concat", "VT")]
    public void Card_parts_add_up_to_the_model(string method, string modalities)
    {
        var set = ModalitySet.Parse(modalities);
        var card = ModelCard.Describe(method, set, TrainingProfile.Tiny, 2048);
        using var g = new TorchSharp.torch.Generator(1, TorchSharp.torch.CPU);
        using var model = new EmotionModel(set, method, 2048, TrainingProfile.Tiny, g);
        Assert.Equal(model.parameters().Sum(p => p.numel()), card.Parameters);
        Assert.Equal(card.Parameters, card.Parts.Sum(p => p.Parameters));
        Assert.Equal(model.ForwardFlops, card.ForwardFlops);
        var fusion = card.Parts.Single(p => p.Name == "fusion");
        Assert.Equal(model.FusionPart!.parameters().Sum(p => p.numel()), fusion.Parameters);
        Assert.Equal(model.FusionPart.ForwardFlops, fusion.Flops);
        Assert.NotNull(fusion.Reference);
        Assert.NotEmpty(fusion.Differences!);
        // Children of the fusion module add up to it.
        Assert.Equal(fusion.Parameters, fusion.Children.Sum(c => c.Parameters));
        // tiny differs from the references' sizes, and the card says so.
        if (method is "mult" or "tfn")
        {
            Assert.Contains(fusion.Differences!, d => d.StartsWith("profile tiny", StringComparison.Ordinal));
        }
        if (set.Count == 2 && method is "mult" or "tfn")
        {
            Assert.Contains(fusion.Differences!, d => d.StartsWith("two modalities", StringComparison.Ordinal));
        }
        Assert.Equal(new Training.OptimizerSettings("adam", TrainingProfile.Tiny.LearningRate, 0.9, 0.999, 1e-8, TrainingProfile.Tiny.WeightDecay), card.Optimizer);
    }

    [Fact]
    public void A_single_modality_has_no_fusion_part()
    {
        var card = ModelCard.Describe("none", ModalitySet.Parse("T"), TrainingProfile.Tiny, 2048);
        Assert.Equal(["textEncoder", "textDecoder", "classifier"], card.Parts.Select(p => p.Name));
        Assert.All(card.Parts, p => Assert.Null(p.Reference));
    }

    [Fact]
    public void Bad_video_width_is_bad_input()
    {
        var e = Assert.Throws<BadInputException>(() => ModelCard.Describe("cmha", ModalitySet.Parse("AV"), TrainingProfile.Tiny, 0));
        Assert.Contains("video width 0", e.Message);
    }
}
