using FoldCluster.Core.Sweeps;

namespace FoldCluster.Cluster.Trainers;

/// <summary>
/// A sweep for simulated runs (benchmarks, orchestration tests): one dataset, CMHA A+V+T, ten folds and as many
/// seeds as needed: exactly `jobs` jobs up to 10 (folds 0..jobs-1), else ceil(jobs / 10) * 10.
/// The corpus is never read by the simulated trainer.
/// </summary>
public static class SimulatedSweep
{
    public static SweepSpec Spec(string name, int jobs, IReadOnlyDictionary<string, string>? training = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(jobs, 1);
        var seeds = (jobs + SweepSpec.FoldCount - 1) / SweepSpec.FoldCount;
        var folds = Math.Min(jobs, SweepSpec.FoldCount);
        var dataset = new DatasetSpec("simulated", "iemocap", "simulated-corpus", null, "resnet50", null, true,
            new Dictionary<string, string>());
        return new SweepSpec(
            name,
            [dataset],
            ["cmha"],
            ["AVT"],
            [true],
            [.. Enumerable.Range(0, folds)],
            ["utterance"],
            [.. Enumerable.Range(1, seeds)],
            "tiny",
            training ?? new Dictionary<string, string>(),
            [],
            SweepSpec.DefaultMaxAttempts);
    }
}
