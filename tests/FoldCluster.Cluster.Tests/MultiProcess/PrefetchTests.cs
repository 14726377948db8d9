using Dapper;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Cluster.Trainers;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;
using Xunit.Abstractions;

namespace FoldCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// Prefetched assignments (`--prefetch`, default 1 per slot) with real node processes: they are claimed and fenced
/// like running attempts, so a node killed while holding them loses them as losses (never failures, never twice),
/// and a cancelled sweep takes them back from the slots.
/// </summary>
[Collection(ClusterProcesses.Name)]
public sealed class PrefetchTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private (int Running, int Workers) Running(long sweepId)
    {
        using var c = _db.DataSource.OpenConnection();
        return c.QuerySingle<(int, int)>(
            "select count(*)::int, count(distinct worker)::int from jobs where sweep_id = @sweepId and state = 'running'", new { sweepId });
    }

    private void WaitUntil(Func<bool> done, TimeSpan timeout, LocalCluster cluster, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} not seen within {timeout.TotalSeconds} s; last node lines:\n{cluster.Tail()}");
            Thread.Sleep(100);
        }
    }

    [Fact]
    public async Task A_node_SIGKILLed_while_holding_prefetched_jobs_loses_them_as_losses_and_every_job_succeeds_exactly_once()
    {
        // Two coordinator nodes, so the cluster keeps its majority when the worker node dies.
        using var cluster = new LocalCluster(_db.ConnectionString, 4, TestEcho.To(output));
        var n1 = cluster.Start(0, "coordinator", "simulated:0");
        Assert.True(n1.WaitForEvent<FoldCluster.Cluster.Events.CoordinatorStartedEvent>(_ => true, 1, Startup), cluster.Tail());
        cluster.Start(1, "coordinator", "simulated:0");
        // max_attempts 1: a single failure would end a job, so the sweep succeeding shows the kill cost only losses.
        var sweep = await new SweepStore(_db.DataSource).SubmitAsync(SimulatedSweep.Spec("prefetch-killed", 6) with { MaxAttempts = 1 }, "test");
        var doomed = cluster.Start(2, "worker", "simulated:30", slots: "cpu:2");

        // Two slots, each running one job and holding one prefetched: four attempts running on that one worker.
        WaitUntil(() => Running(sweep.SweepId) == (4, 1), Startup, cluster, "two running and two prefetched jobs on one node");
        doomed.Kill();
        WaitUntil(() => Running(sweep.SweepId).Running == 0, TimeSpan.FromSeconds(60), cluster, "the killed node's jobs back in the queue");
        cluster.Start(3, "worker", "simulated:0.5", slots: "cpu:2");
        cluster.WaitForSweep(sweep.SweepId, TimeSpan.FromSeconds(90));

        SweepInvariants.ExactlyOneResultPerJob(_db.DataSource, sweep.SweepId, 6);
        await using var c = await _db.DataSource.OpenConnectionAsync();
        var budgets = (await c.QueryAsync<(int Failures, int Losses, int N)>("""
            select failures, losses, count(*)::int from jobs where sweep_id = @SweepId group by failures, losses order by losses
            """, new { sweep.SweepId })).ToArray();
        // The four held jobs (running or prefetched) each lost one attempt; the two never claimed lost none.
        Assert.Equal([(0, 0, 2), (0, 1, 4)], budgets);
        var outcomes = (await c.QueryAsync<(string Outcome, int N)>("""
            select a.outcome, count(*)::int from job_attempts a join jobs j using (job_id)
            where j.sweep_id = @SweepId group by a.outcome order by a.outcome
            """, new { sweep.SweepId })).ToArray();
        Assert.Equal([("lost", 4), ("succeeded", 6)], outcomes);
    }

    [Fact]
    public async Task Cancelling_a_sweep_releases_its_prefetched_jobs_from_the_slots()
    {
        using var cluster = new LocalCluster(_db.ConnectionString, 2, TestEcho.To(output));
        cluster.Start(0, "coordinator", "simulated:0");
        var sweeps = new SweepStore(_db.DataSource);
        var cancelled = await sweeps.SubmitAsync(SimulatedSweep.Spec("prefetch-cancelled", 8), "test");
        cluster.Start(1, "worker", "simulated:30", slots: "cpu:2");
        WaitUntil(() => Running(cancelled.SweepId) == (4, 1), Startup, cluster, "two running and two prefetched jobs on one node");

        Assert.Equal(8, await sweeps.CancelAsync("prefetch-cancelled"));

        // The slots give up both the running and the prefetched attempts: a new sweep gets all four places on the
        // same two slots long before the 30 s jobs of the cancelled one could have ended (six jobs: prefetch leaves the
        // last one per slot in the queue for slots that come free).
        var next = await sweeps.SubmitAsync(SimulatedSweep.Spec("after-cancel", 6), "test");
        WaitUntil(() => Running(next.SweepId) == (4, 1), TimeSpan.FromSeconds(20), cluster, "the new sweep's jobs on the released slots");

        await using var c = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal([("cancelled", 8)], (await c.QueryAsync<(string, int)>(
            "select state, count(*)::int from jobs where sweep_id = @SweepId group by state", new { cancelled.SweepId })).ToArray());
        Assert.Equal(0, await c.ExecuteScalarAsync<int>(
            "select count(*)::int from results r join jobs j using (job_id) where j.sweep_id = @SweepId", new { cancelled.SweepId }));
        // The four held attempts ended cancelled; none is left open, none was stored or failed.
        Assert.Equal([("cancelled", 4)], (await c.QueryAsync<(string, int)>("""
            select coalesce(a.outcome, 'open'), count(*)::int from job_attempts a join jobs j using (job_id)
            where j.sweep_id = @SweepId group by a.outcome
            """, new { cancelled.SweepId })).ToArray());
        Assert.Equal(6, await sweeps.CancelAsync("after-cancel"));
    }
}
