using Dapper;
using FoldCluster.Storage.Jobs;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;
using Npgsql;

namespace FoldCluster.Storage.Tests.Jobs;

public sealed class DatabaseOutageTests
{
    /// <summary>Kills every server connection of the test database, as a server restart does to a pool.</summary>
    private static async Task TerminateConnectionsAsync(TestDatabase db)
    {
        await using var admin = Database.CreateDataSource(TestDatabase.AdminConnectionString(), "foldcluster-tests-admin");
        await using var connection = await admin.OpenConnectionAsync();
        var killed = await connection.ExecuteScalarAsync<int>(
            "select count(*)::int from (select pg_terminate_backend(pid) from pg_stat_activity where datname = @Name and pid <> pg_backend_pid()) t",
            new { db.Name });
        Assert.True(killed > 0, "expected pooled connections to terminate");
    }

    [Fact]
    public async Task Writes_through_DbRetry_survive_dropped_connections_and_are_stored_once()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new SweepStore(db.DataSource).SubmitAsync(TestSpecs.Small(folds: 1), "test");
        var jobs = new JobStore(db.DataSource);
        var job = (await jobs.ClaimNextAsync("node-a", "cpu:0", TimeSpan.FromMinutes(1), default))!;
        var log = new List<string>();
        var options = new DbRetryOptions { FirstDelay = TimeSpan.FromMilliseconds(10), MaxElapsed = TimeSpan.FromSeconds(30) };

        await TerminateConnectionsAsync(db);
        var renewed = await DbRetry.RunAsync(ct => jobs.RenewLeaseAsync(job.JobId, job.Attempt, TimeSpan.FromMinutes(1), 1, 2, ct), options, log.Add);
        await TerminateConnectionsAsync(db);
        var stored = await DbRetry.RunAsync(ct => jobs.StoreResultAsync(job.JobId, job.Attempt, new Core.TrainingOutcome(
            new Core.ClassificationMetrics(0.7, 0.7, 0.7, 0.7, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]), 3, 2.5,
            [new Core.UtterancePrediction("u1", Core.Emotion.Sad, Core.Emotion.Sad)], []), ct), options, log.Add);

        Assert.True(renewed);
        Assert.Equal(StoreResultOutcome.Stored, stored);
        Assert.NotEmpty(log);
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("select count(*) from results"));
        Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("select count(*) from predictions"));
        Assert.Equal("succeeded", await connection.ExecuteScalarAsync<string>("select state from jobs"));
    }
}
