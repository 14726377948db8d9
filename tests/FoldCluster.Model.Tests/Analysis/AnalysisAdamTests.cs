using FoldCluster.Model.Analysis;
using FoldCluster.Model.Layers;
using FoldCluster.Model.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace FoldCluster.Model.Tests.Analysis;

public sealed class AnalysisAdamTests
{
    private static float[] Train(bool analysisAdam, double weightDecay, int steps = 25)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7, CPU);
        var net = nn.Sequential(("a", nn.Linear(5, 8)), ("relu", nn.ReLU()), ("b", nn.Linear(8, 2)));
        SeededInit.Apply(net, generator);
        var x = randn([32, 5], generator: generator);
        var y = randn([32, 2], generator: generator);
        using var torchAdam = analysisAdam ? null : PaperAdam.Create(net.parameters(), 0.01, weightDecay);
        using var ownAdam = analysisAdam ? new AnalysisAdam(net.parameters(), 0.01, weightDecay) : null;
        for (var step = 0; step < steps; step++)
        {
            using var stepScope = NewDisposeScope();
            var loss = nn.functional.mse_loss(net.forward(x), y);
            torchAdam?.zero_grad();
            ownAdam?.zero_grad();
            loss.backward();
            torchAdam?.step();
            ownAdam?.step();
        }
        return net.parameters().SelectMany(p => p.detach().contiguous().data<float>().ToArray()).ToArray();
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-2)]
    public void Takes_the_same_steps_as_torch_adam_with_the_paper_settings(double weightDecay)
    {
        var expected = Train(analysisAdam: false, weightDecay);
        var actual = Train(analysisAdam: true, weightDecay);

        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 5);
        }
        // The parameters moved: the comparison is not of two untrained nets.
        var initial = Train(analysisAdam: true, weightDecay, steps: 0);
        Assert.True(initial.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) > 0.05, "25 steps of lr 0.01 hardly moved the parameters");
    }
}
