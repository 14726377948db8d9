namespace FoldCluster.Core.Tests.Analysis;

/// <summary>Seeded samples with known structure for the analysis tests.</summary>
internal static class AnalysisData
{
    public static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary><paramref name="clusters"/> Gaussian blobs of unit spread whose centres are 20 apart in <paramref name="dims"/> dims.</summary>
    public static (double[][] X, int[] Labels) Blobs(int perCluster, int clusters, int dims, int seed)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, dims).Select(_ => 0.0).ToArray()).ToArray();
        for (var c = 0; c < clusters; c++)
        {
            centres[c][c % dims] = 20 * (1 + c / dims);
        }
        var x = new List<double[]>();
        var labels = new List<int>();
        for (var i = 0; i < perCluster * clusters; i++)
        {
            var c = i % clusters;
            x.Add(centres[c].Select(m => m + Gaussian(random)).ToArray());
            labels.Add(c);
        }
        return (x.ToArray(), labels.ToArray());
    }

    /// <summary>Share of each point's k nearest neighbours (in <paramref name="y"/>) with its own label, averaged.</summary>
    public static double NeighbourPurity(double[][] y, int[] labels, int k)
    {
        var total = 0.0;
        for (var i = 0; i < y.Length; i++)
        {
            var nearest = Enumerable.Range(0, y.Length).Where(j => j != i)
                .OrderBy(j => Math.Pow(y[i][0] - y[j][0], 2) + Math.Pow(y[i][1] - y[j][1], 2))
                .Take(k);
            total += nearest.Count(j => labels[j] == labels[i]) / (double)k;
        }
        return total / y.Length;
    }
}
