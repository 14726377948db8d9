using FoldCluster.Model.Training;
using FoldCluster.Core;
using FoldCluster.Core.Analysis;
using FoldCluster.Model.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace FoldCluster.Model.Analysis;

/// <summary>
/// DCCA settings. The paper (Section V-C) keeps "the same DCCA network and the same training hyper-parameters" for
/// every comparison, so these are fixed defaults: two hidden layers of 256 (ReLU) per view, 10 outputs, Adam 1e-3,
/// 100 epochs of mini-batches of up to 1,000 rows, covariance ridge 1e-3, 20% of the rows held out.
/// </summary>
public sealed record DccaOptions
{
    public int Hidden { get; init; } = 256;
    public int HiddenLayers { get; init; } = 2;
    public int Outputs { get; init; } = 10;
    public int Epochs { get; init; } = 100;
    public int BatchSize { get; init; } = 1000;
    public double LearningRate { get; init; } = 1e-3;
    public double Ridge { get; init; } = 1e-3;
    public double HeldOutFraction { get; init; } = 0.2;
    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (Hidden < 1 || HiddenLayers < 0 || Outputs < 1 || Epochs < 1 || BatchSize < 3 || !(LearningRate > 0) || !(Ridge > 0) || !(HeldOutFraction is > 0 and < 1))
        {
            throw new BadInputException($"DCCA settings are not valid ({this}): expected positive sizes, batch >= 3, learning rate and ridge > 0, held-out fraction in (0, 1)");
        }
    }
}

/// <summary>Canonical correlations of the learned projections on the held-out rows (largest first), their sum, and the per-epoch training objective.</summary>
public sealed record DccaResult(double[] Correlations, double Total, double[] TrainingCurve, double EpochsPerSecond, int TrainRows, int HeldOutRows);

/// <summary>
/// Deep CCA (Andrew et al. 2013, the paper's [30]): one network per view, trained to maximise the total canonical
/// correlation of their outputs, sum of singular values of S11^-1/2 S12 S22^-1/2 (computed in float64); a linear
/// CCA on the training outputs then gives the projections evaluated on held-out rows.
/// </summary>
public static class DeepCca
{
    public static DccaResult Fit(IReadOnlyList<double[]> x, IReadOnlyList<double[]> y, DccaOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DccaOptions();
        options.Validate();
        AnalysisInput.CheckPaired(x, y, "x", "y");
        var n = x.Count;
        var random = new Random(options.Seed);
        var order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToArray();
        var heldOut = (int)Math.Round(n * options.HeldOutFraction);
        var outputs = Math.Min(options.Outputs, Math.Min(x[0].Length, y[0].Length));
        if (heldOut < 3 || n - heldOut < Math.Max(3, outputs + 1))
        {
            throw new BadInputException($"DCCA needs more rows: got {n}, which leaves {n - heldOut} for training and {heldOut} held out (expected at least {outputs + 1} and 3)");
        }
        var test = order.Take(heldOut).ToArray();
        var train = order.Skip(heldOut).ToArray();
        var trainX = train.Select(i => x[i]).ToArray();
        var trainY = train.Select(i => y[i]).ToArray();
        var xs = AnalysisTensors.Standardise(x, trainX);
        var ys = AnalysisTensors.Standardise(y, trainY);

        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)options.Seed, CPU);
        var netX = View(x[0].Length, outputs, options);
        var netY = View(y[0].Length, outputs, options);
        SeededInit.Apply(netX, generator);
        SeededInit.Apply(netY, generator);
        var parameters = netX.parameters().Concat(netY.parameters()).ToList();
        using var optimizer = new AnalysisAdam(parameters, options.LearningRate, weightDecay: 0);
        var allX = AnalysisTensors.ToTensor(xs);
        var allY = AnalysisTensors.ToTensor(ys);
        var curve = new double[options.Epochs];
        var batch = Math.Min(options.BatchSize, train.Length);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            netX.train();
            netY.train();
            var shuffled = train.OrderBy(_ => random.Next()).ToArray();
            var sum = 0.0;
            var batches = 0;
            // A last batch smaller than the output width cannot estimate the covariances: it joins the one before.
            for (var start = 0; start + batch <= shuffled.Length || start == 0; start += batch)
            {
                var end = shuffled.Length - (start + batch) < batch ? shuffled.Length : start + batch;
                using var stepScope = NewDisposeScope();
                using var index = tensor(shuffled[start..end].Select(i => (long)i).ToArray());
                var correlation = TotalCorrelation(netX.forward(allX.index_select(0, index)), netY.forward(allY.index_select(0, index)), options.Ridge);
                optimizer.zero_grad();
                (-correlation).backward();
                optimizer.step();
                sum += correlation.item<double>();
                batches++;
                if (end == shuffled.Length)
                {
                    break;
                }
            }
            curve[epoch] = sum / batches;
        }
        var seconds = clock.Elapsed.TotalSeconds;
        double[][] outTrainX, outTrainY, outTestX, outTestY;
        using (no_grad())
        {
            netX.eval();
            netY.eval();
            using var trainIndex = tensor(train.Select(i => (long)i).ToArray());
            using var testIndex = tensor(test.Select(i => (long)i).ToArray());
            outTrainX = AnalysisTensors.ToRows(netX.forward(allX.index_select(0, trainIndex)));
            outTrainY = AnalysisTensors.ToRows(netY.forward(allY.index_select(0, trainIndex)));
            outTestX = AnalysisTensors.ToRows(netX.forward(allX.index_select(0, testIndex)));
            outTestY = AnalysisTensors.ToRows(netY.forward(allY.index_select(0, testIndex)));
        }
        var cca = CanonicalCorrelation.Fit(outTrainX, outTrainY);
        var correlations = cca.CorrelationsOn(outTestX, outTestY).OrderByDescending(c => c).ToArray();
        return new DccaResult(correlations, correlations.Sum(), curve, options.Epochs / Math.Max(seconds, 1e-9), train.Length, test.Length);
    }

    private static nn.Module<Tensor, Tensor> View(int inputs, int outputs, DccaOptions options)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        var width = inputs;
        for (var l = 0; l < options.HiddenLayers; l++)
        {
            layers.Add(($"linear{l + 1}", nn.Linear(width, options.Hidden)));
            layers.Add(($"relu{l + 1}", nn.ReLU()));
            width = options.Hidden;
        }
        layers.Add(("output", nn.Linear(width, outputs)));
        return nn.Sequential(layers);
    }

    /// <summary>Sum of the canonical correlations of two output batches (Andrew et al. 2013, eq. 10), differentiable.</summary>
    internal static Tensor TotalCorrelation(Tensor h1, Tensor h2, double ridge)
    {
        var a = h1.to_type(ScalarType.Float64);
        var b = h2.to_type(ScalarType.Float64);
        var m = a.shape[0];
        var o = a.shape[1];
        a = a - a.mean([0], keepdim: true);
        b = b - b.mean([0], keepdim: true);
        using var identity = eye(o, dtype: ScalarType.Float64);
        var s11 = a.t().matmul(a) / (m - 1) + identity * ridge;
        var s22 = b.t().matmul(b) / (m - 1) + identity * ridge;
        var s12 = a.t().matmul(b) / (m - 1);
        var t = InverseSquareRoot(s11).matmul(s12).matmul(InverseSquareRoot(s22));
        var (values, _) = linalg.eigh(t.t().matmul(t));
        return values.clamp_min(1e-12).sqrt().sum();
    }

    private static Tensor InverseSquareRoot(Tensor s)
    {
        var (values, vectors) = linalg.eigh(s);
        return vectors.matmul(diag(values.clamp_min(1e-12).rsqrt())).matmul(vectors.t());
    }
}
