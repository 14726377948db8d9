using Akka.Actor;
using Dapper;
using FoldCluster.Cluster.Coordinator;
using FoldCluster.Cluster.Messages;
using FoldCluster.Cluster.Trainers;
using FoldCluster.Storage.Jobs;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Cluster.Tests.Actors;

/// <summary>Coordinator decisions against the real job store on a fresh PostgreSQL database.</summary>
public sealed class SweepCoordinatorTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private TestDatabase _db = null!;
    private JobStore _store = null!;
    private readonly string _workerId;

    public SweepCoordinatorTests() : base(ClusterTestKit.Config(), "coordinator-test")
    {
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.State.Members.Any(m => m.Status == Akka.Cluster.MemberStatus.Up), TimeSpan.FromSeconds(10));
        _workerId = WorkerIdentity.Of(cluster.SelfUniqueAddress);
    }

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _store = new JobStore(_db.DataSource);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private async Task<long> SubmitAsync(int jobs) =>
        (await new SweepStore(_db.DataSource).SubmitAsync(SimulatedSweep.Spec("coordinator-test", jobs), "test")).SweepId;

    private IActorRef StartCoordinator() =>
        Sys.ActorOf(SweepCoordinator.Props(_store, ClusterTestKit.Settings(Sys), Console.Error.WriteLine));

    private (string State, int Attempt, string? Worker) Job(long jobId)
    {
        using var c = _db.DataSource.OpenConnection();
        return c.QuerySingle<(string, int, string?)>("select state, attempt, worker from jobs where job_id = @jobId", new { jobId });
    }

    [Fact]
    public async Task Idle_slot_gets_the_job_claimed_in_PostgreSQL_and_an_empty_queue_answers_no_work()
    {
        await SubmitAsync(1);
        var coordinator = StartCoordinator();
        var worker = CreateTestProbe();

        worker.Send(coordinator, new RegisterWorker(_workerId, "w1", ["cpu:0", "cpu:1"], []));
        worker.ExpectMsg<WorkerRegistered>(TimeSpan.FromSeconds(5));
        worker.Send(coordinator, new RequestWork(_workerId, "cpu:0"));
        var assigned = worker.ExpectMsg<JobAssigned>(TimeSpan.FromSeconds(5));

        Assert.Equal("cpu:0", assigned.Slot);
        Assert.Equal(1, assigned.Attempt);
        Assert.Equal("coordinator-test", assigned.SweepName);
        Assert.Equal(("running", 1, _workerId), Job(assigned.JobId));

        worker.Send(coordinator, new RequestWork(_workerId, "cpu:1"));
        Assert.Equal("cpu:1", worker.ExpectMsg<NoWorkAvailable>(TimeSpan.FromSeconds(5)).Slot);
    }

    [Fact]
    public async Task Jobs_of_a_worker_that_dies_go_back_to_the_queue_and_the_next_claim_is_a_new_attempt()
    {
        await SubmitAsync(1);
        var coordinator = StartCoordinator();
        var doomed = CreateTestProbe();
        doomed.Send(coordinator, new RegisterWorker(_workerId, "w1", ["cpu:0"], []));
        doomed.ExpectMsg<WorkerRegistered>(TimeSpan.FromSeconds(5));
        doomed.Send(coordinator, new RequestWork(_workerId, "cpu:0"));
        var first = doomed.ExpectMsg<JobAssigned>(TimeSpan.FromSeconds(5));

        Sys.Stop(doomed.Ref);
        AwaitAssert(() => Assert.Equal("queued", Job(first.JobId).State), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));

        var next = CreateTestProbe();
        next.Send(coordinator, new RegisterWorker(_workerId, "w1", ["cpu:0"], []));
        next.ExpectMsg<WorkerRegistered>(TimeSpan.FromSeconds(5));
        next.Send(coordinator, new RequestWork(_workerId, "cpu:0"));
        var second = next.ExpectMsg<JobAssigned>(TimeSpan.FromSeconds(5));
        Assert.Equal(first.JobId, second.JobId);
        Assert.Equal(2, second.Attempt);

        using var c = _db.DataSource.OpenConnection();
        Assert.Equal("lost", c.QuerySingle<string>("select outcome from job_attempts where job_id = @id and attempt = 1", new { id = first.JobId }));
    }

    [Fact]
    public async Task A_new_coordinator_requeues_running_jobs_of_workers_that_are_no_longer_members()
    {
        await SubmitAsync(2);
        // A worker of an earlier cluster incarnation claimed a job and vanished while no coordinator watched.
        var gone = await _store.ClaimNextAsync("127.0.0.1:1#42", "cpu:0", TimeSpan.FromMinutes(10), CancellationToken.None);
        // A live member's running job is kept (its worker re-registers and renews the lease).
        var alive = await _store.ClaimNextAsync(_workerId, "cpu:0", TimeSpan.FromMinutes(10), CancellationToken.None);
        Assert.NotNull(gone);
        Assert.NotNull(alive);

        StartCoordinator();

        AwaitAssert(() => Assert.Equal("queued", Job(gone.JobId).State), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        Assert.Equal(("running", 1, _workerId), Job(alive.JobId));
    }

    [Fact]
    public async Task Expired_leases_are_requeued_by_the_periodic_check()
    {
        await SubmitAsync(1);
        var claimed = await _store.ClaimNextAsync(_workerId, "cpu:0", TimeSpan.FromMilliseconds(1), CancellationToken.None);
        Assert.NotNull(claimed);
        StartCoordinator();
        // lease-check-interval is 5 s in base.hocon.
        AwaitAssert(() => Assert.Equal("queued", Job(claimed.JobId).State), TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task After_a_database_outage_longer_than_a_lease_live_leases_get_one_lease_of_grace_instead_of_expiring()
    {
        await SubmitAsync(1);
        var claimed = await _store.ClaimNextAsync(_workerId, "cpu:0", TimeSpan.FromSeconds(2), CancellationToken.None);
        Assert.NotNull(claimed);
        var store = new OutageStore(_store) { Down = true };
        var settings = ClusterTestKit.Settings(Sys) with { LeaseCheckInterval = TimeSpan.FromMilliseconds(500) };
        Sys.ActorOf(SweepCoordinator.Props(store, settings, Console.Error.WriteLine));

        // The lease runs out while the coordinator cannot reach the database; then the database is back.
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.True(store.FailedChecks > 0);
        store.Down = false;

        // The first check that reaches the database gives grace (one lease, 30 s) instead of requeueing the job.
        AwaitAssert(() => Assert.True(store.Extended > 0), TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(("running", 1, _workerId), Job(claimed.JobId));
        var lease = (await _store.RunningJobsAsync(CancellationToken.None)).Single().LeaseExpiresUtc;
        Assert.InRange(lease, DateTime.UtcNow.AddSeconds(20), DateTime.UtcNow.AddSeconds(31));
    }

    /// <summary>The real store, except that the lease check cannot reach the database while <see cref="Down"/>.</summary>
    private sealed class OutageStore(JobStore inner) : DelegatingJobStore(inner)
    {
        private int _failedChecks;
        private int _extended;

        public volatile bool Down;

        public int FailedChecks => Volatile.Read(ref _failedChecks);

        public int Extended => Volatile.Read(ref _extended);

        public override Task<int> RequeueExpiredLeasesAsync(CancellationToken ct)
        {
            if (Down)
            {
                Interlocked.Increment(ref _failedChecks);
                throw new Storage.DatabaseUnreachableException("database host unreachable", new System.Net.Sockets.SocketException());
            }
            return base.RequeueExpiredLeasesAsync(ct);
        }

        public override async Task<int> ExtendRunningLeasesAsync(TimeSpan grace, CancellationToken ct)
        {
            if (Down)
            {
                throw new Storage.DatabaseUnreachableException("database host unreachable", new System.Net.Sockets.SocketException());
            }
            var n = await base.ExtendRunningLeasesAsync(grace, ct);
            Interlocked.Add(ref _extended, n);
            return n;
        }
    }

    [Fact]
    public async Task A_re_registering_worker_reporting_a_stale_attempt_is_told_to_cancel_it()
    {
        await SubmitAsync(1);
        var claimed = await _store.ClaimNextAsync(_workerId, "cpu:0", TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.NotNull(claimed);
        await _store.RequeueWorkerAsync(_workerId, "test", CancellationToken.None);
        var coordinator = StartCoordinator();
        var worker = CreateTestProbe();

        worker.Send(coordinator, new RegisterWorker(_workerId, "w1", ["cpu:0"], [new SlotJob("cpu:0", claimed.JobId, claimed.Attempt)]));

        worker.ExpectMsg<WorkerRegistered>(TimeSpan.FromSeconds(5));
        var cancel = worker.ExpectMsg<CancelJob>(TimeSpan.FromSeconds(5));
        Assert.Equal((claimed.JobId, claimed.Attempt), (cancel.JobId, cancel.Attempt));
    }

    [Fact]
    public async Task A_request_waiting_on_an_empty_queue_gets_a_submitted_job_when_PostgreSQL_says_jobs_were_queued()
    {
        var store = new EmptyClaimSignal(_store);
        // The fallback retry is far away: only the submission's notification can wake the waiting request in time.
        var settings = ClusterTestKit.Settings(Sys) with { ParkedRetry = TimeSpan.FromMinutes(5) };
        var coordinator = Sys.ActorOf(SweepCoordinator.Props(store, settings, Console.Error.WriteLine));
        var worker = CreateTestProbe();
        worker.Send(coordinator, new RegisterWorker(_workerId, "w1", ["cpu:0"], []));
        worker.ExpectMsg<WorkerRegistered>(TimeSpan.FromSeconds(5));
        worker.Send(coordinator, new RequestWork(_workerId, "cpu:0"));
        await store.FoundEmpty.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var sweepId = await SubmitAsync(1);

        var assigned = worker.ExpectMsg<JobAssigned>(TimeSpan.FromSeconds(15));
        Assert.Equal(("cpu:0", 1, "coordinator-test"), (assigned.Slot, assigned.Attempt, assigned.SweepName));
        await using var c = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(sweepId, await c.QuerySingleAsync<long>("select sweep_id from jobs where job_id = @id", new { id = assigned.JobId }));
        Assert.Equal(("running", 1, _workerId), Job(assigned.JobId));
    }

    /// <summary>The real store; <see cref="FoundEmpty"/> completes when a claim first finds the queue empty.</summary>
    private sealed class EmptyClaimSignal(JobStore inner) : DelegatingJobStore(inner)
    {
        public TaskCompletionSource FoundEmpty { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task<IReadOnlyList<ClaimedJob?>> ClaimBatchAsync(IReadOnlyList<ClaimRequest> requests, TimeSpan lease, CancellationToken ct, int reserve = 0)
        {
            var jobs = await base.ClaimBatchAsync(requests, lease, ct, reserve);
            if (jobs.All(j => j is null))
            {
                FoundEmpty.TrySetResult();
            }
            return jobs;
        }
    }
}
