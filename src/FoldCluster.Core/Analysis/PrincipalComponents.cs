namespace FoldCluster.Core.Analysis;

/// <summary>Leading principal directions by orthogonal (subspace) iteration; deterministic, signs fixed.</summary>
public static class PrincipalComponents
{
    public static double[] Mean(IReadOnlyList<double[]> x)
    {
        var d = x[0].Length;
        var mean = new double[d];
        foreach (var row in x)
        {
            for (var f = 0; f < d; f++)
            {
                mean[f] += row[f];
            }
        }
        for (var f = 0; f < d; f++)
        {
            mean[f] /= x.Count;
        }
        return mean;
    }

    /// <summary>
    /// The <paramref name="count"/> leading unit directions of the centred rows, largest variance first; each sign
    /// chosen so its largest-magnitude entry is positive. Iterates X^T X on a block of count + 6 vectors.
    /// </summary>
    public static double[][] Top(IReadOnlyList<double[]> x, int count, int iterations = 20)
    {
        var n = x.Count;
        var d = x[0].Length;
        var mean = Mean(x);
        var width = Math.Min(d, count + 6);
        var basis = new double[width][];
        var random = new Random(12345);
        for (var b = 0; b < width; b++)
        {
            basis[b] = new double[d];
            for (var f = 0; f < d; f++)
            {
                basis[b][f] = random.NextDouble() - 0.5;
            }
        }
        Orthonormalise(basis);
        var projected = new double[width];
        for (var it = 0; it < iterations; it++)
        {
            var next = new double[width][];
            for (var b = 0; b < width; b++)
            {
                next[b] = new double[d];
            }
            foreach (var row in x)
            {
                for (var b = 0; b < width; b++)
                {
                    var s = 0.0;
                    var v = basis[b];
                    for (var f = 0; f < d; f++)
                    {
                        s += (row[f] - mean[f]) * v[f];
                    }
                    projected[b] = s;
                }
                for (var b = 0; b < width; b++)
                {
                    var s = projected[b];
                    var target = next[b];
                    for (var f = 0; f < d; f++)
                    {
                        target[f] += s * (row[f] - mean[f]);
                    }
                }
            }
            basis = next;
            Orthonormalise(basis);
        }
        // Rayleigh quotients order the block by variance (orthogonal iteration converges to it, but not sorted exactly).
        var variance = basis.Select(v => x.Sum(row =>
        {
            var s = 0.0;
            for (var f = 0; f < d; f++)
            {
                s += (row[f] - mean[f]) * v[f];
            }
            return s * s;
        })).ToArray();
        var result = Enumerable.Range(0, width).OrderByDescending(b => variance[b]).ThenBy(b => b).Take(count).Select(b => basis[b]).ToArray();
        foreach (var v in result)
        {
            var peak = 0;
            for (var f = 1; f < d; f++)
            {
                if (Math.Abs(v[f]) > Math.Abs(v[peak]))
                {
                    peak = f;
                }
            }
            if (v[peak] < 0)
            {
                for (var f = 0; f < d; f++)
                {
                    v[f] = -v[f];
                }
            }
        }
        return result;
    }

    /// <summary>Modified Gram-Schmidt; a vector that collapses is replaced by a fixed unit direction orthogonal to the rest.</summary>
    private static void Orthonormalise(double[][] basis)
    {
        var d = basis[0].Length;
        for (var b = 0; b < basis.Length; b++)
        {
            for (var pass = 0; pass < 2; pass++)
            {
                for (var a = 0; a < b; a++)
                {
                    var dot = 0.0;
                    for (var f = 0; f < d; f++)
                    {
                        dot += basis[a][f] * basis[b][f];
                    }
                    for (var f = 0; f < d; f++)
                    {
                        basis[b][f] -= dot * basis[a][f];
                    }
                }
            }
            var norm = Math.Sqrt(basis[b].Sum(v => v * v));
            if (norm < 1e-300)
            {
                Array.Clear(basis[b]);
                basis[b][b % d] = 1;
                continue;
            }
            for (var f = 0; f < d; f++)
            {
                basis[b][f] /= norm;
            }
        }
    }
}
