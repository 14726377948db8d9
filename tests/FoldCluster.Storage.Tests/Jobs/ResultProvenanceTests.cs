using Dapper;
using FoldCluster.Core;
using FoldCluster.Storage.Jobs;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Storage.Tests.Jobs;

/// <summary>The provenance of a result is stored with it, in its transaction, and goes with it.</summary>
public sealed class ResultProvenanceTests
{
    private static readonly ResultProvenance Provenance = new(
        "0.1.0+0123456789abcdef0123456789abcdef01234567", "0.107.0", "2.10.0", "cpu", "AMD EPYC", "AMD EPYC",
        "aten=avx2 onednn=sse41 (ONEDNN_MAX_CPU_ISA) (cpu flags: avx2 fma)", 2, "worker-host", new string('a', 64),
        "AVT", 41, new Dictionary<string, int> { ["no video"] = 14 });

    private static TrainingOutcome Outcome(ResultProvenance? provenance) => new(
        new ClassificationMetrics(0.5, 0.5, 0.5, 0.5, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]),
        BestEpoch: 2, Seconds: 1.5, [new UtterancePrediction("u1", Emotion.Sad, Emotion.Sad)], [], provenance);

    [Fact]
    public async Task A_stored_result_keeps_its_provenance_and_one_without_stores_none()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new SweepStore(db.DataSource).SubmitAsync(TestSpecs.Small(folds: 2), "test");
        var jobs = new JobStore(db.DataSource);
        var first = (await jobs.ClaimNextAsync("node-a", "cpu:0", TimeSpan.FromMinutes(1), default))!;
        var second = (await jobs.ClaimNextAsync("node-a", "cpu:1", TimeSpan.FromMinutes(1), default))!;

        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(first.JobId, first.Attempt, Outcome(Provenance), default));
        // A retried call after a lost acknowledgement stores nothing twice.
        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(first.JobId, first.Attempt, Outcome(Provenance), default));
        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(second.JobId, second.Attempt, Outcome(null), default));

        await using var connection = await db.DataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(long JobId, string CodeVersion, string Isa, int Threads, string Modalities, int Utterances, int NoVideo)>("""
            select job_id, code_version, cpu_isa, threads, utterance_modalities, utterances, (left_out->>'no video')::int
            from result_provenance
            """)).ToList();
        var row = Assert.Single(rows);
        Assert.Equal((first.JobId, Provenance.CodeVersion, Provenance.CpuIsa, 2, "AVT", 41, 14),
            (row.JobId, row.CodeVersion, row.Isa, row.Threads, row.Modalities, row.Utterances, row.NoVideo));

        // Deleting the sweep takes its results' provenance with it.
        await new SweepStore(db.DataSource).DeleteAsync("test-sweep");
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*)::int from result_provenance"));
    }

    [Fact]
    public void The_build_names_its_commit()
    {
        Assert.Matches(@"^([0-9a-f]{40}|unknown)$", BuildInfo.Commit);
        Assert.Equal(BuildInfo.Commit, BuildInfo.CodeVersion.Split('+')[1]);
        // Built from this checkout, the commit is stamped.
        if (Directory.Exists(Path.Combine(RepoRoot(), ".git")) || File.Exists(Path.Combine(RepoRoot(), ".git")))
        {
            Assert.NotEqual("unknown", BuildInfo.Commit);
        }
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FoldCluster.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? AppContext.BaseDirectory;
    }
}
