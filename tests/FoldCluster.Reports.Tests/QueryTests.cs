using FoldCluster.Core;
using FoldCluster.Reports.Queries;

namespace FoldCluster.Reports.Tests;

/// <summary>`results query` reads: per-job rows, filters, per-cell aggregates computed in SQL.</summary>
public class QueryTests
{
    [Fact]
    public async Task Aggregate_matches_the_hand_worked_cell_and_counts_only_finished_folds()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var queries = new ResultQueries(database.DataSource);
        var sweep = await queries.FindSweepAsync("golden");
        var cells = await queries.AggregateAsync(sweep.SweepId, ResultFilter.None);

        var cmha = cells.Single(c => c.Dataset == "iemocap" && c.Method == "cmha" && c.Modalities == "AVT" && c.Pretrained && c.Extractor == "resnet50" && c.Split == "utterance");
        Assert.Equal(10, cmha.Folds);
        Assert.Equal(0.86, cmha.UaMean, 12);
        Assert.Equal(Math.Sqrt(12e-4 / 9), cmha.UaStd!.Value, 12);
        Assert.Equal(0.855, cmha.MacroF1Mean, 12);

        // Failed, running and result-less succeeded folds do not count: 7 of 10.
        var multVt = cells.Single(c => c.Dataset == "iemocap" && c.Method == "mult" && c.Modalities == "VT");
        Assert.Equal(7, multVt.Folds);

        // One fold (a cancelled job's result is ignored): no standard deviation.
        var concat = cells.Single(c => c.Dataset == "msp-improv" && c.Method == "concat" && c.Modalities == "AV");
        Assert.Equal(1, concat.Folds);
        Assert.Null(concat.UaStd);
        Assert.Equal(0.57 + 0.002 * -4.5, concat.UaMean, 12);

        // Two seeds per fold: averaged first, so ten folds of twenty runs, mean between the two seeds' bases.
        var twoSeeds = cells.Single(c => c.Dataset == "msp-improv" && c.Method == "cmha" && c.Modalities == "AV");
        Assert.Equal(10, twoSeeds.Folds);
        Assert.Equal(20, twoSeeds.Runs);
        Assert.Equal(0.63, twoSeeds.UaMean, 12);
        // Offsets 0.002 * (0..9 permuted - 4.5): sample std = 0.002 * std(0..9) = 0.002 * sqrt(82.5 / 9).
        Assert.Equal(0.002 * Math.Sqrt(82.5 / 9), twoSeeds.UaStd!.Value, 12);
    }

    [Fact]
    public async Task Job_rows_carry_state_attempts_and_metrics_and_filters_narrow_them()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var queries = new ResultQueries(database.DataSource);
        var sweep = await queries.FindSweepAsync("golden");

        var multVt = await queries.QueryJobsAsync(sweep.SweepId, new ResultFilter { Dataset = "IEMOCAP", Method = "mult", Modalities = "VT" });
        Assert.Equal(10, multVt.Count);
        Assert.Equal(Enumerable.Range(0, 10), multVt.Select(r => r.Fold));
        var failed = multVt.Single(r => r.Fold == 7);
        Assert.Equal("failed", failed.State);
        Assert.Equal(3, failed.Attempts);
        Assert.Null(failed.Ua);
        Assert.Equal("out of memory", failed.Error);
        var first = multVt[0];
        Assert.Equal("succeeded", first.State);
        Assert.Equal(0.75 + 0.002 * -4.5, first.Ua!.Value, 12);
        Assert.Equal(first.Ua.Value + 0.01, first.Wa!.Value, 12);
        Assert.Equal(20, first.BestEpoch);

        var onlyFailed = await queries.QueryJobsAsync(sweep.SweepId, new ResultFilter { State = "failed" });
        Assert.Equal(2, onlyFailed.Count);
        var fold3 = await queries.QueryJobsAsync(sweep.SweepId, new ResultFilter { Fold = 3, Method = "tfn" });
        Assert.Equal(3, fold3.Count);
        Assert.All(fold3, r => Assert.Equal(3, r.Fold));

        var nothing = await queries.QueryJobsAsync(sweep.SweepId, new ResultFilter { Dataset = "no-such-dataset" });
        Assert.Empty(nothing);
        var noCells = await queries.AggregateAsync(sweep.SweepId, new ResultFilter { Method = "tfn", Modalities = "AV" });
        Assert.Empty(noCells);
    }

    [Fact]
    public async Task Unknown_sweep_is_bad_input_that_lists_the_existing_sweeps()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var queries = new ResultQueries(database.DataSource);
        var error = await Assert.ThrowsAsync<BadInputException>(() => queries.FindSweepAsync("nope"));
        Assert.Contains("no sweep named 'nope'; known sweeps: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("golden (", error.Message, StringComparison.Ordinal);
        Assert.Contains("waiting (0/10 jobs finished)", error.Message, StringComparison.Ordinal);
        // A sweep may also be named by its number.
        var byNumber = await queries.FindSweepAsync("2");
        Assert.Equal("waiting", byNumber.Name);
    }

    [Fact]
    public async Task Confusion_matrices_are_summed_over_folds_in_sql()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var queries = new ResultQueries(database.DataSource);
        var sweep = await queries.FindSweepAsync("golden");
        var cell = new CellKey("iemocap", "utterance", "cmha", "AVT", true, "resnet50", "paper");
        var matrix = await queries.SummedConfusionAsync(sweep.SweepId, cell);
        // Ten folds of 110 / 164 / 108 / 171 test utterances per class.
        Assert.Equal([1100, 1640, 1080, 1710], matrix.Select(r => r.Sum()));
        // Fold 0 (UA 0.85): angry recall round(110 * 0.88) = 97; summed over the ten folds' UA values.
        double[] ua = [0.85, 0.87, 0.86, 0.88, 0.84, 0.86, 0.87, 0.85, 0.86, 0.86];
        Assert.Equal(ua.Sum(u => (int)Math.Round(110 * (u + 0.03), MidpointRounding.AwayFromZero)), matrix[0][0]);
    }

    [Fact]
    public async Task Epochs_come_from_the_attempt_that_stored_the_result()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var queries = new ResultQueries(database.DataSource);
        var sweep = await queries.FindSweepAsync("golden");
        var job = await queries.FirstJobOfCellAsync(sweep.SweepId, new CellKey("iemocap", "utterance", "cmha", "AVT", true, "resnet50", "paper"));
        var epochs = await queries.EpochsAsync(job!.Value);
        Assert.Equal(50, epochs.Count);
        Assert.Equal(20, epochs.Count(e => e.Stage == 1));
        Assert.DoesNotContain(epochs, e => e.TrainLoss == 9.0);
        Assert.Equal(0.85 - 0.5 * Math.Exp(-30 / 7.0), epochs[^1].ValUa!.Value, 12);
    }
}
