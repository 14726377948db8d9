using FoldCluster.Core.Analysis;
using FoldCluster.Model.Analysis;
using Xunit;
using Xunit.Abstractions;

namespace FoldCluster.Model.Tests.Analysis;

public sealed class AnalysisTests(ITestOutputHelper output)
{
    private static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>d pairs (x_k, y_k) with correlation rho, independent across k: I(X; Y) = -d/2 ln(1 - rho^2).</summary>
    private static (double[][] X, double[][] Y) CorrelatedGaussians(int n, int d, double rho, int seed)
    {
        var random = new Random(seed);
        var x = new double[n][];
        var y = new double[n][];
        for (var i = 0; i < n; i++)
        {
            x[i] = new double[d];
            y[i] = new double[d];
            for (var k = 0; k < d; k++)
            {
                x[i][k] = Gaussian(random);
                y[i][k] = rho * x[i][k] + Math.Sqrt(1 - rho * rho) * Gaussian(random);
            }
        }
        return (x, y);
    }

    [Fact]
    public void Mine_lands_within_15_percent_of_the_known_mutual_information_of_correlated_gaussians()
    {
        const int d = 2;
        const double rho = 0.8;
        var truth = -d / 2.0 * Math.Log(1 - rho * rho);
        var (x, y) = CorrelatedGaussians(20000, d, rho, seed: 2);

        var result = MutualInformationEstimator.Estimate(x, y, new MineOptions { Steps = 3000, Seed = 3 });

        output.WriteLine($"MINE {result.MiNats:F4} nats, truth {truth:F4}, {result.StepsPerSecond:F0} steps/s");
        Assert.Equal(3000, result.Curve.Length);
        Assert.InRange(result.MiNats, 0.85 * truth, 1.15 * truth);
        // The curve is the moving average of the raw per-step estimates.
        Assert.Equal(result.RawCurve.TakeLast(100).Average(), result.MiNats, 9);
    }

    [Fact]
    public void Mine_is_near_zero_on_independent_data()
    {
        var (x, y) = CorrelatedGaussians(20000, 2, 0.0, seed: 4);

        var result = MutualInformationEstimator.Estimate(x, y, new MineOptions { Steps = 1500, Seed = 3 });

        output.WriteLine($"MINE on independent data: {result.MiNats:F4} nats");
        Assert.InRange(result.MiNats, -0.05, 0.05);
    }

    [Fact]
    public void Mine_is_deterministic_for_a_seed()
    {
        var (x, y) = CorrelatedGaussians(2000, 2, 0.5, seed: 5);
        var options = new MineOptions { Steps = 50, Seed = 8 };

        var first = MutualInformationEstimator.Estimate(x, y, options);
        var second = MutualInformationEstimator.Estimate(x, y, options);

        Assert.Equal(first.RawCurve, second.RawCurve);
    }

    [Fact]
    public void Dcca_at_least_matches_linear_cca_on_a_nonlinearly_related_pair()
    {
        // y depends on x only through even and periodic functions: linear CCA sees almost nothing.
        var random = new Random(6);
        var n = 3000;
        var x = new double[n][];
        var y = new double[n][];
        for (var i = 0; i < n; i++)
        {
            var z1 = random.NextDouble() * 4 - 2;
            var z2 = random.NextDouble() * 4 - 2;
            x[i] = [z1, z2, Gaussian(random)];
            y[i] = [z1 * z1 + 0.1 * Gaussian(random), Math.Cos(2 * z2) + 0.1 * Gaussian(random), Gaussian(random)];
        }

        var linear = CanonicalCorrelation.Fit(x, y);
        var deep = DeepCca.Fit(x, y, new DccaOptions { Epochs = 150 });

        output.WriteLine($"linear {string.Join(", ", linear.Correlations.Select(c => c.ToString("F3")))}; deep {string.Join(", ", deep.Correlations.Select(c => c.ToString("F3")))}; {deep.EpochsPerSecond:F1} epochs/s");
        Assert.Equal(3, deep.Correlations.Length);
        Assert.True(deep.Correlations[0] >= deep.Correlations[1] && deep.Correlations[1] >= deep.Correlations[2]);
        Assert.True(deep.Total >= linear.Correlations.Sum(), $"DCCA total {deep.Total:F3} on held-out rows is below linear CCA's {linear.Correlations.Sum():F3}");
        Assert.InRange(deep.Correlations[0], 0.8, 1.0);
        Assert.Equal(150, deep.TrainingCurve.Length);
        Assert.True(deep.TrainingCurve[^1] > deep.TrainingCurve[0], "the training objective rises");
    }

    [Fact]
    public void Dcca_refuses_too_few_rows_with_the_counts()
    {
        double[][] x = [[1], [2], [3], [4]];

        var e = Assert.Throws<FoldCluster.Core.BadInputException>(() => DeepCca.Fit(x, x));

        Assert.Contains("got 4", e.Message);
    }
}
