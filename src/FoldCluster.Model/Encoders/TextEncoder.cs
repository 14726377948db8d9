using FoldCluster.Core;
using FoldCluster.Model.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Encoders;

/// <summary>One self-attention layer of the text encoder: x + dropout(MHA(x, x, x)), then LayerNorm.</summary>
public sealed class SelfAttentionLayer : nn.Module<Tensor, Tensor>, IFlopCounted
{
    private readonly MultiHeadAttention attention;
    private readonly SeededDropout dropout;
    private readonly LayerNorm norm;

    public SelfAttentionLayer(int width, int heads, double dropoutRate, Generator generator) : base(nameof(SelfAttentionLayer))
    {
        attention = new MultiHeadAttention(width, heads, 0, generator, FeatureSet.SequenceLength, FeatureSet.SequenceLength);
        dropout = new SeededDropout(dropoutRate, generator);
        norm = nn.LayerNorm(width);
        RegisterComponents();
    }

    public long ForwardFlops => attention.ForwardFlops;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return norm.forward(input + dropout.forward(attention.forward(input, input))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Text encoder: Word2Vec sequences [N, 32, 300] through five multi-head attention layers (Section IV-C)
/// to [N, 32, C]. When C is not 300 (small profiles) a per-word linear map first brings 300 to C.
/// </summary>
public sealed class TextEncoder : nn.Module<Tensor, Tensor>, IFlopCounted
{
    public const int Layers = 5;

    private readonly Linear? projection;
    private readonly ModuleList<SelfAttentionLayer> layers;

    public TextEncoder(TrainingProfile profile, Generator generator) : base(nameof(TextEncoder))
    {
        projection = profile.Latent == FeatureSet.TextWidth ? null : nn.Linear(FeatureSet.TextWidth, profile.Latent);
        layers = new ModuleList<SelfAttentionLayer>();
        for (var i = 0; i < Layers; i++)
        {
            layers.Add(new SelfAttentionLayer(profile.Latent, profile.Heads, profile.Dropout, generator));
        }
        RegisterComponents();
    }

    public long ForwardFlops =>
        (projection is null ? 0 : FlopCount.Linear(projection, FeatureSet.SequenceLength)) + layers.Sum(l => l.ForwardFlops);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = projection is null ? input : projection.forward(input);
        foreach (var layer in layers)
        {
            x = layer.forward(x);
        }
        return x.MoveToOuterDisposeScope();
    }
}
