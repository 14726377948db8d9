using FoldCluster.Core;
using FoldCluster.Model.Fusion;
using FoldCluster.Model.Layers;
using FoldCluster.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Tests;

/// <summary>The optimiser, initialisation and baselines follow the paper's framework and the baselines' references.</summary>
public class ReferenceFidelityTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void The_trainers_optimiser_is_Adam_with_PyTorchs_betas_and_eps(int stage)
    {
        using var run = TrainingRun.Create(TestData.SmallSet, TestData.Key(method: "concat", modalities: "AV"), null, "cpu", null, CancellationToken.None);
        using var optimizer = run.CreateOptimizer(stage);
        var groups = optimizer.ParamGroups.ToList();
        var group = Assert.IsAssignableFrom<ParamGroup>(Assert.Single(groups));
        var options = Assert.IsType<Adam.Options>(group.Options);
        Assert.Equal(0.9, options.beta1);
        Assert.Equal(0.999, options.beta2);
        Assert.Equal(1e-8, options.eps);
        Assert.Equal(TrainingProfile.Tiny.WeightDecay, options.weight_decay);
        Assert.Equal(TrainingProfile.Tiny.LearningRate, options.LearningRate);
        Assert.False(options.amsgrad);
        var expected = stage == 1 ? run.Model.ReconstructionParameters() : run.Model.ClassificationParameters();
        Assert.Equal(expected.Sum(p => p.numel()), group.Parameters.Sum(p => p.numel()));
    }

    [Fact]
    public void Paper_adam_settings_are_the_ones_it_builds_with()
    {
        var settings = PaperAdam.Settings(TrainingProfile.Paper);
        Assert.Equal(new OptimizerSettings("adam", 1e-3, 0.9, 0.999, 1e-8, 1e-4), settings);
    }

    [Theory]
    [InlineData("cmha", "AVT")]
    [InlineData("mult", "AVT")]
    public void Attention_layers_start_xavier_uniform_with_zero_biases(string method, string modalities)
    {
        using var run = TrainingRun.Create(TestData.SmallSet, TestData.Key(method: method, modalities: modalities), null, "cpu", null, CancellationToken.None);
        var attentions = run.Model.modules().OfType<MultiHeadAttention>().ToList();
        // cmha: 5 audio blocks, 2 video blocks, 5 text layers and 3 orders x 2 stages x 2; mult: the encoders' 12 and 6 + 3 x 3 layers.
        Assert.Equal(method == "cmha" ? 24 : 27, attentions.Count);
        foreach (var attention in attentions)
        {
            var e = attention.Width;
            var parameters = attention.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            // nn.MultiheadAttention: in_proj_weight [3E, E] ~ xavier_uniform, bound sqrt(6 / (E + 3E)).
            var inBound = Math.Sqrt(6.0 / (e + 3.0 * e));
            foreach (var name in new[] { "query", "key", "value" })
            {
                var max = parameters[$"{name}.weight"].abs().max().item<float>();
                Assert.True(max <= inBound + 1e-6, $"{name} weight of width {e}: max |w| {max} above the xavier bound {inBound}");
                // Below the bound, but not by much: a narrower scheme (PyTorch's Linear default is 1/sqrt(E)) would fail here.
                Assert.True(max > 0.8 * inBound, $"{name} weight of width {e}: max |w| {max} far below the xavier bound {inBound}");
                Assert.Equal(0f, parameters[$"{name}.bias"].abs().max().item<float>());
            }
            Assert.Equal(0f, parameters["output.bias"].abs().max().item<float>());
            var outMax = parameters["output.weight"].abs().max().item<float>();
            // MulT's own attention draws W^O xavier (bound sqrt(6 / 2E)); nn.MultiheadAttention keeps Linear's default 1/sqrt(E).
            var outBound = method == "mult" && attentions.IndexOf(attention) >= 12 ? Math.Sqrt(6.0 / (2.0 * e)) : 1 / Math.Sqrt(e);
            Assert.True(outMax <= outBound + 1e-6 && outMax > 0.8 * outBound, $"output weight of width {e}: max |w| {outMax}, expected near {outBound}");
        }
    }

    [Fact]
    public void Mult_positional_embedding_is_the_sinusoidal_formula()
    {
        using var scope = NewDisposeScope();
        const int width = 16;
        var table = SinusoidalPositions.Table(32, width);
        Assert.Equal(new long[] { 32, width }, table.shape);
        foreach (var step in new[] { 0, 5 })
        {
            // position_embedding.py: positions start at padding_idx + 1 = 1; half = d / 2 frequencies
            // w_i = 10000^(-i / (half - 1)); sin in the first half, cos in the second.
            var position = step + 1.0;
            const int half = width / 2;
            for (var i = 0; i < half; i++)
            {
                var w = Math.Pow(10000, -i / (half - 1.0));
                Assert.Equal(Math.Sin(position * w), table[step, i].item<float>(), 5);
                Assert.Equal(Math.Cos(position * w), table[step, half + i].item<float>(), 5);
            }
        }
        // An odd width gets a zero last channel.
        var odd = SinusoidalPositions.Table(32, 15);
        Assert.Equal(0f, odd[5, 14].item<float>());
        Assert.Equal(Math.Sin(6.0), odd[5, 0].item<float>(), 5);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Mult_causal_mask_keeps_step_t_independent_of_later_steps(bool crossModal)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(2, CPU);
        manual_seed(2);
        using var transformer = new MultTransformer(16, 2, 2, 0.1, 0.1, 0.1, 0.25, g);
        transformer.eval();
        using var noGrad = no_grad();
        var target = randn(2, 32, 16);
        var source = randn(2, 32, 16);
        var before = transformer.Forward(target, crossModal ? source : null);
        const int t = 11;
        var changedTarget = target.clone();
        var changedSource = source.clone();
        changedTarget[.., (t + 1)..] = randn(2, 32 - t - 1, 16);
        changedSource[.., (t + 1)..] = randn(2, 32 - t - 1, 16);
        var after = transformer.Forward(changedTarget, crossModal ? changedSource : null);
        var earlier = (before[.., ..(t + 1)] - after[.., ..(t + 1)]).abs().max().item<float>();
        var later = (before[.., (t + 1)..] - after[.., (t + 1)..]).abs().max().item<float>();
        Assert.True(earlier < 1e-5, $"steps 0..{t} moved by {earlier} when only later steps changed");
        Assert.True(later > 1e-2, $"later steps moved only by {later}: the change did not reach the model");
    }

    [Theory]
    [InlineData("AVT")]
    [InlineData("AV")]
    public void Mult_parameter_count_is_the_references_layer_list(string modalities)
    {
        // The reference's own sizes: d = 30, 5 heads, --nlevels 5.
        var profile = TrainingProfile.Tiny.WithOverrides(new Dictionary<string, string>
        {
            ["latent"] = "30", ["heads"] = "2", ["mult_heads"] = "5", ["mult_layers"] = "5",
        });
        using var g = new Generator(1, CPU);
        var set = ModalitySet.Parse(modalities);
        using var fusion = FusionModule.Create("mult", set, profile, g);
        const long d = 30;
        var k = (long)set.Count;

        // modules/transformer.py, TransformerEncoderLayer(E): MultiheadAttention in_proj_weight 3E x E and in_proj_bias 3E,
        // out_proj E x E + E; fc1 E -> 4E (+4E); fc2 4E -> E (+E); layer_norms: 2 x (E + E).
        static long Layer(long e) => (3 * e * e + 3 * e) + (e * e + e) + (e * 4 * e + 4 * e) + (4 * e * e + e) + 2 * (2 * e);
        // TransformerEncoder: its layers and one final LayerNorm (E + E); the positional embedding has no parameters.
        static long Encoder(long e, long layers) => layers * Layer(e) + 2 * e;

        // models.py: trans_x_with_y for every ordered pair (width d, nlevels layers); trans_x_mem per target
        // (width (k - 1) d, max(nlevels, 3) layers); proj1, proj2: combined x combined (+ combined);
        // then the map to [32 x d] instead of out_layer. The 1 x 1 proj_x convolutions are skipped because
        // orig_d == d (the encoders already give d channels).
        var combined = k * (k - 1) * d;
        var expected = k * (k - 1) * Encoder(d, 5)
            + k * Encoder((k - 1) * d, Math.Max(5, 3))
            + 2 * (combined * combined + combined)
            + (combined * 32 * d + 32 * d);
        Assert.Equal(expected, fusion.parameters().Sum(p => p.numel()));
    }

    [Theory]
    [InlineData("AVT")]
    [InlineData("AT")]
    [InlineData("AV")]
    public void Tfn_parameter_count_is_the_references_layer_list(string modalities)
    {
        using var g = new Generator(1, CPU);
        var paper = TrainingProfile.Paper;
        var set = ModalitySet.Parse(modalities);
        using var fusion = FusionModule.Create("tfn", set, paper, g);
        const long c = 300;   // the encoders' code width, the subnetworks' input

        // FeatureNets.py SubNet(in, h): BatchNorm1d(in) weight + bias, Linear in -> h, h -> h, h -> h.
        static long SubNet(long input, long h) => 2 * input + (input * h + h) + 2 * (h * h + h);
        // TextSubNet(in, H, out): LSTM(in, H) weight_ih 4H x in, weight_hh 4H x H, bias_ih 4H, bias_hh 4H; Linear H -> out.
        static long TextSubNet(long input, long h, long output) => (4 * h * input + 4 * h * h + 8 * h) + (h * output + output);

        // MMSA config_regression.json, tfn, mosi: hidden_dims (text 128, audio 32, video 128), text_out 32, post_fusion_dim 64.
        long product = 1;
        long expected = 0;
        if (set.HasAudio)
        {
            expected += SubNet(c, 32);
            product *= 32 + 1;
        }
        if (set.HasVideo)
        {
            expected += SubNet(c, 128);
            product *= 128 + 1;
        }
        if (set.HasText)
        {
            expected += TextSubNet(c, 128, 32);
            product *= 32 + 1;
        }
        // TFN.py: post_fusion_layer_1 (product -> 64), _2 (64 -> 64), _3 (64 -> output, here 32 x 300).
        expected += (product * 64 + 64) + (64 * 64 + 64) + (64 * 32 * c + 32 * c);
        Assert.Equal(expected, fusion.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Tfn_lstm_and_mult_feed_forward_start_as_their_references()
    {
        using var run = TrainingRun.Create(TestData.SmallSet, TestData.Key(method: "tfn", modalities: "AVT"), null, "cpu", null, CancellationToken.None);
        var lstm = run.Model.modules().OfType<LSTM>().Single();
        var hidden = TrainingProfile.Tiny.TfnTextHidden;
        foreach (var p in lstm.parameters())
        {
            Assert.True(p.abs().max().item<float>() <= 1 / Math.Sqrt(hidden) + 1e-6);
        }
        using var mult = TrainingRun.Create(TestData.SmallSet, TestData.Key(method: "mult", modalities: "AV"), null, "cpu", null, CancellationToken.None);
        var layer = mult.Model.modules().OfType<MultLayer>().First();
        var fc1 = layer.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var e = TrainingProfile.Tiny.Latent;
        var bound = Math.Sqrt(6.0 / (e + 4.0 * e));
        var max = fc1["fc1.weight"].abs().max().item<float>();
        Assert.True(max <= bound + 1e-6 && max > 0.9 * bound, $"fc1 max |w| {max}, xavier bound {bound}");
        Assert.Equal(0f, fc1["fc1.bias"].abs().max().item<float>());
    }
}
