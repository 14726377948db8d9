using FoldCluster.Model.Analysis;
using FoldCluster.Reports.Analysis;

namespace FoldCluster.Cli.Commands.Analysis;

/// <summary>
/// MINE and DCCA for the figures of `tables --figures`, with the same settings as `analysis mi` and
/// `analysis cca --deep` (seed 1) so that a figure's numbers can be reproduced from its CSV inputs by hand.
/// </summary>
internal sealed class TorchAnalysisEstimators(CancellationToken cancellationToken) : IAnalysisEstimators
{
    /// <summary>MINE steps per Fig. 8 curve: enough for the moving average to settle on test-fold sized data.</summary>
    public const int MineSteps = 1500;

    public (double[] Raw, double[] Smoothed, int Window) MutualInformation(double[][] x, double[][] y)
    {
        var options = new MineOptions { Steps = MineSteps };
        var result = MutualInformationEstimator.Estimate(x, y, options, cancellationToken);
        return (result.RawCurve, result.Curve, options.SmoothingWindow);
    }

    public (double[] Curve, double HeldOutTotal) DeepCanonicalCorrelation(double[][] x, double[][] y)
    {
        var result = DeepCca.Fit(x, y, new DccaOptions(), cancellationToken);
        return (result.TrainingCurve, result.Total);
    }
}
