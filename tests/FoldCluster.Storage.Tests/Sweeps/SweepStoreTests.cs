using Dapper;
using FoldCluster.Core;
using FoldCluster.Core.Sweeps;
using FoldCluster.Storage.Jobs;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Storage.Tests.Sweeps;

public sealed class SweepStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Resubmitting_the_same_spec_resumes_without_new_jobs()
    {
        await using var db = await TestDatabase.CreateAsync();
        var sweeps = new SweepStore(db.DataSource);
        var first = await sweeps.SubmitAsync(TestSpecs.Small(folds: 5), "0.1.0");
        var job = (await new JobStore(db.DataSource).ClaimNextAsync("node-a", "cpu:0", Lease, default))!;

        var again = await sweeps.SubmitAsync(TestSpecs.Small(folds: 5), "0.1.0");

        Assert.True(first.Created);
        Assert.Equal(5, first.JobsCreated);
        Assert.False(again.Created);
        Assert.Equal(first.SweepId, again.SweepId);
        Assert.Equal(0, again.JobsCreated);
        Assert.Equal(5, again.JobsTotal);
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(5L, await connection.ExecuteScalarAsync<long>("select count(*) from jobs"));
        Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("select count(*) from sweeps"));
        // The running job was left alone.
        Assert.Equal("running", await connection.ExecuteScalarAsync<string>("select state from jobs where job_id = @JobId", new { job.JobId }));
    }

    [Fact]
    public async Task Concurrent_submissions_of_one_spec_create_one_sweep()
    {
        await using var db = await TestDatabase.CreateAsync();
        var sweeps = new SweepStore(db.DataSource);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => sweeps.SubmitAsync(TestSpecs.Small(folds: 10), "0.1.0"))));

        Assert.Single(results, r => r.Created);
        Assert.Equal(10, results.Sum(r => r.JobsCreated));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(10L, await connection.ExecuteScalarAsync<long>("select count(*) from jobs"));
    }

    [Fact]
    public async Task A_different_spec_under_an_existing_name_is_refused()
    {
        await using var db = await TestDatabase.CreateAsync();
        var sweeps = new SweepStore(db.DataSource);
        await sweeps.SubmitAsync(TestSpecs.Small(folds: 2), "0.1.0");

        var e = await Assert.ThrowsAsync<BadInputException>(() => sweeps.SubmitAsync(TestSpecs.Small(folds: 3), "0.1.0"));

        Assert.StartsWith("a sweep named 'test-sweep' already exists with a different spec", e.Message);
        Assert.EndsWith("resubmit the same spec to resume it, or choose another name with --name", e.Message);
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(2L, await connection.ExecuteScalarAsync<long>("select count(*) from jobs"));
        // Under another name the same spec is a new sweep.
        var renamed = await sweeps.SubmitAsync(TestSpecs.Small(folds: 3).WithName("test-sweep-2"), "0.1.0");
        Assert.Equal(3, renamed.JobsCreated);
    }

    [Fact]
    public async Task Submission_stores_the_normalised_spec_and_the_jobs_budget()
    {
        await using var db = await TestDatabase.CreateAsync();
        var spec = TestSpecs.Small(folds: 2, maxAttempts: 5);
        var submission = await new SweepStore(db.DataSource).SubmitAsync(spec, "0.1.0");

        await using var connection = await db.DataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<(string Spec, string Hash, string State, string Code)>(
            "select spec, spec_hash, state, code_version from sweeps where sweep_id = @SweepId", new { submission.SweepId });
        Assert.Equal((spec.ToYaml(), spec.Hash(), "active", "0.1.0"), row);
        var jobs = (await connection.QueryAsync<(string Key, int MaxAttempts, string State, int Attempt)>(
            "select job_key, max_attempts, state, attempt from jobs order by job_id")).ToList();
        Assert.Equal(spec.Expand().Select(k => (k.Canonical, 5, "queued", 0)), jobs);
    }

    [Fact]
    public async Task Retry_failed_requeues_failed_jobs_with_a_fresh_budget()
    {
        await using var db = await TestDatabase.CreateAsync();
        var sweeps = new SweepStore(db.DataSource);
        var jobs = new JobStore(db.DataSource);
        await sweeps.SubmitAsync(TestSpecs.Small(folds: 2, maxAttempts: 1), "0.1.0");
        var failing = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        await jobs.FailAsync(failing.JobId, failing.Attempt, "out of memory", retryable: false, default);

        Assert.Equal(1, await sweeps.RetryFailedAsync("test-sweep"));
        Assert.Equal(0, await sweeps.RetryFailedAsync("test-sweep"));

        var next = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        Assert.Equal(failing.JobId, next.JobId);
        Assert.Equal(2, next.Attempt);
        // The raised budget allows a retryable failure once more... and stops there (1 attempt per retry).
        Assert.True(await jobs.FailAsync(next.JobId, next.Attempt, "worker crashed", retryable: true, default));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(("failed", 2), await connection.QuerySingleAsync<(string, int)>(
            "select state, max_attempts from jobs where job_id = @JobId", new { next.JobId }));
    }

    [Fact]
    public async Task Resubmitting_a_cancelled_sweep_resumes_its_cancelled_jobs()
    {
        await using var db = await TestDatabase.CreateAsync();
        var sweeps = new SweepStore(db.DataSource);
        var jobs = new JobStore(db.DataSource);
        await sweeps.SubmitAsync(TestSpecs.Small(folds: 3), "0.1.0");
        var done = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        await jobs.StoreResultAsync(done.JobId, done.Attempt, new TrainingOutcome(
            new ClassificationMetrics(0.5, 0.5, 0.5, 0.5, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]), 1, 1, [], []), default);
        Assert.Equal(2, await sweeps.CancelAsync("test-sweep"));

        var resumed = await sweeps.SubmitAsync(TestSpecs.Small(folds: 3), "0.1.0");

        Assert.Equal(2, resumed.JobsRequeued);
        var status = await sweeps.StatusAsync("test-sweep");
        Assert.Equal("active", status.Sweep.State);
        Assert.Equal((2, 1, 0), (status.Sweep.Queued, status.Sweep.Succeeded, status.Sweep.Cancelled));
    }

    [Fact]
    public async Task Status_counts_states_and_shows_running_jobs_per_worker()
    {
        await using var db = await TestDatabase.CreateAsync();
        var sweeps = new SweepStore(db.DataSource);
        var jobs = new JobStore(db.DataSource);
        await sweeps.SubmitAsync(TestSpecs.Small(folds: 6), "0.1.0");
        var a = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        var b = (await jobs.ClaimNextAsync("node-b", "cuda:0", Lease, default))!;
        var c = (await jobs.ClaimNextAsync("node-b", "cuda:1", Lease, default))!;
        var d = (await jobs.ClaimNextAsync("node-a", "cpu:1", Lease, default))!;
        await jobs.RecordEpochsAsync(b.JobId, b.Attempt, [new EpochReport(2, 7, 40, 0.3, 0.4, 0.6)], Lease, default);
        await jobs.StoreResultAsync(a.JobId, a.Attempt, new TrainingOutcome(
            new ClassificationMetrics(0.5, 0.5, 0.5, 0.5, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]), 1, 1, [], []), default);
        await jobs.FailAsync(d.JobId, d.Attempt, "bad corpus", retryable: false, default);

        var status = await sweeps.StatusAsync(null);

        Assert.Equal("test-sweep", status.Sweep.Name);
        Assert.Equal((2, 2, 1, 1, 0, 6), (status.Sweep.Queued, status.Sweep.Running, status.Sweep.Succeeded, status.Sweep.Failed, status.Sweep.Cancelled, status.Sweep.Total));
        Assert.Equal([("node-b", "cuda:0,cuda:1")], status.Workers.Select(w => (w.Worker, string.Join(',', w.BusySlots))));
        var running = status.Running.Single(r => r.JobId == b.JobId);
        Assert.Equal((2, 7, 40, "cuda:0"), (running.Stage, running.Epoch, running.EpochsPlanned, running.Slot));
        Assert.Equal(TestSpecs.Small(folds: 6).Expand()[1].Canonical, running.Key);
        Assert.Equal([(d.JobId, "bad corpus")], status.Failed.Select(f => (f.JobId, f.Error)));
        // Both budgets per job: the failed one spent a failure (not retryable), none lost anything.
        Assert.Equal((1, 3, 0, 10), status.Failed.Select(f => (f.Failures, f.MaxAttempts, f.Losses, f.MaxLosses)).Single());
        Assert.Equal((0, 3, 0, 10), (running.Failures, running.MaxAttempts, running.Losses, running.MaxLosses));
        Assert.NotNull(status.MeanJobSeconds);
        Assert.NotNull(status.Eta);
        Assert.Equal(c.JobId, status.Running.Single(r => r.Slot == "cuda:1").JobId);
    }

    [Fact]
    public void Eta_divides_remaining_work_by_busy_slots()
    {
        var now = new DateTime(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);
        var summary = new SweepSummary(1, "s", "active", now, "0.1.0", Queued: 6, Running: 2, Succeeded: 4, Failed: 0, Cancelled: 0);
        RunningJobStatus Started(double secondsAgo) =>
            new(1, "k", 1, "w", "cpu:0", 1, 1, 10, now.AddSeconds(-secondsAgo), now.AddMinutes(1));

        // 6 queued x 100 s + (100 - 30) + max(100 - 150, 0) = 670 s of work over 2 busy slots.
        Assert.Equal(TimeSpan.FromSeconds(335), SweepStore.Eta(summary, [Started(30), Started(150)], 100, now));
        Assert.Null(SweepStore.Eta(summary, [Started(30)], null, now));
        Assert.Equal(TimeSpan.Zero, SweepStore.Eta(summary with { Queued = 0, Running = 0 }, [], 100, now));
    }

    [Fact]
    public async Task List_and_unknown_names()
    {
        await using var db = await TestDatabase.CreateAsync();
        var sweeps = new SweepStore(db.DataSource);
        var none = await Assert.ThrowsAsync<BadInputException>(() => sweeps.CancelAsync("nope"));
        Assert.Equal("no sweep named 'nope': the database holds no sweep yet (submit one with `foldcluster sweep submit`)", none.Message);
        await sweeps.SubmitAsync(TestSpecs.Small(folds: 2), "0.1.0");
        await sweeps.SubmitAsync(TestSpecs.Small(folds: 1).WithName("second"), "0.1.0");

        var list = await sweeps.ListAsync();

        Assert.Equal([("test-sweep", 2), ("second", 1)], list.Select(s => (s.Name, s.Total)));
        var unknown = await Assert.ThrowsAsync<BadInputException>(() => sweeps.StatusAsync("third"));
        Assert.Equal("no sweep named 'third'; known sweeps: second (0/1 jobs finished), test-sweep (0/2 jobs finished)", unknown.Message);
        await Assert.ThrowsAsync<BadInputException>(() => sweeps.RetryFailedAsync("third"));
    }
}
