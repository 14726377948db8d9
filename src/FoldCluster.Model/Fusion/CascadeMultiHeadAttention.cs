using FoldCluster.Model.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Fusion;

/// <summary>
/// One pair stage of CMHA (eq. 3-5): CI^{x->y} = MultiHead(Q = y, K = V = x), CI^{y->x} = MultiHead(Q = x, K = V = y),
/// concatenated on channels [32 x 2C] and mixed back to [32 x C] by a 1 x 1 convolution.
/// </summary>
public sealed class CrossPairStage : nn.Module<Tensor, Tensor, Tensor>, IFlopCounted
{
    private readonly MultiHeadAttention xToY;
    private readonly MultiHeadAttention yToX;
    private readonly Linear mix;

    public CrossPairStage(int latent, int heads, Generator generator) : base(nameof(CrossPairStage))
    {
        var steps = Core.FeatureSet.SequenceLength;
        xToY = new MultiHeadAttention(latent, heads, 0, generator, steps, steps);
        yToX = new MultiHeadAttention(latent, heads, 0, generator, steps, steps);
        mix = nn.Linear(2 * latent, latent);
        RegisterComponents();
    }

    public long ForwardFlops => xToY.ForwardFlops + yToX.ForwardFlops + FlopCount.Linear(mix, Core.FeatureSet.SequenceLength);

    public override Tensor forward(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        var ciXToY = xToY.forward(y, x);
        var ciYToX = yToX.forward(x, y);
        return mix.forward(cat([ciXToY, ciYToX], 2)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Cascade Multi-head Attention (paper Section III-B). Two modalities: one pair stage. Three (M = audio,
/// I = video, T = text): the orders MTI, MIT and TIM each fuse a pair (eq. 5) and then the third modality
/// with the pair's code (eq. 6-7); the three results are concatenated [32 x 3C] and mixed to [32 x C].
/// </summary>
public sealed class CascadeMultiHeadAttention : FusionModule
{
    // Inputs arrive as (A, V, T) = (M, I, T). Each order: first pair, then the third modality.
    private static readonly (int First, int Second, int Third)[] Orders = [(0, 2, 1), (0, 1, 2), (2, 1, 0)];

    private readonly ModuleList<CrossPairStage> pairStages;
    private readonly ModuleList<CrossPairStage> thirdStages;
    private readonly Linear? mix;

    public CascadeMultiHeadAttention(int modalityCount, TrainingProfile profile, Generator generator) : base(nameof(CascadeMultiHeadAttention))
    {
        if (modalityCount is < 2 or > 3)
        {
            throw new ArgumentOutOfRangeException(nameof(modalityCount), modalityCount, "CMHA fuses two or three modalities");
        }
        pairStages = new ModuleList<CrossPairStage>();
        thirdStages = new ModuleList<CrossPairStage>();
        var orders = modalityCount == 2 ? 1 : Orders.Length;
        for (var i = 0; i < orders; i++)
        {
            pairStages.Add(new CrossPairStage(profile.Latent, profile.Heads, generator));
            if (modalityCount == 3)
            {
                thirdStages.Add(new CrossPairStage(profile.Latent, profile.Heads, generator));
            }
        }
        mix = modalityCount == 3 ? nn.Linear(3 * profile.Latent, profile.Latent) : null;
        RegisterComponents();
    }

    public override long ForwardFlops =>
        pairStages.Sum(s => s.ForwardFlops) + thirdStages.Sum(s => s.ForwardFlops) + (mix is null ? 0 : FlopCount.Linear(mix, Steps));

    public override Tensor forward(Tensor[] codes)
    {
        using var scope = NewDisposeScope();
        if (codes.Length == 2)
        {
            return pairStages[0].forward(codes[0], codes[1]).MoveToOuterDisposeScope();
        }
        var results = new Tensor[Orders.Length];
        for (var i = 0; i < Orders.Length; i++)
        {
            var (first, second, third) = Orders[i];
            var pair = pairStages[i].forward(codes[first], codes[second]);   // CI^{MT}, eq. (5)
            results[i] = thirdStages[i].forward(pair, codes[third]);          // CI^{MTI}, eq. (6)-(7)
        }
        return mix!.forward(cat(results, 2)).MoveToOuterDisposeScope();
    }
}
