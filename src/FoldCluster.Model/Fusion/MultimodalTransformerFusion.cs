using FoldCluster.Core;
using FoldCluster.Model.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Fusion;

/// <summary>
/// One pre-LayerNorm transformer layer as in yaohungt/Multimodal-Transformer: x + drop(MHA(LN(x), LN(src), LN(src))),
/// then x + drop(FF(LN(x))) with a feed-forward width of 4d. With <c>src == x</c> it is a self-attention layer.
/// </summary>
public sealed class CrossModalLayer : nn.Module<Tensor, Tensor, Tensor>, IFlopCounted
{
    private readonly LayerNorm queryNorm;
    private readonly LayerNorm? sourceNorm;
    private readonly MultiHeadAttention attention;
    private readonly SeededDropout residualDropout;
    private readonly LayerNorm feedForwardNorm;
    private readonly Linear feedForward1;
    private readonly SeededDropout reluDropout;
    private readonly Linear feedForward2;

    public CrossModalLayer(int width, int heads, double dropoutRate, Generator generator, bool crossModal) : base(nameof(CrossModalLayer))
    {
        queryNorm = nn.LayerNorm(width);
        // Self-attention normalises its one input once; only cross-modal layers normalise the source separately.
        sourceNorm = crossModal ? nn.LayerNorm(width) : null;
        attention = new MultiHeadAttention(width, heads, dropoutRate, generator, FeatureSet.SequenceLength, FeatureSet.SequenceLength);
        residualDropout = new SeededDropout(dropoutRate, generator);
        feedForwardNorm = nn.LayerNorm(width);
        feedForward1 = nn.Linear(width, 4 * width);
        reluDropout = new SeededDropout(dropoutRate, generator);
        feedForward2 = nn.Linear(4 * width, width);
        RegisterComponents();
    }

    public long ForwardFlops =>
        attention.ForwardFlops + FlopCount.Linear(feedForward1, FeatureSet.SequenceLength) + FlopCount.Linear(feedForward2, FeatureSet.SequenceLength);

    public override Tensor forward(Tensor x, Tensor source)
    {
        using var scope = NewDisposeScope();
        var q = queryNorm.forward(x);
        var kv = sourceNorm is null ? q : sourceNorm.forward(source);
        var y = x + residualDropout.forward(attention.forward(q, kv));
        var ff = feedForward2.forward(reluDropout.forward(nn.functional.relu(feedForward1.forward(feedForwardNorm.forward(y)))));
        return (y + residualDropout.forward(ff)).MoveToOuterDisposeScope();
    }
}

/// <summary>A stack of <see cref="CrossModalLayer"/>s with a final LayerNorm.</summary>
public sealed class CrossModalTransformer : nn.Module<Tensor, Tensor?, Tensor>, IFlopCounted
{
    private readonly ModuleList<CrossModalLayer> layers;
    private readonly LayerNorm finalNorm;

    public CrossModalTransformer(int width, int heads, int depth, double dropoutRate, Generator generator, bool crossModal) : base(nameof(CrossModalTransformer))
    {
        layers = new ModuleList<CrossModalLayer>();
        for (var i = 0; i < depth; i++)
        {
            layers.Add(new CrossModalLayer(width, heads, dropoutRate, generator, crossModal));
        }
        finalNorm = nn.LayerNorm(width);
        RegisterComponents();
    }

    public long ForwardFlops => layers.Sum(l => l.ForwardFlops);

    /// <summary>Query = <paramref name="target"/>; key/value = <paramref name="source"/>, or the target itself when null.</summary>
    public override Tensor forward(Tensor target, Tensor? source)
    {
        using var scope = NewDisposeScope();
        var x = target;
        foreach (var layer in layers)
        {
            x = layer.forward(x, source ?? x);
        }
        return finalNorm.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// MulT baseline (Tsai et al. [15]): for every ordered pair a cross-modal transformer (query = target, key/value =
/// source); each target's outputs are concatenated and passed through a self-attention transformer; the targets'
/// sequences are concatenated [32 x k(k-1)C] and mixed to the fused code [32 x C] by a 1 x 1 convolution.
/// </summary>
public sealed class MultimodalTransformerFusion : FusionModule
{
    private readonly ModuleList<CrossModalTransformer> crossModal;
    private readonly ModuleList<CrossModalTransformer> memory;
    private readonly Linear mix;
    private readonly int _modalities;

    public MultimodalTransformerFusion(int modalityCount, TrainingProfile profile, Generator generator) : base(nameof(MultimodalTransformerFusion))
    {
        _modalities = modalityCount;
        crossModal = new ModuleList<CrossModalTransformer>();
        memory = new ModuleList<CrossModalTransformer>();
        for (var target = 0; target < modalityCount; target++)
        {
            for (var source = 0; source < modalityCount; source++)
            {
                if (source != target)
                {
                    crossModal.Add(new CrossModalTransformer(profile.Latent, profile.MultHeads, profile.MultLayers, profile.MultDropout, generator, crossModal: true));
                }
            }
            memory.Add(new CrossModalTransformer((modalityCount - 1) * profile.Latent, profile.MultHeads, profile.MultLayers, profile.MultDropout, generator, crossModal: false));
        }
        mix = nn.Linear(modalityCount * (modalityCount - 1) * profile.Latent, profile.Latent);
        RegisterComponents();
    }

    public override long ForwardFlops =>
        crossModal.Sum(t => t.ForwardFlops) + memory.Sum(t => t.ForwardFlops) + FlopCount.Linear(mix, Steps);

    public override Tensor forward(Tensor[] codes)
    {
        using var scope = NewDisposeScope();
        var perTarget = new Tensor[_modalities];
        var pair = 0;
        for (var target = 0; target < _modalities; target++)
        {
            var fromSources = new List<Tensor>();
            for (var source = 0; source < _modalities; source++)
            {
                if (source != target)
                {
                    fromSources.Add(crossModal[pair++].forward(codes[target], codes[source]));
                }
            }
            perTarget[target] = memory[target].forward(cat(fromSources, 2), null);
        }
        return mix.forward(cat(perTarget, 2)).MoveToOuterDisposeScope();
    }
}
