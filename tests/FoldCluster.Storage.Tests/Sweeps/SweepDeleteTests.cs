using Dapper;
using FoldCluster.Core;
using FoldCluster.Storage.Jobs;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Storage.Tests;

public class SweepDeleteTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Delete_is_refused_while_a_job_runs_and_removes_everything_after()
    {
        await using var db = await TestDatabase.CreateAsync();
        var sweeps = new SweepStore(db.DataSource);
        await sweeps.SubmitAsync(TestSpecs.Small(name: "doomed", folds: 3), "0.1.0");
        await sweeps.SubmitAsync(TestSpecs.Small(name: "kept", folds: 2), "0.1.0");
        var jobs = new JobStore(db.DataSource);
        var claimed = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        Assert.Equal("doomed", claimed.SweepName);

        var refused = await Assert.ThrowsAsync<BadInputException>(() => sweeps.DeleteAsync("doomed"));
        Assert.Contains("1 running job", refused.Message);

        await sweeps.CancelAsync("doomed");
        Assert.Equal(3, await sweeps.DeleteAsync("doomed"));

        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(["kept"], (await connection.QueryAsync<string>("select name from sweeps")).ToList());
        Assert.Equal(2, await connection.ExecuteScalarAsync<int>("select count(*)::int from jobs"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*)::int from job_attempts"));
        await Assert.ThrowsAsync<BadInputException>(() => sweeps.DeleteAsync("doomed"));
    }
}
