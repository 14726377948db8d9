using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Layers;

/// <summary>
/// Re-draws every linear and (transposed) convolution layer's weights and biases from a job's own generator with
/// PyTorch's default scheme (kaiming_uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same
/// bound for the bias). Layers draw from libtorch's global generator when built; other threads may draw from it at
/// the same time, so a job's initial weights would otherwise depend on what else runs in the process.
/// Norm layers start at ones and zeros and need nothing.
/// </summary>
public static class SeededInit
{
    public static void Apply(nn.Module model, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var module in model.modules())
        {
            var (weight, bias) = module switch
            {
                Linear l => (l.weight, l.bias),
                Conv1d c => (c.weight, c.bias),
                Conv2d c => (c.weight, c.bias),
                ConvTranspose1d c => (c.weight, c.bias),
                ConvTranspose2d c => (c.weight, c.bias),
                _ => ((Parameter?)null, (Parameter?)null),
            };
            if (weight is null)
            {
                continue;
            }
            // fan_in as torch.nn.init computes it: size(1) x receptive field (for transposed convolutions too).
            var fanIn = weight.shape[1];
            for (var d = 2; d < weight.shape.Length; d++)
            {
                fanIn *= weight.shape[d];
            }
            var bound = 1.0 / Math.Sqrt(fanIn);
            weight.uniform_(-bound, bound, generator);
            bias?.uniform_(-bound, bound, generator);
        }
    }
}
