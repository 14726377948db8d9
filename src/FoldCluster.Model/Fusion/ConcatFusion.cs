using FoldCluster.Model.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Fusion;

/// <summary>Concat baseline (Tzirakis et al. [8]): codes concatenated on channels [32 x kC], a 1 x 1 convolution back to C.</summary>
public sealed class ConcatFusion : FusionModule
{
    // A 1 x 1 convolution over [32 x kC] is the same per-step linear map; Linear runs it as one GEMM.
    private readonly Linear mix;

    public ConcatFusion(int modalityCount, int latent) : base(nameof(ConcatFusion))
    {
        mix = nn.Linear(modalityCount * latent, latent);
        RegisterComponents();
    }

    public override long ForwardFlops => FlopCount.Linear(mix, Steps);

    public override Tensor forward(Tensor[] codes)
    {
        using var scope = NewDisposeScope();
        return mix.forward(cat(codes, 2)).MoveToOuterDisposeScope();
    }
}
