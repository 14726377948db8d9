using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Layers;

/// <summary>
/// Re-draws every linear and (transposed) convolution layer's weights and biases from a job's own generator with
/// PyTorch's default scheme (kaiming_uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same
/// bound for the bias). Layers draw from libtorch's global generator when built; other threads may draw from it at
/// the same time, so a job's initial weights would otherwise depend on what else runs in the process.
/// LSTM weights and biases take PyTorch's U(-1/sqrt(hidden), 1/sqrt(hidden)). Norm layers start at ones and zeros and
/// need nothing. Modules whose reference initialises them otherwise (<see cref="IReferenceInitialised"/>: attention as
/// <c>torch.nn.MultiheadAttention</c>, MulT's layers) re-draw their layers afterwards, in module order.
/// </summary>
public static class SeededInit
{
    public static void Apply(nn.Module model, Generator generator)
    {
        using var noGrad = no_grad();
        var modules = model.modules().ToList();
        if (!modules.Contains(model))
        {
            modules.Insert(0, model);
        }
        foreach (var module in modules)
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
            if (module is LSTM lstm)
            {
                DrawLstm(lstm, generator);
                continue;
            }
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
        foreach (var module in modules)
        {
            if (module is IReferenceInitialised reference)
            {
                reference.ResetParameters(generator);
            }
        }
    }

    private static void DrawLstm(LSTM lstm, Generator generator)
    {
        // weight_hh_l0 is [4 hidden, hidden].
        var hidden = lstm.named_parameters().First(p => p.name.StartsWith("weight_hh", StringComparison.Ordinal)).parameter.shape[1];
        var bound = 1.0 / Math.Sqrt(hidden);
        foreach (var p in lstm.parameters())
        {
            p.uniform_(-bound, bound, generator);
        }
    }
}
