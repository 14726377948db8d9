using FoldCluster.Core;
using FoldCluster.Model.Fusion;
using FoldCluster.Model.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace FoldCluster.Model.Tests;

public class GradientTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var method in FusionModule.Methods)
        {
            data.Add(method, "AVT");
        }
        data.Add("cmha", "AV");
        data.Add("mult", "VT");
        data.Add("tfn", "AT");
        data.Add("none", "A");
        data.Add("none", "V");
        data.Add("none", "T");
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_reach_every_parameter_in_both_stages(string method, string modalities)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1, CPU);
        var set = ModalitySet.Parse(modalities);
        using var model = new EmotionModel(set, method, 2048, TrainingProfile.Tiny, g);
        // Weights and inputs from the test's own generators, as the trainer draws them: libtorch's global generator is
        // shared with tests that run at the same time.
        using (var init = new Generator(1, CPU))
        {
            SeededInit.Apply(model, init);
        }
        model.train();
        using var data = new Generator(2, CPU);
        var inputs = new ModelInputs(
            set.HasAudio ? randn([4, 3, 64, 128], generator: data) : null,
            set.HasVideo ? randn([4, 32, 2048], generator: data) : null,
            set.HasText ? randn([4, 32, 300], generator: data) : null);

        // Stage 1: reconstruction reaches encoders, fusion and decoders (eq. 10).
        var rebuilt = model.Reconstruct(model.Fuse(inputs));
        var loss1 = new[] { (rebuilt.Audio, inputs.Audio), (rebuilt.Video, inputs.Video), (rebuilt.Text, inputs.Text) }
            .Where(p => p.Item2 is not null)
            .Select(p => nn.functional.mse_loss(p.Item1!, p.Item2!))
            .Aggregate((a, b) => a + b);
        loss1.backward();
        // The attention key bias (kept as nn.MultiheadAttention has it) adds q.b to every score of a query alike:
        // softmax cancels it, so its gradient is zero up to rounding. Every other parameter must learn.
        var keyBiases = model.named_parameters().Where(p => p.name.EndsWith("key.bias", StringComparison.Ordinal))
            .Select(p => p.parameter.Handle).ToHashSet();
        Assert.NotEmpty(keyBiases);
        AssertAllHaveGradients(model.ReconstructionParameters().Where(p => !keyBiases.Contains(p.Handle)), "stage 1");
        foreach (var p in model.Classifier.parameters())
        {
            Assert.True(p.grad is null || p.grad.abs().sum().item<float>() == 0, "the classifier is not part of stage 1");
        }

        // Stage 2: cross-entropy reaches encoders, fusion and classifier.
        model.zero_grad();
        var loss2 = nn.functional.cross_entropy(model.forward(inputs), tensor(new long[] { 0, 1, 2, 3 }));
        loss2.backward();
        AssertAllHaveGradients(model.ClassificationParameters().Where(p => !keyBiases.Contains(p.Handle)), "stage 2");
    }

    private static void AssertAllHaveGradients(IEnumerable<TorchSharp.Modules.Parameter> parameters, string stage)
    {
        var list = parameters.ToList();
        Assert.NotEmpty(list);
        var i = 0;
        foreach (var p in list)
        {
            Assert.True(p.grad is not null, $"{stage}: parameter {i} {string.Join('x', p.shape)} has no gradient");
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{stage}: parameter {i} {string.Join('x', p.shape)} has an all-zero gradient");
            i++;
        }
    }
}
