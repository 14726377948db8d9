using TorchSharp;
using static TorchSharp.torch;

namespace FoldCluster.Model.Tests;

public class TorchSharpTests
{
    [Fact]
    public void Backward_of_sum_of_squares_gives_twice_the_input()
    {
        // Also proves the native library loads on this platform (see the build's libstdc++ patch).
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { -1.5f, 0f, 2f, 3.25f }).requires_grad_(true);
        x.square().sum().backward();
        Assert.Equal(new[] { -3f, 0f, 4f, 6.5f }, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Linear_layer_forward_matches_hand_computation()
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(2, 1);
        using (no_grad())
        {
            layer.weight!.copy_(tensor(new float[,] { { 2f, -1f } }));
            layer.bias!.copy_(tensor(new float[] { 0.5f }));
        }
        var y = layer.forward(tensor(new float[,] { { 3f, 4f } }));
        Assert.Equal(2.5f, y.item<float>());
    }
}
