using System.Collections.Concurrent;
using Akka.Actor;
using Dapper;
using FoldCluster.Cluster.Coordinator;
using FoldCluster.Cluster.Messages;
using FoldCluster.Cluster.Trainers;
using FoldCluster.Cluster.Worker;
using FoldCluster.Core;
using FoldCluster.Storage.Jobs;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Cluster.Tests.Actors;

/// <summary>The worker actor with its slot threads, the real job store and PostgreSQL; a probe plays the coordinator.</summary>
public sealed class NodeWorkerTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private TestDatabase _db = null!;
    private JobStore _store = null!;
    private readonly string _workerId;

    public NodeWorkerTests() : base(ClusterTestKit.Config(), "worker-test")
    {
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        _workerId = WorkerIdentity.Of(cluster.SelfUniqueAddress);
    }

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _store = new JobStore(_db.DataSource);
        await new SweepStore(_db.DataSource).SubmitAsync(SimulatedSweep.Spec("worker-test", 1), "test");
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    /// <summary>Starts a worker with one slot and plays the coordinator up to the slot's first RequestWork.</summary>
    private (IActorRef Worker, Akka.TestKit.TestProbe Coordinator) StartWorker(IJobTrainer trainer,
        Hosting.OrchestrationSettings? settings = null, IJobStore? store = null)
    {
        var coordinator = CreateTestProbe();
        var setup = new WorkerSetup(_workerId, "w1", ["cpu:0"], _ => trainer, Path.GetTempPath(), null);
        var worker = Sys.ActorOf(NodeWorker.Props(setup, store ?? _store, coordinator.Ref, settings ?? ClusterTestKit.Settings(Sys), _ => { }));
        coordinator.ExpectMsg<RegisterWorker>(TimeSpan.FromSeconds(5));
        coordinator.Reply(new WorkerRegistered("test-coordinator"));
        coordinator.FishForMessage(m => m is RequestWork, TimeSpan.FromSeconds(5));
        return (worker, coordinator);
    }

    private async Task<JobAssigned> ClaimForAsync(string worker, TimeSpan? lease = null)
    {
        var job = await _store.ClaimNextAsync(worker, "cpu:0", lease ?? TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.NotNull(job);
        return new JobAssigned("cpu:0", job.JobId, job.Attempt, job.SweepName, job.Key, job.Dataset, job.TrainingOverrides,
            (lease ?? TimeSpan.FromMinutes(5)).TotalSeconds);
    }

    /// <summary>Hands every request to the simulated trainer and records, as a real trainer does, the request's device.</summary>
    private sealed class DeviceRecordingTrainer : IJobTrainer
    {
        private readonly SimulatedTrainer _inner = new(TimeSpan.FromMilliseconds(100));

        public TrainingOutcome Run(JobRequest request, Action<EpochReport> onEpoch, CancellationToken cancellationToken) =>
            _inner.Run(request, onEpoch, cancellationToken) with
            {
                Provenance = new ResultProvenance("test", "tv", "lv", request.Device, "device of " + request.Device, "cpu model", "isa", 1,
                    "host", "cache-key", "AVT", 40, new Dictionary<string, int>()),
            };
    }

    [Fact]
    public async Task A_slot_sharing_a_gpu_trains_on_that_gpu_and_its_result_records_the_device()
    {
        var coordinator = CreateTestProbe();
        var slots = Hosting.SlotSpec.Parse("cuda:0x2");
        var setup = new WorkerSetup(_workerId, "w1", slots, _ => new DeviceRecordingTrainer(), Path.GetTempPath(), null);
        var worker = Sys.ActorOf(NodeWorker.Props(setup, _store, coordinator.Ref, ClusterTestKit.Settings(Sys), _ => { }));
        Assert.Equal(["cuda:0/0", "cuda:0/1"], coordinator.ExpectMsg<RegisterWorker>(TimeSpan.FromSeconds(5)).Slots);
        coordinator.Reply(new WorkerRegistered("test-coordinator"));
        coordinator.FishForMessage(m => m is RequestWork { Slot: "cuda:0/1" }, TimeSpan.FromSeconds(5));

        var job = await _store.ClaimNextAsync(_workerId, "cuda:0/1", TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.NotNull(job);
        worker.Tell(new JobAssigned("cuda:0/1", job.JobId, job.Attempt, job.SweepName, job.Key, job.Dataset, job.TrainingOverrides, 300), coordinator.Ref);
        var finished = (JobFinished)coordinator.FishForMessage(m => m is JobFinished, TimeSpan.FromSeconds(30));
        Assert.True(finished.Stored);

        using var c = _db.DataSource.OpenConnection();
        Assert.Equal(("cuda:0/1", "cuda:0"), c.QuerySingle<(string, string)>("""
            select a.slot, p.device from job_attempts a join result_provenance p using (job_id) where a.job_id = @id and a.attempt = @attempt
            """, new { id = job.JobId, attempt = job.Attempt }));
    }

    [Fact]
    public async Task A_hung_trainer_is_cancelled_within_max_epoch_time_plus_one_lease_and_counted_as_a_failure()
    {
        var lease = TimeSpan.FromSeconds(3);
        var maxEpochTime = TimeSpan.FromSeconds(4);
        var settings = ClusterTestKit.Settings(Sys) with { Lease = lease, MaxEpochTime = maxEpochTime };
        // Four epochs over 2 s, but the trainer stops advancing after the first one.
        var (worker, coordinator) = StartWorker(new SimulatedTrainer(TimeSpan.FromSeconds(2)), settings);
        var assigned = await ClaimForAsync(_workerId, lease);
        worker.Tell(assigned with { TrainingOverrides = new Dictionary<string, string> { ["simulated.hang"] = "1" } }, coordinator.Ref);

        var failed = (JobFailed)coordinator.FishForMessage(m => m is JobFailed, maxEpochTime + lease + TimeSpan.FromSeconds(20));
        Assert.True(failed.Retryable);
        Assert.StartsWith("hung: no epoch finished for ", failed.Error, StringComparison.Ordinal);

        using var c = _db.DataSource.OpenConnection();
        var job = c.QuerySingle<(string State, int Failures, int Losses, string Error)>(
            "select state, failures, losses, error from jobs where job_id = @id", new { id = assigned.JobId });
        Assert.Equal(("queued", 1, 0), (job.State, job.Failures, job.Losses));
        Assert.Equal(failed.Error, job.Error);
        // From the last epoch it recorded to the end of the attempt: within max-epoch-time plus one lease.
        var seconds = c.QuerySingle<double>("""
            select extract(epoch from a.ended_at - (select max(recorded_at) from epoch_metrics e where e.job_id = a.job_id and e.attempt = a.attempt))
            from job_attempts a where a.job_id = @id and a.attempt = 1 and a.outcome = 'failed'
            """, new { id = assigned.JobId });
        Assert.InRange(seconds, maxEpochTime.TotalSeconds, (maxEpochTime + lease).TotalSeconds);
        Assert.Equal(1, c.QuerySingle<int>("select count(*)::int from epoch_metrics where job_id = @id", new { id = assigned.JobId }));
    }

    [Fact]
    public async Task A_result_store_slower_than_the_lease_keeps_its_lease_and_is_stored()
    {
        var lease = TimeSpan.FromSeconds(3);
        var settings = ClusterTestKit.Settings(Sys) with { Lease = lease };
        var slow = new SlowStore(_store, TimeSpan.FromSeconds(7));
        var (worker, coordinator) = StartWorker(new SimulatedTrainer(TimeSpan.FromMilliseconds(100)), settings, slow);
        var assigned = await ClaimForAsync(_workerId, lease);
        worker.Tell(assigned, coordinator.Ref);

        Assert.True(slow.Storing.Wait(TimeSpan.FromSeconds(10)));
        // While the store runs, two leases pass; the coordinator's lease check must find nothing expired.
        for (var i = 0; i < 6; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(0, await _store.RequeueExpiredLeasesAsync(CancellationToken.None));
        }
        var finished = (JobFinished)coordinator.FishForMessage(m => m is JobFinished, TimeSpan.FromSeconds(20));
        Assert.True(finished.Stored);
        using var c = _db.DataSource.OpenConnection();
        Assert.Equal(("succeeded", 1, 0), c.QuerySingle<(string, int, int)>("select state, attempt, losses from jobs where job_id = @id", new { id = assigned.JobId }));
    }

    /// <summary>The real store, with a result store that takes longer than a lease (a large result on a slow link).</summary>
    private sealed class SlowStore(JobStore inner, TimeSpan delay) : DelegatingJobStore(inner)
    {
        public ManualResetEventSlim Storing { get; } = new();

        public override async Task<StoreResultOutcome> StoreResultAsync(long jobId, int attempt, TrainingOutcome outcome, CancellationToken ct)
        {
            Storing.Set();
            await Task.Delay(delay, ct);
            return await base.StoreResultAsync(jobId, attempt, outcome, ct);
        }
    }

    [Fact]
    public async Task A_slot_trains_its_attempts_on_its_own_thread_the_next_one_while_the_previous_result_is_stored()
    {
        await new SweepStore(_db.DataSource).SubmitAsync(SimulatedSweep.Spec("worker-test-more", 1), "test");
        var trainer = new ThreadRecordingTrainer();
        var held = new HeldFirstStore(_store);
        var (worker, coordinator) = StartWorker(trainer, store: held);
        var first = await ClaimForAsync(_workerId);
        worker.Tell(first, coordinator.Ref);
        Assert.True(held.Holding.Wait(TimeSpan.FromSeconds(10)));

        // The first result is still being stored: the slot is free, and its next attempt trains meanwhile.
        var second = await ClaimForAsync(_workerId);
        worker.Tell(second, coordinator.Ref);
        var finishedSecond = (JobFinished)coordinator.FishForMessage(m => m is JobFinished, TimeSpan.FromSeconds(10));
        Assert.Equal((second.JobId, true), (finishedSecond.JobId, finishedSecond.Stored));
        using var c = _db.DataSource.OpenConnection();
        Assert.Equal(0, c.QuerySingle<int>("select count(*)::int from results where job_id = @id", new { id = first.JobId }));

        held.Release();
        var finishedFirst = (JobFinished)coordinator.FishForMessage(m => m is JobFinished, TimeSpan.FromSeconds(10));
        Assert.Equal((first.JobId, true), (finishedFirst.JobId, finishedFirst.Stored));

        var threads = trainer.Threads.ToArray();
        Assert.Equal(2, threads.Length);
        Assert.Equal(threads[0].Id, threads[1].Id);
        Assert.Equal("slot cpu:0", threads[0].Name);
        Assert.NotEqual(Environment.CurrentManagedThreadId, threads[0].Id);
        Assert.Equal(2, c.QuerySingle<int>("select count(*)::int from results where job_id = any(@ids)", new { ids = new[] { first.JobId, second.JobId } }));
    }

    /// <summary>The simulated trainer, recording the thread each job trained on.</summary>
    private sealed class ThreadRecordingTrainer : IJobTrainer
    {
        private readonly SimulatedTrainer _inner = new(TimeSpan.FromMilliseconds(50));

        /// <summary>The managed id and name of the thread each attempt trained on, in the order they started.</summary>
        public ConcurrentQueue<(int Id, string? Name)> Threads { get; } = new();

        public TrainingOutcome Run(JobRequest request, Action<EpochReport> onEpoch, CancellationToken cancellationToken)
        {
            Threads.Enqueue((Environment.CurrentManagedThreadId, Thread.CurrentThread.Name));
            return _inner.Run(request, onEpoch, cancellationToken);
        }
    }

    /// <summary>The real store; the first result store waits until the test releases it.</summary>
    private sealed class HeldFirstStore(JobStore inner) : DelegatingJobStore(inner)
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _stores;

        public ManualResetEventSlim Holding { get; } = new();

        public void Release() => _release.TrySetResult();

        public override async Task<StoreResultOutcome> StoreResultAsync(long jobId, int attempt, TrainingOutcome outcome, CancellationToken ct)
        {
            if (Interlocked.Increment(ref _stores) == 1)
            {
                Holding.Set();
                await _release.Task.WaitAsync(ct);
            }
            return await base.StoreResultAsync(jobId, attempt, outcome, ct);
        }
    }

    [Fact]
    public async Task A_late_result_from_a_fenced_off_attempt_is_rejected()
    {
        var trainer = new GateTrainer();
        var (worker, coordinator) = StartWorker(trainer);
        var first = await ClaimForAsync(_workerId);
        worker.Tell(first, coordinator.Ref);
        Assert.True(trainer.Started.Wait(TimeSpan.FromSeconds(10)));

        // The worker is thought dead: its attempt is fenced off, another worker runs attempt 2 and stores it.
        Assert.Equal(1, await _store.RequeueWorkerAsync(_workerId, "test: presumed dead", CancellationToken.None));
        var second = await ClaimForAsync("other:1#2");
        Assert.Equal(2, second.Attempt);
        Assert.Equal(StoreResultOutcome.Stored,
            await _store.StoreResultAsync(second.JobId, second.Attempt, GateTrainer.Outcome(), CancellationToken.None));

        // The first worker was only slow: its result arrives late and must be refused.
        trainer.Release.Set();
        // The slot asks for its next job as soon as training returned (while the old thread stores), then reports.
        var seen = new List<object>();
        var finished = (JobFinished)coordinator.FishForMessage(m => { seen.Add(m); return m is JobFinished; }, TimeSpan.FromSeconds(10));
        Assert.Contains(seen, m => m is RequestWork);
        Assert.Equal((first.JobId, 1, false), (finished.JobId, finished.Attempt, finished.Stored));

        using var c = _db.DataSource.OpenConnection();
        Assert.Equal([2], c.Query<int>("select attempt from results where job_id = @id", new { id = first.JobId }));
        Assert.Equal("succeeded", c.QuerySingle<string>("select state from jobs where job_id = @id", new { id = first.JobId }));
    }

    [Fact]
    public async Task CancelJob_stops_training_within_one_batch_and_stores_nothing()
    {
        var (worker, coordinator) = StartWorker(new SimulatedTrainer(TimeSpan.FromMinutes(10)));
        var assigned = await ClaimForAsync(_workerId);
        // Same mailbox, in order: the job has started when the cancel is handled.
        worker.Tell(assigned, coordinator.Ref);
        worker.Tell(new CancelJob(assigned.JobId, assigned.Attempt, "sweep cancelled"));

        var stopped = (JobStopped)coordinator.FishForMessage(m => m is JobStopped, TimeSpan.FromSeconds(5));
        Assert.Equal("sweep cancelled", stopped.Reason);
        using var c = _db.DataSource.OpenConnection();
        Assert.Equal(0, c.QuerySingle<int>("select count(*)::int from results"));
    }

    [Fact]
    public async Task Cancelling_the_sweep_stops_its_running_job_at_the_next_epoch()
    {
        var (worker, coordinator) = StartWorker(new SimulatedTrainer(TimeSpan.FromSeconds(8)));
        var assigned = await ClaimForAsync(_workerId);
        worker.Tell(assigned, coordinator.Ref);

        Assert.True(await new SweepStore(_db.DataSource).CancelAsync("worker-test") > 0);

        // The next epoch write (after 2 s) is refused: the attempt is no longer current, training stops.
        var stopped = (JobStopped)coordinator.FishForMessage(m => m is JobStopped, TimeSpan.FromSeconds(6));
        Assert.Contains("no longer current", stopped.Reason, StringComparison.Ordinal);
        using var c = _db.DataSource.OpenConnection();
        Assert.Equal("cancelled", c.QuerySingle<string>("select state from jobs where job_id = @id", new { id = assigned.JobId }));
        Assert.Equal(0, c.QuerySingle<int>("select count(*)::int from results"));
    }

    [Fact]
    public async Task Bad_input_fails_the_job_at_once_with_its_reason()
    {
        var (worker, coordinator) = StartWorker(new SimulatedTrainer(TimeSpan.Zero));
        var assigned = await ClaimForAsync(_workerId);
        worker.Tell(assigned with { TrainingOverrides = new Dictionary<string, string> { ["simulated.fail"] = "bad-input" } }, coordinator.Ref);

        var failed = (JobFailed)coordinator.FishForMessage(m => m is JobFailed, TimeSpan.FromSeconds(10));
        Assert.False(failed.Retryable);
        using var c = _db.DataSource.OpenConnection();
        var (state, error) = c.QuerySingle<(string, string)>("select state, error from jobs where job_id = @id", new { id = assigned.JobId });
        Assert.Equal("failed", state);
        Assert.Contains("simulated bad input", error, StringComparison.Ordinal);
    }

    /// <summary>Records when each progress write was asked for, in seconds since the store was made.</summary>
    private sealed class ProgressTimingStore(JobStore inner) : DelegatingJobStore(inner)
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

        public ConcurrentQueue<(double At, int Epochs)> Writes { get; } = new();

        public double Now => _clock.Elapsed.TotalSeconds;

        public override Task<bool> RecordEpochsAsync(long jobId, int attempt, IReadOnlyList<EpochReport> epochs, TimeSpan lease, CancellationToken ct)
        {
            Writes.Enqueue((_clock.Elapsed.TotalSeconds, epochs.Count));
            return base.RecordEpochsAsync(jobId, attempt, epochs, lease, ct);
        }
    }

    [Fact]
    public async Task An_attempt_shorter_than_the_progress_interval_writes_no_progress_and_its_result_has_every_epoch()
    {
        var store = new ProgressTimingStore(_store);
        var (worker, coordinator) = StartWorker(new SimulatedTrainer(TimeSpan.FromMilliseconds(300)), store: store);
        var assigned = await ClaimForAsync(_workerId);
        worker.Tell(assigned, coordinator.Ref);

        Assert.True(((JobFinished)coordinator.FishForMessage(m => m is JobFinished, TimeSpan.FromSeconds(10))).Stored);
        // The progress write that was due a second after the start must not come late either.
        await Task.Delay(SlotRun.ProgressWriteInterval + TimeSpan.FromSeconds(0.5));
        Assert.Empty(store.Writes);
        using var c = _db.DataSource.OpenConnection();
        Assert.Equal(4, c.QuerySingle<int>("select count(*)::int from epoch_metrics where job_id = @id", new { id = assigned.JobId }));
    }

    [Fact]
    public async Task An_early_epoch_is_written_when_the_progress_interval_is_up_without_waiting_for_the_next_epoch()
    {
        // The first epoch ends 0.7 s in, then the trainer hangs (no later epoch): the epoch is written by itself once
        // the attempt has run a second, not at once and not never.
        var store = new ProgressTimingStore(_store);
        var settings = ClusterTestKit.Settings(Sys) with { MaxEpochTime = TimeSpan.FromSeconds(30) };
        var (worker, coordinator) = StartWorker(new SimulatedTrainer(TimeSpan.FromSeconds(2.8)), settings, store);
        var assigned = await ClaimForAsync(_workerId);
        var told = store.Now;
        worker.Tell(assigned with { TrainingOverrides = new Dictionary<string, string> { ["simulated.hang"] = "1" } }, coordinator.Ref);

        using var c = _db.DataSource.OpenConnection();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var recorded = 0;
        while ((recorded = c.QuerySingle<int>("select count(*)::int from epoch_metrics where job_id = @id", new { id = assigned.JobId })) < 1
            && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal(1, recorded);
        await Task.Delay(SlotRun.ProgressWriteInterval);
        var write = Assert.Single(store.Writes);
        Assert.Equal(1, write.Epochs);
        Assert.True(write.At - told >= SlotRun.ProgressWriteInterval.TotalSeconds - 0.05,
            $"the epoch was written {write.At - told:0.000} s after the assignment; expected a second at least");
        worker.Tell(new CancelJob(assigned.JobId, assigned.Attempt, "test over"));
    }

    [Fact]
    public async Task A_finished_job_stores_its_result_and_epochs_once()
    {
        var (worker, coordinator) = StartWorker(new SimulatedTrainer(TimeSpan.FromMilliseconds(100)));
        var assigned = await ClaimForAsync(_workerId);
        worker.Tell(assigned, coordinator.Ref);

        var finished = (JobFinished)coordinator.FishForMessage(m => m is JobFinished, TimeSpan.FromSeconds(10));
        Assert.True(finished.Stored);
        using var c = _db.DataSource.OpenConnection();
        Assert.Equal(1, c.QuerySingle<int>("select count(*)::int from results where job_id = @id and attempt = 1", new { id = assigned.JobId }));
        Assert.Equal(4, c.QuerySingle<int>("select count(*)::int from epoch_metrics where job_id = @id", new { id = assigned.JobId }));
        Assert.Equal(40, c.QuerySingle<int>("select count(*)::int from predictions where job_id = @id", new { id = assigned.JobId }));
    }

    [Fact]
    public async Task A_no_work_answer_to_a_request_sent_while_busy_makes_the_slot_ask_again_at_once_when_it_is_idle_by_then()
    {
        // Idle-poll and the request timeout are a minute: a request within seconds comes from the rule under test.
        var settings = ClusterTestKit.Settings(Sys) with { IdlePoll = TimeSpan.FromMinutes(1), RequestTimeout = TimeSpan.FromMinutes(1) };
        var (worker, coordinator) = StartWorker(new SimulatedTrainer(TimeSpan.FromMilliseconds(300)), settings);
        var assigned = await ClaimForAsync(_workerId);
        worker.Tell(assigned, coordinator.Ref);

        // Busy, with room for a prefetched job: the slot asks ahead. The job ends before the answer comes.
        var ahead = (RequestWork)coordinator.FishForMessage(m => m is RequestWork, TimeSpan.FromSeconds(5));
        Assert.True(ahead.Ahead);
        coordinator.FishForMessage(m => m is JobFinished, TimeSpan.FromSeconds(10));
        worker.Tell(new NoWorkAvailable("cpu:0"), coordinator.Ref);

        // The queue may still hold a job kept for idle slots: the now idle slot asks for it without waiting idle-poll.
        var again = (RequestWork)coordinator.FishForMessage(m => m is RequestWork, TimeSpan.FromSeconds(5));
        Assert.False(again.Ahead);
    }

    /// <summary>A trainer that waits for the test to release it, then returns a fixed outcome (no epochs reported).</summary>
    private sealed class GateTrainer : IJobTrainer
    {
        public ManualResetEventSlim Started { get; } = new();
        public ManualResetEventSlim Release { get; } = new();

        public static TrainingOutcome Outcome()
        {
            var predictions = new List<UtterancePrediction> { new("u1", Emotion.Angry, Emotion.Angry), new("u2", Emotion.Sad, Emotion.Happy) };
            return new TrainingOutcome(SimulatedTrainer.MetricsOf(predictions), 1, 0.1, predictions, []);
        }

        public TrainingOutcome Run(JobRequest request, Action<EpochReport> onEpoch, CancellationToken cancellationToken)
        {
            Started.Set();
            Release.Wait(cancellationToken);
            return Outcome();
        }
    }
}
