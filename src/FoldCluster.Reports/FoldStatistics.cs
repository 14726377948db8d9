using MathNet.Numerics.Distributions;

namespace FoldCluster.Reports;

/// <summary>Result of a paired comparison over folds (differences are a - b).</summary>
public sealed record PairedComparison(
    int Pairs,
    double MeanA,
    double MeanB,
    double MeanDifference,
    double? StdDifference,
    double? TStatistic,
    double? TTestP,
    int WilcoxonN,
    double? WilcoxonWPlus,
    double? WilcoxonP);

/// <summary>
/// Fold statistics. Tables aggregate in SQL (avg, stddev_samp); these are the same definitions in C# for the
/// comparisons and for checking the SQL against hand-worked values.
/// </summary>
public static class FoldStatistics
{
    public static double Mean(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("the mean of no values is undefined", nameof(values));
        }
        return values.Sum() / values.Count;
    }

    /// <summary>Sample standard deviation (n - 1 in the denominator, as PostgreSQL's stddev_samp); null for n &lt; 2.</summary>
    public static double? SampleStd(IReadOnlyList<double> values)
    {
        if (values.Count < 2)
        {
            return null;
        }
        var mean = Mean(values);
        var sum = values.Sum(v => (v - mean) * (v - mean));
        return Math.Sqrt(sum / (values.Count - 1));
    }

    /// <summary>
    /// Two-sided paired t-test on the differences a - b (t = mean / (sd / sqrt n), n - 1 degrees of freedom).
    /// Null when undefined: fewer than two pairs, or all differences equal (sd = 0).
    /// </summary>
    public static (double T, double P)? PairedTTest(IReadOnlyList<double> differences)
    {
        if (differences.Count < 2)
        {
            return null;
        }
        var sd = SampleStd(differences)!.Value;
        // Equal differences leave only float noise in sd (~1e-17); t would be a meaningless huge number.
        if (sd < 1e-12)
        {
            return null;
        }
        var t = Mean(differences) / (sd / Math.Sqrt(differences.Count));
        var p = 2 * StudentT.CDF(0, 1, differences.Count - 1, -Math.Abs(t));
        return (t, Math.Min(1, p));
    }

    /// <summary>
    /// Two-sided Wilcoxon signed-rank test on the differences, exact: differences are rounded to 1e-10 (float noise
    /// must not break ties), zero differences are dropped (Wilcoxon's convention), tied absolute differences get mid-ranks, and the p-value comes from the exact distribution of
    /// W+ over all 2^n sign patterns of those ranks (computed by dynamic programming, so ties stay exact).
    /// p = min(1, 2 min(P(W+ &lt;= w), P(W+ &gt;= w))). Null when no difference is non-zero.
    /// </summary>
    public static (int N, double WPlus, double P)? WilcoxonSignedRank(IReadOnlyList<double> differences)
    {
        // Metrics are ratios of counts; rounding away float noise (1e-10) keeps equal differences tied.
        var nonZero = differences.Select(d => Math.Round(d, 10)).Where(d => d != 0).ToArray();
        var n = nonZero.Length;
        if (n == 0)
        {
            return null;
        }
        var order = nonZero.Select((d, i) => (Abs: Math.Abs(d), Index: i)).OrderBy(x => x.Abs).ToArray();
        // Doubled mid-ranks are integers, so the DP runs over integer sums.
        var doubledRanks = new int[n];
        for (var i = 0; i < n;)
        {
            var j = i;
            while (j + 1 < n && order[j + 1].Abs == order[i].Abs)
            {
                j++;
            }
            var doubledMidRank = (i + 1) + (j + 1);
            for (var k = i; k <= j; k++)
            {
                doubledRanks[order[k].Index] = doubledMidRank;
            }
            i = j + 1;
        }
        var total = doubledRanks.Sum();
        var counts = new double[total + 1];
        counts[0] = 1;
        foreach (var rank in doubledRanks)
        {
            for (var s = total; s >= rank; s--)
            {
                counts[s] += counts[s - rank];
            }
        }
        var observed = 0;
        for (var i = 0; i < n; i++)
        {
            if (nonZero[i] > 0)
            {
                observed += doubledRanks[i];
            }
        }
        var all = Math.Pow(2, n);
        double lower = 0, upper = 0;
        for (var s = 0; s <= total; s++)
        {
            if (s <= observed)
            {
                lower += counts[s];
            }
            if (s >= observed)
            {
                upper += counts[s];
            }
        }
        var p = Math.Min(1, 2 * Math.Min(lower, upper) / all);
        return (n, observed / 2.0, p);
    }

    /// <summary>Pairs a with b by fold and runs both tests on a - b.</summary>
    public static PairedComparison Compare(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count)
        {
            throw new ArgumentException("paired samples must have the same length");
        }
        if (a.Count == 0)
        {
            return new PairedComparison(0, double.NaN, double.NaN, double.NaN, null, null, null, 0, null, null);
        }
        // Rounded to 1e-10 so that float noise neither breaks Wilcoxon ties nor fakes a tiny non-zero sd.
        var differences = a.Zip(b, (x, y) => Math.Round(x - y, 10)).ToArray();
        var t = PairedTTest(differences);
        var w = WilcoxonSignedRank(differences);
        return new PairedComparison(
            a.Count,
            Mean(a),
            Mean(b),
            Mean(differences),
            SampleStd(differences),
            t?.T,
            t?.P,
            w?.N ?? 0,
            w?.WPlus,
            w?.P);
    }
}
