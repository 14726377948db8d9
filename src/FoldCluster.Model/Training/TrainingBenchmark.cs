using System.Diagnostics;
using FoldCluster.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace FoldCluster.Model.Training;

/// <summary>
/// Stage-2 throughput of one fusion method, with FLOPs counted from the model's layers. <see cref="Efficiency"/> is
/// the median over the timed steps of (the step's achieved GFLOP/s) / (the GEMM rate measured right before and after
/// that step, the higher of the two), so a machine shared with other work compares like with like.
/// </summary>
public sealed record MethodThroughput(string Method, int BatchSize, int Steps, double Seconds, double SamplesPerSecond,
    double ForwardGflopPerSample, double TrainingGflopPerSample, double AchievedGflops, double Efficiency, double PeakGemmGflops);

/// <summary>
/// Measurements behind `foldcluster bench train`. Training FLOPs per sample are counted as three times the forward
/// FLOPs: the backward pass of every linear, convolution and attention matmul costs two more products of the same
/// size (gradient with respect to the input and to the weight), the usual 3x rule.
/// </summary>
public static class TrainingBenchmark
{
    public const int TrainingFlopFactor = 3;

    /// <summary>libtorch's own float32 matrix-multiply rate (GFLOP/s) on <paramref name="size"/> x <paramref name="size"/> matrices.</summary>
    public static double MeasureGemmGflops(int size = 2048, double minSeconds = 2.0)
    {
        using var scope = NewDisposeScope();
        var a = randn(size, size);
        var b = randn(size, size);
        for (var i = 0; i < 2; i++)
        {
            mm(a, b).Dispose();
        }
        var clock = Stopwatch.StartNew();
        var reps = 0;
        while (clock.Elapsed.TotalSeconds < minSeconds || reps < 3)
        {
            mm(a, b).Dispose();
            reps++;
        }
        var seconds = clock.Elapsed.TotalSeconds;
        return 2.0 * size * size * (double)size * reps / seconds / 1e9;
    }

    /// <summary>Stage-2 training steps (forward, cross-entropy, backward, Adam) on random inputs of the real shapes.</summary>
    public static MethodThroughput MeasureStage2(string method, string modalities, TrainingProfile profile,
        int steps = 3, int videoWidth = 2048, int seed = 1)
    {
        var set = ModalitySet.Parse(modalities);
        using var generator = new Generator((ulong)seed, CPU);
        manual_seed(seed);
        using var model = new EmotionModel(set, method, videoWidth, profile, generator);
        model.train();
        using var optimizer = PaperAdam.Create(model.ClassificationParameters(), profile.LearningRate, profile.WeightDecay);
        var n = profile.BatchSize;
        using var audio = set.HasAudio ? randn(n, FeatureSet.AudioChannels, FeatureSet.MelBands, FeatureSet.AudioFrames) : null;
        using var video = set.HasVideo ? randn(n, FeatureSet.SequenceLength, videoWidth) : null;
        using var text = set.HasText ? randn(n, FeatureSet.SequenceLength, FeatureSet.TextWidth) : null;
        using var labels = randint(0, Emotions.Count, [n], dtype: ScalarType.Int64);
        var inputs = new ModelInputs(audio, video, text);

        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.forward(inputs), labels);
            loss.backward();
            optimizer.step();
        }

        Step();   // warm-up: allocations, Adam state
        var forward = model.ForwardFlops / 1e9;
        var training = TrainingFlopFactor * forward;
        var ratios = new List<double>();
        double seconds = 0;
        double peak = 0;
        var gemmBefore = MeasureGemmGflops(minSeconds: 0.5);
        for (var i = 0; i < steps; i++)
        {
            var clock = Stopwatch.StartNew();
            Step();
            var stepSeconds = clock.Elapsed.TotalSeconds;
            var gemmAfter = MeasureGemmGflops(minSeconds: 0.5);
            var gemm = Math.Max(gemmBefore, gemmAfter);
            peak = Math.Max(peak, gemm);
            ratios.Add(n * training / stepSeconds / gemm);
            seconds += stepSeconds;
            gemmBefore = gemmAfter;
        }
        ratios.Sort();
        var median = ratios.Count % 2 == 1 ? ratios[ratios.Count / 2] : (ratios[ratios.Count / 2 - 1] + ratios[ratios.Count / 2]) / 2;
        var samplesPerSecond = steps * n / seconds;
        return new MethodThroughput(method, n, steps, seconds, samplesPerSecond, forward, training, samplesPerSecond * training, median, peak);
    }

    /// <summary>Resident set size of this process in bytes (VmRSS; the working set where /proc is absent).</summary>
    public static long ResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
