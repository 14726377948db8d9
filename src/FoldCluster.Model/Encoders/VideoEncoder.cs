using FoldCluster.Core;
using FoldCluster.Model.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Encoders;

/// <summary>
/// A residual block of Fig. 2 on a sequence [N, C, 32]: conv - BN - ReLU - dropout, conv - BN, identity
/// shortcut, ReLU, then multi-head self-attention over the 32 steps (residual). Stride 1: the sequence
/// already has the latent's 32 steps, and a stride would halve it.
/// </summary>
public sealed class SequenceBlock : nn.Module<Tensor, Tensor>, IFlopCounted
{
    private readonly Conv1d conv1;
    private readonly BatchNorm1d norm1;
    private readonly SeededDropout dropout;
    private readonly Conv1d conv2;
    private readonly BatchNorm1d norm2;
    private readonly MultiHeadAttention attention;

    public SequenceBlock(int width, int heads, double dropoutRate, Generator generator) : base(nameof(SequenceBlock))
    {
        conv1 = nn.Conv1d(width, width, 3, padding: 1, bias: false);
        norm1 = nn.BatchNorm1d(width, eps: 1e-5, momentum: 0.1);
        dropout = new SeededDropout(dropoutRate, generator);
        conv2 = nn.Conv1d(width, width, 3, padding: 1, bias: false);
        norm2 = nn.BatchNorm1d(width, eps: 1e-5, momentum: 0.1);
        attention = new MultiHeadAttention(width, heads, 0, generator, FeatureSet.SequenceLength, FeatureSet.SequenceLength);
        RegisterComponents();
    }

    public long ForwardFlops =>
        FlopCount.Convolution(conv1.weight!, FeatureSet.SequenceLength) + FlopCount.Convolution(conv2.weight!, FeatureSet.SequenceLength)
        + attention.ForwardFlops;

    /// <summary>[N, 32, C] in and out.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input.transpose(1, 2);
        var main = norm2.forward(conv2.forward(dropout.forward(nn.functional.relu(norm1.forward(conv1.forward(x))))));
        var y = nn.functional.relu(main + x).transpose(1, 2);
        return (y + attention.forward(y, y)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Video encoder: [N, 32, W] frame features (W = 2048 ResNet-50, 4096 VGG-Face) projected per frame to C
/// (a 1 x 1 convolution), then two residual blocks (Section IV-C) to [N, 32, C].
/// </summary>
public sealed class VideoEncoder : nn.Module<Tensor, Tensor>, IFlopCounted
{
    private readonly Linear projection;
    private readonly ModuleList<SequenceBlock> blocks;

    public VideoEncoder(TrainingProfile profile, int videoWidth, Generator generator) : base(nameof(VideoEncoder))
    {
        projection = nn.Linear(videoWidth, profile.Latent);
        blocks = new ModuleList<SequenceBlock>(
            new SequenceBlock(profile.Latent, profile.Heads, profile.Dropout, generator),
            new SequenceBlock(profile.Latent, profile.Heads, profile.Dropout, generator));
        RegisterComponents();
    }

    public long ForwardFlops => FlopCount.Linear(projection, FeatureSet.SequenceLength) + blocks.Sum(b => b.ForwardFlops);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = projection.forward(input);
        foreach (var block in blocks)
        {
            x = block.forward(x);
        }
        return x.MoveToOuterDisposeScope();
    }
}
