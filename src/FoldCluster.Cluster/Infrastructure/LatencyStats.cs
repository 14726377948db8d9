namespace FoldCluster.Cluster.Infrastructure;

/// <summary>Percentiles of a list of samples (nearest-rank), for dispatch latency reports.</summary>
public static class LatencyStats
{
    /// <param name="sorted">Samples in ascending order.</param>
    /// <param name="p">Percentile in (0, 100].</param>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
