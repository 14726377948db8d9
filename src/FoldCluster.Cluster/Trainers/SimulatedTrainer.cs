using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using FoldCluster.Core;
using FoldCluster.Core.Metrics;

namespace FoldCluster.Cluster.Trainers;

/// <summary>
/// A stand-in trainer for orchestration tests and benchmarks (`--trainer simulated:SECONDS`): it waits SECONDS per job,
/// split into four epochs (two per training stage), reports each epoch, stops at once when cancelled (it
/// waits on the cancellation's handle, not in polling steps: a sleeping slot costs no CPU, which matters at hundreds
/// of slots per machine), and returns made-up but consistent metrics that depend only on the job key: 40 test utterances
/// (10 per class), predictions drawn from a key-seeded generator, and UA, WA, macro-F1, weighted-F1 computed from
/// the confusion matrix of those predictions.
/// Training overrides can ask for failures: `simulated.fail = bad-input | oom | error`, and for a hung trainer:
/// `simulated.hang = N` stops advancing after N epochs (0-3) and waits until it is cancelled.
/// </summary>
public sealed class SimulatedTrainer(TimeSpan perJob) : IJobTrainer
{
    public const int EpochsPerStage = 2;
    public const int UtterancesPerClass = 10;

    public TimeSpan PerJob { get; } = perJob;

    /// <summary>Parses "simulated:SECONDS" (SECONDS &gt;= 0, fractions allowed).</summary>
    public static SimulatedTrainer Parse(string spec)
    {
        var text = spec["simulated:".Length..];
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            || seconds < 0 || seconds > 86_400 || double.IsNaN(seconds))
        {
            throw new BadInputException($"--trainer '{spec}': expected simulated:SECONDS with SECONDS a number from 0 to 86400");
        }
        return new SimulatedTrainer(TimeSpan.FromSeconds(seconds));
    }

    public TrainingOutcome Run(JobRequest request, Action<EpochReport> onEpoch, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        PreciseSleep.WakeOnTime();
        if (request.TrainingOverrides.TryGetValue("simulated.fail", out var fail))
        {
            switch (fail)
            {
                case "bad-input": throw new BadInputException($"simulated bad input for job {request.Key.Canonical}");
                case "oom": throw new OutOfMemoryException($"simulated out of memory for job {request.Key.Canonical}");
                case "error": throw new InvalidOperationException($"simulated transient error for job {request.Key.Canonical}");
            }
        }
        var hangAfter = HangAfter(request);
        var random = new Random(Seed(request.Key));
        var epochs = new List<EpochReport>();
        var total = 2 * EpochsPerStage;
        var index = 0;
        for (var stage = 1; stage <= 2; stage++)
        {
            for (var epoch = 1; epoch <= EpochsPerStage; epoch++)
            {
                if (index == hangAfter)
                {
                    // A hung trainer: no more epochs, only the cancellation (which the worker sends) ends it.
                    cancellationToken.WaitHandle.WaitOne();
                    cancellationToken.ThrowIfCancellationRequested();
                }
                index++;
                // Wait until this epoch's share of the job time; a cancel ends the wait at once.
                var until = TimeSpan.FromTicks(PerJob.Ticks * index / total);
                WaitUntil(clock, until, cancellationToken);
                cancellationToken.ThrowIfCancellationRequested();
                var loss = 1.5 / (index + random.NextDouble());
                var report = stage == 1
                    ? new EpochReport(stage, epoch, EpochsPerStage, loss, loss * 1.1, null)
                    : new EpochReport(stage, epoch, EpochsPerStage, loss, loss * 1.1, 0.4 + 0.1 * epoch);
                epochs.Add(report);
                onEpoch(report);
            }
        }
        var predictions = new List<UtterancePrediction>();
        var accuracy = 0.45 + random.NextDouble() * 0.35;
        foreach (var truth in Emotions.All)
        {
            for (var i = 0; i < UtterancesPerClass; i++)
            {
                var predicted = random.NextDouble() < accuracy ? truth : (Emotion)random.Next(Emotions.Count);
                predictions.Add(new UtterancePrediction($"sim_{(int)truth}_{i:00}", truth, predicted));
            }
        }
        return new TrainingOutcome(MetricsOf(predictions), EpochsPerStage, clock.Elapsed.TotalSeconds, predictions, epochs);
    }

    /// <summary>
    /// Waits until the clock reads <paramref name="until"/>, without spinning: a wait handle's timeout is whole
    /// milliseconds (rounded down), so waiting on it alone returned up to a millisecond early and the loop polled the
    /// clock through that last millisecond, four times per job (at hundreds of slots, a good part of a worker node's
    /// CPU). The remainder under a millisecond is slept, not cancellable (it is shorter than any reaction to a cancel).
    /// </summary>
    private static void WaitUntil(Stopwatch clock, TimeSpan until, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = until - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                return;
            }
            if (left >= TimeSpan.FromMilliseconds(1))
            {
                if (cancellationToken.WaitHandle.WaitOne((int)left.TotalMilliseconds))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
                continue;
            }
            PreciseSleep.For(left);
        }
    }

    private static int? HangAfter(JobRequest request)
    {
        if (!request.TrainingOverrides.TryGetValue("simulated.hang", out var text))
        {
            return null;
        }
        return SettingValues.Int("training override simulated.hang", text, 0, 2 * EpochsPerStage - 1);
    }

    /// <summary>Metrics of a list of predictions, by the same scorer as real jobs.</summary>
    public static ClassificationMetrics MetricsOf(IReadOnlyList<UtterancePrediction> predictions) =>
        ClassificationScorer.Score([.. predictions.Select(p => p.True)], [.. predictions.Select(p => p.Predicted)]);

    private static int Seed(JobKey key) =>
        BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(key.Canonical)), 0);
}
