using FoldCluster.Core.Analysis;
using Xunit;

namespace FoldCluster.Core.Tests.Analysis;

public sealed class CanonicalCorrelationTests
{
    /// <summary>
    /// x = A [u1, u2, e1], y = B [v1, v2, e2, e3] with corr(u1, v1) = 0.9, corr(u2, v2) = 0.5 and everything else
    /// independent: after any invertible mixing A, B the canonical correlations are 0.9, 0.5, 0.
    /// </summary>
    [Fact]
    public void Recovers_known_canonical_correlations_through_mixing()
    {
        var random = new Random(7);
        var n = 20000;
        double[,] a = { { 1.0, 0.5, -0.3 }, { 0.2, 1.0, 0.4 }, { -0.6, 0.1, 1.0 } };
        double[,] b = { { 1.0, 0.0, 0.3, 0.2 }, { 0.4, 1.0, 0.0, -0.5 }, { 0.0, 0.7, 1.0, 0.1 }, { 0.3, -0.2, 0.5, 1.0 } };
        var x = new double[n][];
        var y = new double[n][];
        for (var i = 0; i < n; i++)
        {
            var u1 = AnalysisData.Gaussian(random);
            var u2 = AnalysisData.Gaussian(random);
            var v1 = 0.9 * u1 + Math.Sqrt(1 - 0.81) * AnalysisData.Gaussian(random);
            var v2 = 0.5 * u2 + Math.Sqrt(1 - 0.25) * AnalysisData.Gaussian(random);
            x[i] = Mix(a, [u1, u2, AnalysisData.Gaussian(random)]);
            y[i] = Mix(b, [v1, v2, AnalysisData.Gaussian(random), AnalysisData.Gaussian(random)]);
        }

        var cca = CanonicalCorrelation.Fit(x, y);

        Assert.Equal(3, cca.Correlations.Length);
        Assert.InRange(cca.Correlations[0], 0.88, 0.92);
        Assert.InRange(cca.Correlations[1], 0.48, 0.52);
        Assert.InRange(cca.Correlations[2], 0.0, 0.02);
        // The fitted projections reproduce the correlations on the rows themselves (up to the small ridge).
        var onRows = cca.CorrelationsOn(x, y);
        Assert.Equal(cca.Correlations[0], onRows[0], 4);
        Assert.Equal(cca.Correlations[1], onRows[1], 4);
    }

    [Fact]
    public void Rows_that_do_not_pair_are_refused()
    {
        double[][] x = [[1], [2], [3], [4]];
        double[][] y = [[1], [2], [3]];

        var e = Assert.Throws<BadInputException>(() => CanonicalCorrelation.Fit(x, y));

        Assert.Contains("4 rows", e.Message);
        Assert.Contains("3", e.Message);
    }

    private static double[] Mix(double[,] m, double[] v)
    {
        var r = new double[m.GetLength(0)];
        for (var i = 0; i < r.Length; i++)
        {
            for (var j = 0; j < v.Length; j++)
            {
                r[i] += m[i, j] * v[j];
            }
        }
        return r;
    }
}
