namespace FoldCluster.Core.Analysis;

/// <summary>The smoothing of the paper's Fig. 8 and 9 curves.</summary>
public static class MovingAverage
{
    /// <summary>Trailing moving average: value t is the mean of the last min(window, t + 1) values.</summary>
    public static double[] Trailing(IReadOnlyList<double> values, int window)
    {
        if (window < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "a moving-average window is at least 1");
        }
        var result = new double[values.Count];
        var sum = 0.0;
        for (var t = 0; t < values.Count; t++)
        {
            sum += values[t];
            if (t >= window)
            {
                sum -= values[t - window];
            }
            result[t] = sum / Math.Min(window, t + 1);
        }
        return result;
    }
}
