using FoldCluster.Core;
using FoldCluster.Model.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Decoders;

/// <summary>
/// Audio decoder: the fused code [N, 32, C] back to the log-Mel input [N, 3, 64, 128] by transposed
/// convolutions (Section III-A: learnable up-sampling) that mirror the encoder's five strides.
/// </summary>
public sealed class AudioDecoder : nn.Module<Tensor, Tensor>, IFlopCounted
{
    private static readonly (long Mel, long Time)[] Strides = [(2, 1), (2, 1), (2, 1), (2, 2), (2, 2)];

    private readonly Linear projection;
    private readonly ModuleList<ConvTranspose2d> layers;
    private readonly ModuleList<BatchNorm2d> norms;
    private readonly long[] _inputPositions;
    private readonly int _firstChannels;
    private readonly long _firstMel;

    public AudioDecoder(TrainingProfile profile) : base(nameof(AudioDecoder))
    {
        var channels = profile.AudioChannels.Reverse().Append(FeatureSet.AudioChannels).ToArray();
        _firstChannels = channels[0];
        _firstMel = FeatureSet.MelBands >> Strides.Length;
        projection = nn.Linear(profile.Latent, channels[0] * _firstMel);
        layers = new ModuleList<ConvTranspose2d>();
        norms = new ModuleList<BatchNorm2d>();
        _inputPositions = new long[Strides.Length];
        long mel = _firstMel;
        long time = FeatureSet.SequenceLength;
        for (var i = 0; i < Strides.Length; i++)
        {
            _inputPositions[i] = mel * time;
            // Kernel 4, padding 1 doubles an axis with stride 2; kernel 3, padding 1 keeps it with stride 1.
            var kernel = (Strides[i].Mel == 2 ? 4L : 3L, Strides[i].Time == 2 ? 4L : 3L);
            // Layers followed by batch norm need no bias (the norm removes it).
            layers.Add(nn.ConvTranspose2d(channels[i], channels[i + 1], kernel, stride: Strides[i], padding: (1, 1), bias: i == Strides.Length - 1));
            if (i < Strides.Length - 1)
            {
                norms.Add(nn.BatchNorm2d(channels[i + 1], eps: 1e-5, momentum: 0.1));
            }
            mel *= Strides[i].Mel;
            time *= Strides[i].Time;
        }
        RegisterComponents();
    }

    public long ForwardFlops =>
        FlopCount.Linear(projection, FeatureSet.SequenceLength)
        + layers.Select((l, i) => FlopCount.TransposedConvolution(l.weight!, _inputPositions[i])).Sum();

    public override Tensor forward(Tensor fused)
    {
        using var scope = NewDisposeScope();
        var n = fused.shape[0];
        var x = projection.forward(fused)
            .reshape(n, FeatureSet.SequenceLength, _firstChannels, _firstMel)
            .permute(0, 2, 3, 1);
        for (var i = 0; i < layers.Count; i++)
        {
            x = layers[i].forward(x);
            if (i < norms.Count)
            {
                x = nn.functional.relu(norms[i].forward(x));
            }
        }
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Sequence decoder (video or text): the fused code [N, 32, C] to [N, 32, width] by a transposed convolution
/// (kernel 3) - BN - ReLU and a 1 x 1 transposed convolution to the input width (a per-step linear map,
/// run as one GEMM: libtorch's transposed-convolution kernel is several times slower for it).
/// </summary>
public sealed class SequenceDecoder : nn.Module<Tensor, Tensor>, IFlopCounted
{
    private readonly ConvTranspose1d expand;
    private readonly BatchNorm1d norm;
    private readonly Linear output;

    public SequenceDecoder(int latent, int width) : base(nameof(SequenceDecoder))
    {
        expand = nn.ConvTranspose1d(latent, latent, 3, padding: 1, bias: false);
        norm = nn.BatchNorm1d(latent, eps: 1e-5, momentum: 0.1);
        output = nn.Linear(latent, width);
        RegisterComponents();
    }

    public long ForwardFlops =>
        FlopCount.TransposedConvolution(expand.weight!, FeatureSet.SequenceLength)
        + FlopCount.Linear(output, FeatureSet.SequenceLength);

    public override Tensor forward(Tensor fused)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(norm.forward(expand.forward(fused.transpose(1, 2))));
        return output.forward(x.transpose(1, 2)).MoveToOuterDisposeScope();
    }
}

/// <summary>The prediction part: the fused code [N, 32, C] flattened, dropout, a hidden layer, dropout, 4 emotion logits.</summary>
public sealed class EmotionClassifier : nn.Module<Tensor, Tensor>, IFlopCounted
{
    private readonly SeededDropout dropout1;
    private readonly Linear hidden;
    private readonly SeededDropout dropout2;
    private readonly Linear logits;

    public EmotionClassifier(TrainingProfile profile, Generator generator) : base(nameof(EmotionClassifier))
    {
        dropout1 = new SeededDropout(profile.Dropout, generator);
        hidden = nn.Linear(FeatureSet.SequenceLength * profile.Latent, profile.ClassifierHidden);
        dropout2 = new SeededDropout(profile.Dropout, generator);
        logits = nn.Linear(profile.ClassifierHidden, Emotions.Count);
        RegisterComponents();
    }

    public long ForwardFlops => FlopCount.Linear(hidden, 1) + FlopCount.Linear(logits, 1);

    public override Tensor forward(Tensor fused)
    {
        using var scope = NewDisposeScope();
        var x = dropout1.forward(fused.flatten(1));
        x = dropout2.forward(nn.functional.relu(hidden.forward(x)));
        return logits.forward(x).MoveToOuterDisposeScope();
    }
}
