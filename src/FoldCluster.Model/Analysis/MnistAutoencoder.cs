using FoldCluster.Core;
using FoldCluster.Core.Analysis;
using FoldCluster.Model.Fusion;
using FoldCluster.Model.Layers;
using FoldCluster.Model.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Analysis;

/// <summary>
/// Fig. 6's settings. The paper gives none for its MNIST experiment; these defaults train in about half a minute on
/// one CPU thread. Paper-like settings (the emotion model's latent width and heads, more data and epochs):
/// <c>--latent 300 --heads 6 --train 2400 --epochs 30</c>.
/// </summary>
public sealed record MnistOptions
{
    public int Epochs { get; init; } = 10;
    public int TrainPerChannel { get; init; } = 2000;
    public int TestPerChannel { get; init; } = 500;
    /// <summary>Test digits per channel whose input and reconstruction are kept (the figure's columns).</summary>
    public int Samples { get; init; } = 8;
    public int BatchSize { get; init; } = 32;
    public int Latent { get; init; } = 32;
    public int Heads { get; init; } = 4;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>The L2 term as Adam's weight decay, as the emotion model's stage 1 (Section IV-C).</summary>
    public double WeightDecay { get; init; } = 1e-4;
    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (Epochs < 1 || TrainPerChannel < 1 || TestPerChannel < 1 || Samples < 1 || Samples > TestPerChannel || BatchSize < 1
            || Latent < 1 || Heads < 1 || Latent % Heads != 0 || !(LearningRate > 0) || !(WeightDecay >= 0))
        {
            throw new BadInputException(
                $"MNIST settings are not valid (epochs {Epochs}, train {TrainPerChannel}, test {TestPerChannel}, samples {Samples}, batch {BatchSize}, latent {Latent}, heads {Heads}, lr {LearningRate}, weight decay {WeightDecay}): "
                + "expected positive sizes, samples <= test, latent divisible by heads, learning rate > 0, weight decay >= 0");
        }
    }
}

/// <summary>One channel's outcome: test MSE of the trained model, of the untrained model and of predicting the training mean image; the kept test digits and their reconstructions.</summary>
public sealed record MnistChannelResult(int Channel, int[] Digits, double TestMse, double UntrainedMse, double MeanImageMse, MnistImage[] Samples, float[][] Reconstructions)
{
    public string DigitRange => $"{Digits.Min()}-{Digits.Max()}";
}

public sealed record MnistRunResult(MnistOptions Options, IReadOnlyList<MnistChannelResult> Channels, double[] EpochLosses, double Seconds);

/// <summary>
/// Image encoder of one channel: three stride-2 convolutions (28 → 14 → 7 → 4) and a projection of the 32 x 4 x 4
/// features to the 32-step code [N, 32, C] the fusion takes (every step sees the whole digit), batch-normalised so
/// that the code enters the attention at unit scale, as the emotion encoders' batch-normalised outputs do.
/// </summary>
public sealed class ImageEncoder : nn.Module<Tensor, Tensor>
{
    private const int Maps = 32;
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Conv2d conv3;
    private readonly Linear projection;
    private readonly BatchNorm1d norm;
    private readonly int _latent;

    public ImageEncoder(int latent) : base(nameof(ImageEncoder))
    {
        _latent = latent;
        conv1 = nn.Conv2d(1, 16, 4, stride: 2, padding: 1);
        conv2 = nn.Conv2d(16, Maps, 4, stride: 2, padding: 1);
        conv3 = nn.Conv2d(Maps, Maps, 3, stride: 2, padding: 1);
        projection = nn.Linear(Maps * 4 * 4, FeatureSet.SequenceLength * latent);
        norm = nn.BatchNorm1d(FeatureSet.SequenceLength * latent, eps: 1e-5, momentum: 0.1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(conv1.forward(images));
        x = nn.functional.relu(conv2.forward(x));
        x = nn.functional.relu(conv3.forward(x));
        return norm.forward(projection.forward(x.flatten(1))).view(-1, FeatureSet.SequenceLength, _latent).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Image decoder of one channel: the whole fused code [N, 32, C], batch-normalised, projected to 32 x 4 x 4 features,
/// then three stride-2 transposed convolutions (4 → 7 → 14 → 28; learnable up-sampling, Section III-A) and a sigmoid
/// (pixels are in [0, 1]). The normalisation matters: after the fusion's stacked attention and mixing layers, each with
/// PyTorch's default initialisation, the code's per-digit variation starts about 1/50 of its input's, and a decoder
/// fed it raw sits for many epochs on the mean image.
/// </summary>
public sealed class ImageDecoder : nn.Module<Tensor, Tensor>
{
    private const int Maps = 32;
    private readonly BatchNorm1d norm;
    private readonly Linear projection;
    private readonly ConvTranspose2d deconv1;
    private readonly ConvTranspose2d deconv2;
    private readonly ConvTranspose2d deconv3;

    public ImageDecoder(int latent) : base(nameof(ImageDecoder))
    {
        norm = nn.BatchNorm1d(FeatureSet.SequenceLength * latent, eps: 1e-5, momentum: 0.1);
        projection = nn.Linear(FeatureSet.SequenceLength * latent, Maps * 4 * 4);
        deconv1 = nn.ConvTranspose2d(Maps, Maps, 3, stride: 2, padding: 1);
        deconv2 = nn.ConvTranspose2d(Maps, 16, 4, stride: 2, padding: 1);
        deconv3 = nn.ConvTranspose2d(16, 1, 4, stride: 2, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor fused)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(projection.forward(norm.forward(fused.flatten(1)))).view(-1, Maps, 4, 4);
        x = nn.functional.relu(deconv1.forward(x));
        x = nn.functional.relu(deconv2.forward(x));
        return sigmoid(deconv3.forward(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// MCWSA on images (Section V-B, Fig. 6): three channels, each an image encoder, fused by the same CMHA module as the
/// emotion model, and one image decoder per channel rebuilding that channel's digit from the fused code.
/// </summary>
public sealed class MnistAutoencoder : nn.Module<Tensor[], Tensor[]>
{
    /// <summary>The digits each channel takes (Section V-B).</summary>
    public static readonly IReadOnlyList<int[]> ChannelDigits = [[0, 1, 2], [3, 4, 5], [6, 7, 8]];

    private readonly ModuleList<ImageEncoder> encoders;
    private readonly CascadeMultiHeadAttention fusion;
    private readonly ModuleList<ImageDecoder> decoders;

    public MnistAutoencoder(MnistOptions options, Generator generator) : base(nameof(MnistAutoencoder))
    {
        encoders = new ModuleList<ImageEncoder>();
        decoders = new ModuleList<ImageDecoder>();
        for (var c = 0; c < ChannelDigits.Count; c++)
        {
            encoders.Add(new ImageEncoder(options.Latent));
        }
        var profile = TrainingProfile.Tiny with { Latent = options.Latent, Heads = options.Heads };
        fusion = new CascadeMultiHeadAttention(ChannelDigits.Count, profile, generator);
        for (var c = 0; c < ChannelDigits.Count; c++)
        {
            decoders.Add(new ImageDecoder(options.Latent));
        }
        RegisterComponents();
    }

    /// <summary>Each channel's images [N, 1, 28, 28] to each channel's reconstruction, through the one fused code.</summary>
    public override Tensor[] forward(Tensor[] images)
    {
        using var scope = NewDisposeScope();
        var fused = fusion.forward(images.Select((x, c) => encoders[c].forward(x)).ToArray());
        var rebuilt = decoders.Select(d => d.forward(fused)).ToArray();
        foreach (var r in rebuilt)
        {
            r.MoveToOuterDisposeScope();
        }
        return rebuilt;
    }
}

/// <summary>Trains <see cref="MnistAutoencoder"/> with the stage-1 objective (eq. 8-9: the sum over channels of the mean squared reconstruction error) and evaluates it on held-out digits.</summary>
public static class MnistTrainer
{
    public static MnistRunResult Train(IReadOnlyDictionary<int, IReadOnlyList<MnistImage>> digits, MnistOptions options, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var channels = MnistAutoencoder.ChannelDigits.Select(d => MnistDigits.Channel(digits, d, options.TrainPerChannel, options.TestPerChannel)).ToArray();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)options.Seed, CPU);
        var model = new MnistAutoencoder(options, generator);
        SeededInit.Apply(model, generator);
        var train = channels.Select(c => Images(c.Train)).ToArray();
        var test = channels.Select(c => Images(c.Test)).ToArray();

        var untrained = TestErrors(model, test, options.BatchSize);
        var meanImage = channels.Select((_, c) =>
        {
            using var mean = train[c].mean([0], keepdim: true);
            return nn.functional.mse_loss(test[c], mean.expand_as(test[c])).item<float>();
        }).Select(v => (double)v).ToArray();

        using var optimizer = new AnalysisAdam(model.parameters(), options.LearningRate, options.WeightDecay);
        var random = new Random(options.Seed);
        var losses = new double[options.Epochs];
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            model.train();
            // Triples (channel 1, 2, 3 digit) keep their pairing; their order is drawn anew each epoch.
            var order = Enumerable.Range(0, options.TrainPerChannel).OrderBy(_ => random.Next()).Select(i => (long)i).ToArray();
            double sum = 0;
            for (var start = 0; start < order.Length; start += options.BatchSize)
            {
                using var batchScope = NewDisposeScope();
                using var index = tensor(order[start..Math.Min(order.Length, start + options.BatchSize)]);
                var inputs = train.Select(t => t.index_select(0, index)).ToArray();
                var loss = ReconstructionLoss(inputs, model.forward(inputs));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                sum += loss.item<float>() * index.shape[0];
            }
            losses[epoch] = sum / order.Length;
            progress?.Invoke($"epoch {epoch + 1}/{options.Epochs}: training reconstruction loss {losses[epoch]:F5} (sum over 3 channels), {clock.Elapsed.TotalSeconds:F0} s");
        }

        var errors = TestErrors(model, test, options.BatchSize);
        float[][][] kept;
        using (no_grad())
        {
            model.eval();
            using var first = arange(options.Samples);
            kept = model.forward(test.Select(t => t.index_select(0, first)).ToArray()).Select(r =>
            {
                var data = r.contiguous().data<float>().ToArray();
                return Enumerable.Range(0, options.Samples).Select(i => data[(i * MnistDigits.Pixels)..((i + 1) * MnistDigits.Pixels)]).ToArray();
            }).ToArray();
        }
        var results = channels.Select((c, i) => new MnistChannelResult(
            i + 1, MnistAutoencoder.ChannelDigits[i], errors[i], untrained[i], meanImage[i], c.Test.Take(options.Samples).ToArray(), kept[i])).ToList();
        return new MnistRunResult(options, results, losses, clock.Elapsed.TotalSeconds);
    }

    /// <summary>eq. (8)-(9) with images for modalities.</summary>
    private static Tensor ReconstructionLoss(Tensor[] inputs, Tensor[] rebuilt) =>
        inputs.Select((x, c) => nn.functional.mse_loss(rebuilt[c], x)).Aggregate((a, b) => a + b);

    /// <summary>Each channel's mean squared error per pixel over its test digits.</summary>
    private static double[] TestErrors(MnistAutoencoder model, Tensor[] test, int batchSize)
    {
        using var noGrad = no_grad();
        model.eval();
        var n = test[0].shape[0];
        var sums = new double[test.Length];
        for (long start = 0; start < n; start += batchSize)
        {
            using var batchScope = NewDisposeScope();
            var inputs = test.Select(t => t.narrow(0, start, Math.Min(batchSize, n - start))).ToArray();
            var rebuilt = model.forward(inputs);
            for (var c = 0; c < test.Length; c++)
            {
                sums[c] += (rebuilt[c] - inputs[c]).square().sum().item<float>();
            }
        }
        return sums.Select(s => s / (n * MnistDigits.Pixels)).ToArray();
    }

    private static Tensor Images(IReadOnlyList<MnistImage> images)
    {
        var data = new float[images.Count * MnistDigits.Pixels];
        for (var i = 0; i < images.Count; i++)
        {
            images[i].Pixels.CopyTo(data, i * MnistDigits.Pixels);
        }
        return tensor(data, [images.Count, 1, MnistDigits.Side, MnistDigits.Side]);
    }
}
