using FoldCluster.Model.Training;
using FoldCluster.Core;
using FoldCluster.Core.Analysis;
using FoldCluster.Model.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace FoldCluster.Model.Analysis;

/// <summary>MINE settings (fixed for every call so that estimates are comparable).</summary>
public sealed record MineOptions
{
    public int Steps { get; init; } = 2000;
    public int BatchSize { get; init; } = 256;
    public int Hidden { get; init; } = 100;
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Rate of the moving average of E[e^T] that replaces the batch denominator in the gradient.</summary>
    public double AverageRate { get; init; } = 0.01;

    /// <summary>Trailing window of the moving average that smooths the per-step curve (and gives the final estimate).</summary>
    public int SmoothingWindow { get; init; } = 100;

    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (Steps < 1 || BatchSize < 2 || Hidden < 1 || SmoothingWindow < 1 || !(LearningRate > 0) || !(AverageRate is > 0 and <= 1))
        {
            throw new BadInputException($"MINE settings are not valid ({this}): expected steps >= 1, batch >= 2, hidden >= 1, window >= 1, learning rate > 0, average rate in (0, 1]");
        }
    }
}

/// <summary>Per-step Donsker-Varadhan estimates (nats), their moving average, and the final smoothed estimate.</summary>
public sealed record MineResult(double MiNats, double[] Curve, double[] RawCurve, double StepsPerSecond);

/// <summary>
/// Mutual information neural estimation (Belghazi et al. 2018, the paper's [63]): a statistics network T(x, y) is
/// trained to maximise the Donsker-Varadhan bound I >= E_joint[T] - ln E_marginal[e^T]; the marginal pairs x with y
/// of a shuffled row. The gradient of the log term is biased on mini-batches, so it uses the moving average of
/// E[e^T] as denominator (the paper's bias correction, Section 3.2). Inputs are standardised per column.
/// </summary>
public static class MutualInformationEstimator
{
    public static MineResult Estimate(IReadOnlyList<double[]> x, IReadOnlyList<double[]> y, MineOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new MineOptions();
        options.Validate();
        AnalysisInput.CheckPaired(x, y, "x", "y");
        var n = x.Count;
        if (n < 2)
        {
            throw new BadInputException($"MINE needs at least 2 rows: got {n}");
        }
        var xs = AnalysisTensors.Standardise(x);
        var ys = AnalysisTensors.Standardise(y);
        var dx = xs[0].Length;
        var dy = ys[0].Length;
        var batch = Math.Min(options.BatchSize, n);
        var random = new Random(options.Seed);
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)options.Seed, CPU);
        var network = nn.Sequential(
            ("linear1", nn.Linear(dx + dy, options.Hidden)),
            ("elu1", nn.ELU()),
            ("linear2", nn.Linear(options.Hidden, options.Hidden)),
            ("elu2", nn.ELU()),
            ("linear3", nn.Linear(options.Hidden, 1)));
        SeededInit.Apply(network, generator);
        using var optimizer = new AnalysisAdam(network.parameters(), options.LearningRate, weightDecay: 0);
        var raw = new double[options.Steps];
        var logAverage = double.NaN;
        var joint = new float[batch * (dx + dy)];
        var marginal = new float[batch * (dx + dy)];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var step = 0; step < options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var stepScope = NewDisposeScope();
            for (var b = 0; b < batch; b++)
            {
                var i = random.Next(n);
                var j = random.Next(n);
                Fill(joint, b, xs[i], ys[i]);
                Fill(marginal, b, xs[i], ys[j]);
            }
            var tJoint = network.forward(tensor(joint, [batch, dx + dy]));
            var tMarginal = network.forward(tensor(marginal, [batch, dx + dy])).squeeze(1);
            var meanJoint = tJoint.mean();
            // ln E[e^T] computed stably: logsumexp - ln(batch).
            var logMeanExp = tMarginal.logsumexp(0) - Math.Log(batch);
            var batchLogMeanExp = logMeanExp.item<float>();
            raw[step] = meanJoint.item<float>() - batchLogMeanExp;
            // The moving average of E[e^T] is kept as a logarithm: on small data T grows until e^T leaves float range.
            logAverage = double.IsNaN(logAverage)
                ? batchLogMeanExp
                : LogAddExp(Math.Log(1 - options.AverageRate) + logAverage, Math.Log(options.AverageRate) + batchLogMeanExp);
            // Gradient of ln E[e^T] ~ E[grad e^T] / (moving average of E[e^T]): the bias-corrected loss.
            var loss = -(meanJoint - (logMeanExp - logAverage).exp());
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var curve = MovingAverage.Trailing(raw, options.SmoothingWindow);
        return new MineResult(curve[^1], curve, raw, options.Steps / Math.Max(seconds, 1e-9));
    }

    private static double LogAddExp(double a, double b)
    {
        var max = Math.Max(a, b);
        return max + Math.Log(Math.Exp(a - max) + Math.Exp(b - max));
    }

    private static void Fill(float[] target, int row, double[] x, double[] y)
    {
        var offset = row * (x.Length + y.Length);
        for (var f = 0; f < x.Length; f++)
        {
            target[offset + f] = (float)x[f];
        }
        for (var f = 0; f < y.Length; f++)
        {
            target[offset + x.Length + f] = (float)y[f];
        }
    }
}
