using System.Globalization;
using System.Text.Json;
using Dapper;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Core.Sweeps;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// The whole pipeline with real parts: a generated corpus in the IEMOCAP layout, `corpus inspect`, `features extract`
/// (ffmpeg + random ResNet-50), `train` on the feature cache, and a real ten-fold CMHA A+V+T sweep (tiny profile)
/// on a two-worker cluster of `foldcluster node` processes, with every result in PostgreSQL.
/// </summary>
[Collection(ClusterProcesses.Name)]
public sealed class RealSweepTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("foldcluster-real-sweep-");
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        _dir.Delete(recursive: true);
    }

    private async Task<CliResult> Cli(params string[] args)
    {
        var result = await CliProcess.RunAsync(args, timeout: TimeSpan.FromMinutes(5));
        output.WriteLine($"foldcluster {string.Join(' ', args)} -> {result.ExitCode}\n{result.StandardError}");
        return result;
    }

    [Fact]
    public async Task Generated_corpus_goes_through_inspect_extract_train_and_a_two_worker_ten_fold_sweep()
    {
        var corpus = Path.Combine(_dir.FullName, "generated-corpus");
        var cache = Path.Combine(_dir.FullName, "cache");

        var synth = await Cli("corpus", "synth", "--layout", "iemocap", "--out", corpus, "--speakers", "10", "--utterances", "140", "--seed", "7");
        Assert.Equal(0, synth.ExitCode);

        var inspect = await Cli("corpus", "inspect", "--layout", "iemocap", "--root", corpus, "--json");
        Assert.Equal(0, inspect.ExitCode);
        using var report = JsonDocument.Parse(inspect.StandardOutput);
        var kept = report.RootElement.GetProperty("utterances").GetInt32();
        var byLabel = report.RootElement.GetProperty("by_label");
        Assert.Equal(kept, new[] { "angry", "happy", "sad", "neutral" }.Sum(l => byLabel.GetProperty(l).GetInt32()));
        Assert.Equal(10, report.RootElement.GetProperty("by_speaker").EnumerateObject().Count());
        Assert.InRange(kept, 100, 140);

        var extract = await Cli("features", "extract", "--layout", "iemocap", "--root", corpus, "--cache", cache,
            "--dataset", "generated", "--extractor", "resnet50", "--allow-random-weights");
        Assert.Equal(0, extract.ExitCode);

        var train = await Cli("train", "--features", cache, "--dataset", "generated", "--method", "cmha", "--modalities", "AVT",
            "--fold", "0", "--profile", "tiny", "--seed", "1", "--set", "epochs_stage2=12", "--set", "patience=4", "--json");
        Assert.Equal(0, train.ExitCode);
        using (var metrics = JsonDocument.Parse(train.StandardOutput.Trim().Split('\n')[^1]))
        {
            var ua = metrics.RootElement.GetProperty("ua").GetDouble();
            Assert.InRange(ua, 0.0, 1.0);
            var confusion = metrics.RootElement.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
            Assert.Equal(4, confusion.Length);
            Assert.All(confusion, row => Assert.Equal(4, row.Length));
            // fold 0 tests about a tenth of the kept utterances
            Assert.InRange(confusion.Sum(r => r.Sum()), kept / 10 - 4, kept / 10 + 4);
        }

        // A real sweep: CMHA A+V+T, ten folds, tiny profile, on two worker processes sharing the feature cache.
        // The test is about the path, not convergence: it keeps a short schedule (12 stage-2 epochs) to fit its budget.
        var spec = SweepSpecParser.Parse($"""
            name: real-cmha
            datasets:
              - name: generated
                layout: iemocap
                root: {corpus}
                extractor: resnet50
                allow_random_weights: true
            methods: [cmha]
            modalities: [AVT]
            pretraining: [with]
            folds: all
            split: utterance
            seeds: [1]
            profile: tiny
            training:
              epochs_stage2: 12
              patience: 4
            """, "test spec");
        var submission = await new SweepStore(_db.DataSource).SubmitAsync(spec, "test");
        Assert.Equal(10, submission.JobsTotal);

        using var cluster = new LocalCluster(_db.ConnectionString, 2, TestEcho.To(output));
        cluster.Start(0, "coordinator,worker", "real", slots: "cpu:1", cache: cache);
        cluster.Start(1, "worker", "real", slots: "cpu:1", cache: cache);
        cluster.WaitForSweep(submission.SweepId, TimeSpan.FromMinutes(10), _db.DataSource);

        SweepInvariants.ExactlyOneResultPerJob(_db.DataSource, submission.SweepId, 10, predictionsPerJob: null);
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(int Fold, double Ua, int Predictions, string Worker)>("""
            select j.fold, r.ua, (select count(*)::int from predictions p where p.job_id = j.job_id), j.worker
            from jobs j join results r using (job_id)
            where j.sweep_id = @id and j.state = 'succeeded' order by j.fold
            """, new { id = submission.SweepId })).ToList();
        Assert.Equal(Enumerable.Range(0, 10), rows.Select(r => r.Fold));
        Assert.All(rows, r => Assert.InRange(r.Ua, 0.0, 1.0));
        // every utterance is predicted exactly once over the ten test folds
        Assert.Equal(kept, rows.Sum(r => r.Predictions));
        Assert.Equal(2, rows.Select(r => r.Worker).Distinct().Count());
        var epochs = await connection.ExecuteScalarAsync<int>(
            "select count(*)::int from epoch_metrics e join jobs j using (job_id) where j.sweep_id = @id and e.stage = 1", new { id = submission.SweepId });
        Assert.True(epochs >= 10, $"stage-1 epochs recorded: {epochs.ToString(CultureInfo.InvariantCulture)}");
    }
}
