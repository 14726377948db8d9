using FoldCluster.Core;
using FoldCluster.Model.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Encoders;

/// <summary>
/// One residual base block of Fig. 2 on a [N, C, mel, time] map: conv (stride 2) - BN - ReLU - dropout,
/// conv - BN, plus a strided 1 x 1 shortcut, ReLU, then multi-head self-attention along time: each frame's
/// column (channels x mel bands) is one token, so attention weighs frames as in [47]; a residual keeps the
/// convolutional path.
/// </summary>
public sealed class AudioBlock : nn.Module<Tensor, Tensor>, IFlopCounted
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d norm1;
    private readonly SeededDropout dropout;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d norm2;
    private readonly Conv2d shortcut;
    private readonly BatchNorm2d shortcutNorm;
    private readonly MultiHeadAttention attention;
    private readonly long _outMel;
    private readonly long _outTime;

    public AudioBlock(int inChannels, int outChannels, (long Mel, long Time) stride, (long Mel, long Time) outSize,
        int heads, double dropoutRate, Generator generator) : base(nameof(AudioBlock))
    {
        _outMel = outSize.Mel;
        _outTime = outSize.Time;
        conv1 = nn.Conv2d(inChannels, outChannels, (3, 3), stride: stride, padding: (1, 1), bias: false);
        norm1 = nn.BatchNorm2d(outChannels, eps: 1e-5, momentum: 0.1);
        dropout = new SeededDropout(dropoutRate, generator);
        conv2 = nn.Conv2d(outChannels, outChannels, (3, 3), stride: (1, 1), padding: (1, 1), bias: false);
        norm2 = nn.BatchNorm2d(outChannels, eps: 1e-5, momentum: 0.1);
        shortcut = nn.Conv2d(inChannels, outChannels, (1, 1), stride: stride, bias: false);
        shortcutNorm = nn.BatchNorm2d(outChannels, eps: 1e-5, momentum: 0.1);
        attention = new MultiHeadAttention(outChannels * (int)outSize.Mel, heads, 0, generator, outSize.Time, outSize.Time);
        RegisterComponents();
    }

    public long ForwardFlops
    {
        get
        {
            var positions = _outMel * _outTime;
            return FlopCount.Convolution(conv1.weight!, positions) + FlopCount.Convolution(conv2.weight!, positions)
                + FlopCount.Convolution(shortcut.weight!, positions) + attention.ForwardFlops;
        }
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var main = norm2.forward(conv2.forward(dropout.forward(nn.functional.relu(norm1.forward(conv1.forward(input))))));
        var x = nn.functional.relu(main + shortcutNorm.forward(shortcut.forward(input)));
        var (n, c, mel, time) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var frames = x.permute(0, 3, 1, 2).reshape(n, time, c * mel);
        var attended = attention.forward(frames, frames).reshape(n, time, c, mel).permute(0, 2, 3, 1);
        return (x + attended).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Audio (log-Mel) encoder: [N, 3, 64, 128] through five residual blocks (Section IV-C) to [N, 32, C].
/// Every block's first convolution has stride 2 along mel; along time only the first two do (128 -> 32),
/// so the latent keeps 32 time steps like the video and text codes. The last map [c5, 2, 32] is read
/// per time step and projected to C (a 1 x 1 convolution).
/// </summary>
public sealed class AudioEncoder : nn.Module<Tensor, Tensor>, IFlopCounted
{
    private static readonly (long Mel, long Time)[] Strides = [(2, 2), (2, 2), (2, 1), (2, 1), (2, 1)];

    private readonly ModuleList<AudioBlock> blocks;
    private readonly Linear projection;
    private readonly int _lastChannels;

    public AudioEncoder(TrainingProfile profile, Generator generator) : base(nameof(AudioEncoder))
    {
        blocks = new ModuleList<AudioBlock>();
        var inChannels = FeatureSet.AudioChannels;
        long mel = FeatureSet.MelBands;
        long time = FeatureSet.AudioFrames;
        for (var i = 0; i < Strides.Length; i++)
        {
            mel /= Strides[i].Mel;
            time /= Strides[i].Time;
            blocks.Add(new AudioBlock(inChannels, profile.AudioChannels[i], Strides[i], (mel, time), profile.Heads, profile.Dropout, generator));
            inChannels = profile.AudioChannels[i];
        }
        _lastChannels = inChannels;
        FinalMel = mel;
        projection = nn.Linear(inChannels * mel, profile.Latent);
        RegisterComponents();
    }

    /// <summary>Mel rows left after the five blocks (2).</summary>
    public long FinalMel { get; }

    public int LastChannels => _lastChannels;

    public long ForwardFlops => blocks.Sum(b => b.ForwardFlops) + FlopCount.Linear(projection, FeatureSet.SequenceLength);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var block in blocks)
        {
            x = block.forward(x);
        }
        var (n, c, mel, time) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var steps = x.permute(0, 3, 1, 2).reshape(n, time, c * mel);
        return projection.forward(steps).MoveToOuterDisposeScope();
    }
}
