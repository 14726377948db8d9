using TorchSharp;
using static TorchSharp.torch;

namespace FoldCluster.Model.Layers;

/// <summary>
/// Inverted dropout whose masks come from the job's own generator, not libtorch's global one, so a job is
/// reproducible for its seed even while other jobs train on other threads of the same process.
/// </summary>
public sealed class SeededDropout : nn.Module<Tensor, Tensor>
{
    private readonly double _p;
    private readonly Generator _generator;

    public SeededDropout(double p, Generator generator) : base(nameof(SeededDropout))
    {
        _p = p;
        _generator = generator;
    }

    public override Tensor forward(Tensor input)
    {
        if (!training || _p <= 0)
        {
            return input.alias();
        }
        using var keep = empty_like(input).bernoulli_(1 - _p, _generator);
        return input * keep / (1 - _p);
    }
}
