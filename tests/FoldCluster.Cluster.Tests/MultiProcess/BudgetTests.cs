using System.Diagnostics;
using Dapper;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Cluster.Trainers;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;
using Xunit.Abstractions;

namespace FoldCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// The two budgets with real node processes (DESIGN.md section 8): losses (a node SIGKILLed under the job) count
/// against max_losses and never fail a healthy job; failures of the work count against max_attempts.
/// </summary>
[Collection(ClusterProcesses.Name)]
public sealed class BudgetTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private (string State, int Attempt, int Failures, int Losses, string? Error) Job(long sweepId)
    {
        using var c = _db.DataSource.OpenConnection();
        return c.QuerySingle<(string, int, int, int, string?)>(
            "select state, attempt, failures, losses, error from jobs where sweep_id = @sweepId", new { sweepId });
    }

    private void WaitFor(long sweepId, Func<(string State, int Attempt, int Failures, int Losses, string? Error), bool> done, TimeSpan timeout, LocalCluster cluster, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!done(Job(sweepId)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} not seen within {timeout.TotalSeconds} s (job now {Job(sweepId)}); last node lines:\n{cluster.Tail()}");
            Thread.Sleep(100);
        }
    }

    [Fact]
    public async Task A_job_whose_node_is_SIGKILLed_four_times_still_succeeds_and_one_failing_its_work_three_times_fails_with_the_reason()
    {
        using var cluster = new LocalCluster(_db.ConnectionString, 3, TestEcho.To(output));
        var n1 = cluster.Start(0, "coordinator", "simulated:0");
        Assert.True(n1.WaitForEvent<FoldCluster.Cluster.Events.CoordinatorStartedEvent>(_ => true, 1, Startup), cluster.Tail());
        var n2 = cluster.Start(1, "coordinator", "simulated:0");
        Assert.True(n2.WaitForEvent<FoldCluster.Cluster.Events.JoinedEvent>(_ => true, 1, Startup), cluster.Tail());

        // max_attempts 1: a single failure would end it, so surviving four kills shows that losses are not failures.
        var sweeps = new SweepStore(_db.DataSource);
        var killed = await sweeps.SubmitAsync(SimulatedSweep.Spec("killed-four-times", 1) with { MaxAttempts = 1 }, "test");
        var failing = await sweeps.SubmitAsync(SimulatedSweep.Spec("fails-three-times", 1,
            new Dictionary<string, string> { ["simulated.fail"] = "error" }), "test");

        var clock = Stopwatch.StartNew();
        for (var kill = 1; kill <= 4; kill++)
        {
            var worker = cluster.Start(2, "worker", "simulated:20", slots: "cpu:1");
            WaitFor(killed.SweepId, j => j is { State: "running" } && j.Attempt == kill, Startup, cluster, $"attempt {kill} running");
            worker.Kill();
            var killedAt = clock.Elapsed;
            WaitFor(killed.SweepId, j => j.State != "running", TimeSpan.FromSeconds(60), cluster, $"the job lost after kill {kill}");
            output.WriteLine($"kill {kill}: job requeued {(clock.Elapsed - killedAt).TotalSeconds:0.0} s after the SIGKILL");
            Assert.Equal(("queued", kill, 0, kill), (Job(killed.SweepId).State, Job(killed.SweepId).Attempt, Job(killed.SweepId).Failures, Job(killed.SweepId).Losses));
        }
        // The fifth run is left alone; shorter jobs so the test does not wait 20 s for it.
        cluster.Start(2, "worker", "simulated:1", slots: "cpu:1");
        cluster.WaitForSweep(killed.SweepId, TimeSpan.FromSeconds(90));
        cluster.WaitForSweep(failing.SweepId, TimeSpan.FromSeconds(30));

        var survivor = Job(killed.SweepId);
        Assert.Equal(("succeeded", 5, 0, 4), (survivor.State, survivor.Attempt, survivor.Failures, survivor.Losses));
        SweepInvariants.ExactlyOneResultPerJob(_db.DataSource, killed.SweepId, 1);

        var failed = Job(failing.SweepId);
        Assert.Equal(("failed", 3), (failed.State, failed.Failures));
        Assert.StartsWith("InvalidOperationException: simulated transient error for job ", failed.Error, StringComparison.Ordinal);
        Assert.EndsWith(" (failure budget spent: 3 of max_attempts 3)", failed.Error, StringComparison.Ordinal);
        output.WriteLine($"both sweeps over after {clock.Elapsed.TotalSeconds:0.0} s");
    }
}
