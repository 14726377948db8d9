namespace FoldCluster.Reports.Tests;

/// <summary>Fold statistics against values worked out by hand.</summary>
public class StatisticsTests
{
    [Fact]
    public void Mean_and_sample_std_use_n_minus_one()
    {
        double[] ua = [0.85, 0.87, 0.86, 0.88, 0.84, 0.86, 0.87, 0.85, 0.86, 0.86];
        Assert.Equal(0.86, FoldStatistics.Mean(ua), 12);
        // Deviations in hundredths: -1 1 0 2 -2 0 1 -1 0 0, squares sum to 12: sqrt(12e-4 / 9).
        Assert.Equal(Math.Sqrt(12e-4 / 9), FoldStatistics.SampleStd(ua)!.Value, 12);
        Assert.Equal(0.0115470054, FoldStatistics.SampleStd(ua)!.Value, 9);
        Assert.Null(FoldStatistics.SampleStd([0.5]));
    }

    [Fact]
    public void Paired_t_test_matches_the_closed_form_for_four_degrees_of_freedom()
    {
        // d = 1..5: mean 3, sd sqrt(2.5), t = 3 / sqrt(0.5) = 4.2426. For 4 df the t CDF has the closed form
        // F(t) = 1/2 + (3/8) x (1 - x^2 / 12 (1 + ...)) with x = t / sqrt(1 + t^2/4): p = 2 (1 - F) = 0.013235.
        var result = FoldStatistics.PairedTTest([1, 2, 3, 4, 5])!.Value;
        Assert.Equal(3 / Math.Sqrt(0.5), result.T, 10);
        var t = result.T;
        var s = 1 + t * t / 4;
        var cdf = 0.5 + 0.375 * (t / Math.Sqrt(s)) * (1 - t * t / (12 * s));
        Assert.Equal(2 * (1 - cdf), result.P, 10);
        Assert.Equal(0.013235, result.P, 5);
    }

    [Fact]
    public void Paired_t_test_is_undefined_when_every_difference_is_equal()
    {
        Assert.Null(FoldStatistics.PairedTTest([0.02, 0.02, 0.02]));
        Assert.Null(FoldStatistics.PairedTTest([0.02]));
    }

    [Fact]
    public void Wilcoxon_exact_p_for_all_positive_differences_is_two_over_two_to_the_n()
    {
        // n = 5, all positive: W+ = 15 is the single most extreme of 32 sign patterns; two-sided p = 2/32.
        var result = FoldStatistics.WilcoxonSignedRank([1, 2, 3, 4, 5])!.Value;
        Assert.Equal(5, result.N);
        Assert.Equal(15, result.WPlus);
        Assert.Equal(2.0 / 32, result.P, 12);
    }

    [Fact]
    public void Wilcoxon_exact_p_with_one_negative_rank()
    {
        // d = -1 2 3 4 5: W+ = 14; patterns with W+ >= 14 are {all +} and {rank 1 negative}: p = 2 * 2/32 = 0.125.
        var result = FoldStatistics.WilcoxonSignedRank([-1, 2, 3, 4, 5])!.Value;
        Assert.Equal(14, result.WPlus);
        Assert.Equal(0.125, result.P, 12);
    }

    [Fact]
    public void Wilcoxon_uses_mid_ranks_for_ties_and_drops_zero_differences()
    {
        // Nine differences of 0.02 and one of -0.01 (plus a zero, dropped): ranks 1 (negative) and 2..10 tied at 6.
        // W+ = 9 * 6 = 54; W+ >= 54 happens for {all +} and {rank 1 negative}: p = 2 * 2/1024.
        double[] d = [0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, -0.01, 0];
        var result = FoldStatistics.WilcoxonSignedRank(d)!.Value;
        Assert.Equal(10, result.N);
        Assert.Equal(54, result.WPlus);
        Assert.Equal(4.0 / 1024, result.P, 12);
    }

    [Fact]
    public void Wilcoxon_treats_differences_equal_up_to_rounding_noise_as_ties()
    {
        // 0.87 - 0.85 and 0.86 - 0.84 differ in the last bits of a double; they are the same 0.02.
        double[] d = [0.87 - 0.85, 0.86 - 0.84, 0.88 - 0.86, -(0.85 - 0.84)];
        var result = FoldStatistics.WilcoxonSignedRank(d)!.Value;
        Assert.Equal(9, result.WPlus); // ranks 3 3 3 (tied) positive, 1 negative
        Assert.Equal(2 * 2.0 / 16, result.P, 12);
    }

    [Fact]
    public void Wilcoxon_is_undefined_when_all_differences_are_zero()
    {
        Assert.Null(FoldStatistics.WilcoxonSignedRank([0.0, 0.0]));
    }

    [Fact]
    public void Compare_reports_the_mean_difference_of_paired_values()
    {
        var result = FoldStatistics.Compare([0.9, 0.8, 0.7], [0.8, 0.8, 0.6]);
        Assert.Equal(3, result.Pairs);
        Assert.Equal(0.2 / 3, result.MeanDifference, 12);
        Assert.Equal(0.8, result.MeanA, 12);
    }
}
