using FoldCluster.Cluster.Trainers;
using FoldCluster.Core;

namespace FoldCluster.Cluster.Tests;

public sealed class SimulatedTrainerTests
{
    private static JobRequest Request(int fold, IReadOnlyDictionary<string, string>? overrides = null) => new(
        new JobKey("iemocap", "utterance", fold, "cmha", "AVT", true, "resnet50", 1, "tiny"),
        new DatasetSource("iemocap", "iemocap", "root", null, "resnet50", null, true),
        "cache", "cpu", overrides ?? new Dictionary<string, string>());

    [Fact]
    public void Metrics_are_deterministic_per_job_key_and_consistent_with_the_predictions()
    {
        var trainer = new SimulatedTrainer(TimeSpan.Zero);
        var epochs = new List<EpochReport>();
        var a = trainer.Run(Request(0), epochs.Add, CancellationToken.None);
        var again = trainer.Run(Request(0), _ => { }, CancellationToken.None);
        var other = trainer.Run(Request(1), _ => { }, CancellationToken.None);

        Assert.Equal(a.Test.Ua, again.Test.Ua);
        Assert.Equal(a.Predictions.Select(p => p.Predicted), again.Predictions.Select(p => p.Predicted));
        Assert.NotEqual(a.Predictions.Select(p => p.Predicted), other.Predictions.Select(p => p.Predicted));
        Assert.Equal([(1, 1), (1, 2), (2, 1), (2, 2)], epochs.Select(e => (e.Stage, e.Epoch)));

        Assert.Equal(40, a.Predictions.Count);
        Assert.Equal(40, a.Test.Confusion.Sum(row => row.Sum()));
        Assert.All(a.Test.Confusion, row => Assert.Equal(10, row.Sum()));
        var correct = Enumerable.Range(0, 4).Sum(i => a.Test.Confusion[i][i]);
        Assert.Equal(correct / 40.0, a.Test.Wa, 12);
        // Balanced classes: UA (mean recall) equals WA.
        Assert.Equal(a.Test.Wa, a.Test.Ua, 12);
        Assert.InRange(a.Test.MacroF1, 0, 1);
        Assert.InRange(a.Test.WeightedF1, 0, 1);
    }

    [Fact]
    public void Metrics_of_known_predictions()
    {
        // true angry x2 (one predicted happy), happy x1, sad x1 (predicted sad).
        var predictions = new List<UtterancePrediction>
        {
            new("u1", Emotion.Angry, Emotion.Angry),
            new("u2", Emotion.Angry, Emotion.Happy),
            new("u3", Emotion.Happy, Emotion.Happy),
            new("u4", Emotion.Sad, Emotion.Sad),
        };
        var m = SimulatedTrainer.MetricsOf(predictions);
        Assert.Equal(0.75, m.Wa, 12);
        // Neutral occurs neither in the truth nor in the predictions, so it is left out of UA and macro-F1
        // (the project's scorer, as scikit-learn does).
        Assert.Equal((0.5 + 1 + 1) / 3, m.Ua, 12);
        // F1: angry 2/3, happy 2/3, sad 1.
        Assert.Equal((2.0 / 3 + 2.0 / 3 + 1) / 3, m.MacroF1, 12);
        Assert.Equal((2 * 2.0 / 3 + 2.0 / 3 + 1) / 4, m.WeightedF1, 12);
        Assert.Equal([1, 1, 0, 0], m.Confusion[0]);
    }

    [Fact]
    public void Cancellation_stops_the_job_with_OperationCanceled()
    {
        var trainer = new SimulatedTrainer(TimeSpan.FromMinutes(10));
        using var cts = new CancellationTokenSource();
        cts.CancelAfter(TimeSpan.FromMilliseconds(100));
        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Run(Request(0), _ => { }, cts.Token));
    }

    [Theory]
    [InlineData("bad-input", typeof(BadInputException))]
    [InlineData("oom", typeof(OutOfMemoryException))]
    [InlineData("error", typeof(InvalidOperationException))]
    public void Requested_failures_are_thrown(string kind, Type expected)
    {
        var trainer = new SimulatedTrainer(TimeSpan.Zero);
        var e = Assert.ThrowsAny<Exception>(() => trainer.Run(Request(0, new Dictionary<string, string> { ["simulated.fail"] = kind }), _ => { }, CancellationToken.None));
        Assert.IsType(expected, e);
    }

    [Theory]
    [InlineData("simulated:x")]
    [InlineData("simulated:-1")]
    public void A_bad_simulated_duration_is_bad_input(string spec) =>
        Assert.Throws<BadInputException>(() => SimulatedTrainer.Parse(spec));
}
