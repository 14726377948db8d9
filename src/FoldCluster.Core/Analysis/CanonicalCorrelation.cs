using MathNet.Numerics.LinearAlgebra;

namespace FoldCluster.Core.Analysis;

/// <summary>Linear CCA fitted on paired rows: projections and canonical correlations, largest first.</summary>
public sealed class CanonicalCorrelation
{
    private CanonicalCorrelation(double[] meanX, double[] meanY, double[,] weightsX, double[,] weightsY, double[] correlations)
    {
        MeanX = meanX;
        MeanY = meanY;
        WeightsX = weightsX;
        WeightsY = weightsY;
        Correlations = correlations;
    }

    public double[] MeanX { get; }
    public double[] MeanY { get; }

    /// <summary>[p][k]: column c projects centred x rows onto the c-th canonical direction.</summary>
    public double[,] WeightsX { get; }

    /// <summary>[q][k].</summary>
    public double[,] WeightsY { get; }

    /// <summary>Canonical correlations of the fitted rows, k = min(p, q), largest first.</summary>
    public double[] Correlations { get; }

    /// <summary>
    /// Fits CCA: the singular values of Cxx^-1/2 Cxy Cyy^-1/2 are the canonical correlations. A ridge of
    /// <paramref name="ridge"/> x (mean variance) on each covariance keeps near-singular inputs usable.
    /// </summary>
    public static CanonicalCorrelation Fit(IReadOnlyList<double[]> x, IReadOnlyList<double[]> y, double ridge = 1e-6)
    {
        AnalysisInput.CheckPaired(x, y, "x", "y");
        var n = x.Count;
        var p = x[0].Length;
        var q = y[0].Length;
        if (n < 3)
        {
            throw new BadInputException($"CCA needs at least 3 rows: got {n}");
        }
        var meanX = PrincipalComponents.Mean(x);
        var meanY = PrincipalComponents.Mean(y);
        var cxx = Covariance(x, meanX, x, meanX);
        var cyy = Covariance(y, meanY, y, meanY);
        var cxy = Covariance(x, meanX, y, meanY);
        var invSqrtX = InverseSquareRoot(cxx, ridge);
        var invSqrtY = InverseSquareRoot(cyy, ridge);
        var t = invSqrtX * cxy * invSqrtY;
        var svd = t.Svd(computeVectors: true);
        var k = Math.Min(p, q);
        var correlations = new double[k];
        for (var c = 0; c < k; c++)
        {
            correlations[c] = Math.Clamp(svd.S[c], 0, 1);
        }
        var wx = invSqrtX * svd.U.SubMatrix(0, p, 0, k);
        var wy = invSqrtY * svd.VT.Transpose().SubMatrix(0, q, 0, k);
        return new CanonicalCorrelation(meanX, meanY, wx.ToArray(), wy.ToArray(), correlations);
    }

    /// <summary>Projects rows of x (or y) onto the k canonical directions.</summary>
    public double[][] ProjectX(IReadOnlyList<double[]> x) => Project(x, MeanX, WeightsX);

    public double[][] ProjectY(IReadOnlyList<double[]> y) => Project(y, MeanY, WeightsY);

    /// <summary>Pearson correlation of each pair of canonical variates on other rows (e.g. held out), in fitted order.</summary>
    public double[] CorrelationsOn(IReadOnlyList<double[]> x, IReadOnlyList<double[]> y)
    {
        AnalysisInput.CheckPaired(x, y, "x", "y");
        var u = ProjectX(x);
        var v = ProjectY(y);
        var k = Correlations.Length;
        var result = new double[k];
        for (var c = 0; c < k; c++)
        {
            result[c] = Pearson(u.Select(r => r[c]).ToArray(), v.Select(r => r[c]).ToArray());
        }
        return result;
    }

    public static double Pearson(double[] a, double[] b)
    {
        var ma = a.Average();
        var mb = b.Average();
        double sab = 0, saa = 0, sbb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return saa > 0 && sbb > 0 ? sab / Math.Sqrt(saa * sbb) : 0;
    }

    private static double[][] Project(IReadOnlyList<double[]> rows, double[] mean, double[,] weights)
    {
        var k = weights.GetLength(1);
        var result = new double[rows.Count][];
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != mean.Length)
            {
                throw new BadInputException($"row {i + 1} has {rows[i].Length} values: expected {mean.Length} as fitted");
            }
            result[i] = new double[k];
            for (var f = 0; f < mean.Length; f++)
            {
                var centred = rows[i][f] - mean[f];
                for (var c = 0; c < k; c++)
                {
                    result[i][c] += centred * weights[f, c];
                }
            }
        }
        return result;
    }

    private static Matrix<double> Covariance(IReadOnlyList<double[]> a, double[] meanA, IReadOnlyList<double[]> b, double[] meanB)
    {
        var p = meanA.Length;
        var q = meanB.Length;
        var c = new double[p, q];
        var ca = new double[p];
        var cb = new double[q];
        for (var i = 0; i < a.Count; i++)
        {
            for (var f = 0; f < p; f++)
            {
                ca[f] = a[i][f] - meanA[f];
            }
            for (var g = 0; g < q; g++)
            {
                cb[g] = b[i][g] - meanB[g];
            }
            for (var f = 0; f < p; f++)
            {
                var s = ca[f];
                for (var g = 0; g < q; g++)
                {
                    c[f, g] += s * cb[g];
                }
            }
        }
        var m = Matrix<double>.Build.DenseOfArray(c);
        return m / (a.Count - 1);
    }

    private static Matrix<double> InverseSquareRoot(Matrix<double> covariance, double ridge)
    {
        var p = covariance.RowCount;
        var meanVariance = covariance.Diagonal().Sum() / p;
        var shift = ridge * Math.Max(meanVariance, 1e-300);
        var evd = (covariance + Matrix<double>.Build.DenseIdentity(p) * shift).Evd(Symmetricity.Symmetric);
        var values = evd.EigenValues.Select(v => 1.0 / Math.Sqrt(Math.Max(v.Real, shift))).ToArray();
        var vectors = evd.EigenVectors;
        return vectors * Matrix<double>.Build.DiagonalOfDiagonalArray(values) * vectors.Transpose();
    }
}
