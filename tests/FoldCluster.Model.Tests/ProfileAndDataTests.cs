using FoldCluster.Core;
using FoldCluster.Model.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace FoldCluster.Model.Tests;

public class ProfileAndDataTests
{
    [Fact]
    public void Paper_profile_holds_the_paper_numbers()
    {
        var p = TrainingProfile.Get("paper");
        Assert.Equal(300, p.Latent);
        Assert.Equal(6, p.Heads);
        Assert.Equal(64, p.BatchSize);
        Assert.Equal(1e-3, p.LearningRate);
        Assert.Equal(1e-4, p.WeightDecay);
        Assert.Equal(0.5, p.Dropout);
        Assert.Equal(200, p.EpochsStage1);
        Assert.Equal(200, p.EpochsStage2);
    }

    [Fact]
    public void Overrides_replace_only_the_named_settings()
    {
        var p = TrainingProfile.Tiny.WithOverrides(new Dictionary<string, string> { ["epochs_stage2"] = "7", ["lr"] = "0.005", ["audio_channels"] = "2,2,4,4,4" });
        Assert.Equal(7, p.EpochsStage2);
        Assert.Equal(0.005, p.LearningRate);
        Assert.Equal(new[] { 2, 2, 4, 4, 4 }, p.AudioChannels);
        Assert.Equal(TrainingProfile.Tiny.Latent, p.Latent);
        Assert.Equal("tiny", p.Name);
    }

    [Fact]
    public void Synthetic_features_have_the_real_shapes_and_repeat_for_a_seed()
    {
        var a = SyntheticFeatures.Generate(20, 5, videoWidth: 4096);
        var b = SyntheticFeatures.Generate(20, 5, videoWidth: 4096);
        Assert.Equal(4096, a.VideoWidth);
        Assert.All(a.Utterances, u =>
        {
            Assert.Equal(3 * 64 * 128, u.Audio!.Length);
            Assert.Equal(32 * 4096, u.Video!.Length);
            Assert.Equal(32 * 300, u.Text!.Length);
        });
        Assert.Equal(a.Utterances.Select(u => u.Label), b.Utterances.Select(u => u.Label));
        Assert.Equal(a.Utterances[7].Video, b.Utterances[7].Video);
        Assert.Equal(10, SyntheticFeatures.Generate(100, 1).Utterances.Select(u => u.Speaker).Distinct().Count());
    }

    [Fact]
    public void Seeded_init_makes_weights_independent_of_the_global_generator()
    {
        using var scope = NewDisposeScope();
        using var dropout = new Generator(1, CPU);
        manual_seed(1);
        using var a = new EmotionModel(ModalitySet.Parse("AV"), "cmha", 2048, TrainingProfile.Tiny, dropout);
        manual_seed(2);
        using var b = new EmotionModel(ModalitySet.Parse("AV"), "cmha", 2048, TrainingProfile.Tiny, dropout);
        using (var g = new Generator(9, CPU))
        {
            SeededInit.Apply(a, g);
        }
        using (var g = new Generator(9, CPU))
        {
            SeededInit.Apply(b, g);
        }
        var pa = a.parameters().ToList();
        var pb = b.parameters().ToList();
        Assert.Equal(pa.Count, pb.Count);
        for (var i = 0; i < pa.Count; i++)
        {
            Assert.True(pa[i].eq(pb[i]).all().item<bool>(), $"parameter {i} differs");
        }
        // The bound is 1/sqrt(fan_in): a Linear(600 -> 300) weight stays within 1/sqrt(600).
        var linear = nn.Linear(600, 300);
        using (var g = new Generator(3, CPU))
        {
            SeededInit.Apply(linear, g);
        }
        Assert.True(linear.weight!.abs().max().item<float>() <= 1 / Math.Sqrt(600) + 1e-7);
    }

    [Fact]
    public void Flop_counter_reads_layer_shapes()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(2L * 32 * 300 * 600, FlopCount.Linear(nn.Linear(600, 300), 32));
        Assert.Equal(2L * 16 * 8 * 3 * 3 * 3, FlopCount.Convolution(nn.Conv2d(3, 8, 3).weight!, 16));
        using var g = new Generator(1, CPU);
        // Four 300 x 300 projections over 32 steps plus the two 32 x 32 x 300 attention products.
        var attention = new MultiHeadAttention(300, 6, 0, g, 32, 32);
        Assert.Equal(4 * 2L * 32 * 300 * 300 + 4L * 32 * 32 * 300, attention.ForwardFlops);
    }
}
