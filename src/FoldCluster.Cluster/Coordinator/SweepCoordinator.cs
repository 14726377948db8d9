using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using FoldCluster.Cluster.Events;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Cluster.Infrastructure;
using FoldCluster.Cluster.Messages;
using FoldCluster.Storage.Jobs;

namespace FoldCluster.Cluster.Coordinator;

/// <summary>
/// The cluster-wide job dispatcher (a cluster singleton on `coordinator` nodes; DESIGN.md section 8).
/// Workers pull: a slot with room (idle, or running with fewer prefetched jobs than its depth) sends
/// <see cref="RequestWork"/>, the coordinator claims the next job in PostgreSQL (the database decides; this actor's
/// memory, a <see cref="WorkerRegistry"/>, is only a cache) and answers <see cref="JobAssigned"/> or
/// <see cref="NoWorkAvailable"/>. Requests that arrive together are claimed together, one round trip per batch. Every database call runs off the actor thread and comes back as a message.
/// Lost workers (downed / removed / terminated) get their running jobs requeued at once; jobs of workers that
/// vanish unseen come back when their lease expires (checked every lease-check-interval). A lease check that had to
/// wait for the database (an outage) first gives every running lease one more lease of grace, so attempts whose
/// workers are alive and heartbeating are not expired for the outage; failed checks and requeues are logged and retried.
/// </summary>
public sealed class SweepCoordinator : ReceiveActor, IWithTimers
{
    private readonly IJobStore _store;
    private readonly RetryingCalls _db;
    private readonly OrchestrationSettings _settings;
    private readonly Action<string> _log;
    private const int MaxDispatchSamples = 100_000;
    private readonly string _incarnation = Guid.NewGuid().ToString("N")[..12];
    private const int MaxClaimBatch = 64;
    private const int MaxClaimBatchesInFlight = 2;
    private readonly WorkerRegistry _workers = new();
    private readonly Queue<PendingClaim> _pendingClaims = new();
    private int _claimBatchesInFlight;
    // Requests that found the queue empty wait here, for up to ParkFor, and are claimed again together as soon as
    // PostgreSQL says jobs were queued, else after the settings' ParkedRetry: a slot learns of new work at once
    // instead of polling on its own.
    private static readonly TimeSpan ParkFor = TimeSpan.FromSeconds(2);
    private readonly List<PendingClaim> _parked = [];
    private long _queuedNotices;
    private readonly List<double> _dispatchMs = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly WorkerAdmission _admission;
    private bool _leaseCheckRunning;
    private bool _leaseCheckAfterOutage;

    public SweepCoordinator(IJobStore store, OrchestrationSettings settings, Action<string> log)
    {
        _store = store;
        _settings = settings;
        _log = log;
        _db = new RetryingCalls(line => log("coordinator: " + line), settings.DbRetryLimit);
        _admission = new WorkerAdmission(Akka.Cluster.Cluster.Get(Context.System), log);

        Receive<RegisterWorker>(OnRegister);
        Receive<RequestWork>(OnRequestWork);
        Receive<ClaimBatchCompleted>(OnClaimBatchCompleted);
        Receive<JobProgress>(OnProgress);
        Receive<JobFinished>(m => SlotFreed(m.WorkerId, m.Slot, m.JobId, m.Attempt,
            m.Stored ? $"stored result of job {m.JobId} attempt {m.Attempt} ({m.Seconds:0.00} s)" : $"result of job {m.JobId} attempt {m.Attempt} rejected as stale"));
        Receive<JobFailed>(m => SlotFreed(m.WorkerId, m.Slot, m.JobId, m.Attempt,
            $"job {m.JobId} attempt {m.Attempt} failed ({(m.Retryable ? "retryable" : "not retryable")}): {m.Error}"));
        Receive<JobStopped>(m => SlotFreed(m.WorkerId, m.Slot, m.JobId, m.Attempt, $"job {m.JobId} attempt {m.Attempt} stopped: {m.Reason}"));
        Receive<Terminated>(t => WorkerLost(w => w.Ref.Equals(t.ActorRef), "worker actor terminated"));
        Receive<ClusterEvent.MemberRemoved>(m => WorkerLost(w => w.Node.Equals(m.Member.UniqueAddress), "node removed from the cluster"));
        Receive<ClusterEvent.UnreachableMember>(m =>
        {
            foreach (var w in _workers.Workers.Where(w => w.Node.Equals(m.Member.UniqueAddress)))
            {
                _log($"coordinator: worker {w.Id} is unreachable; its jobs are requeued when it is downed or their leases expire");
            }
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.ReachableMember>(_ => { });
        Receive<Requeued>(m =>
        {
            if (m.Count > 0)
            {
                _log($"coordinator: requeued {m.Count} running job(s) of {m.What}");
                NodeEvents.Emit(new JobsRequeuedEvent(m.Count, JobsRequeuedEvent.WorkerLost, m.What));
            }
        });
        Receive<LeaseTick>(_ => CheckLeases());
        Receive<LeaseCheckDone>(m =>
        {
            _leaseCheckRunning = false;
            _leaseCheckAfterOutage = false;
            if (m.Extended is { } extended)
            {
                _log($"coordinator: the database is back after an outage; {extended} running lease(s) get {_settings.Lease.TotalSeconds:0} s of grace before any is expired");
            }
            if (m.Count > 0)
            {
                _log($"coordinator: requeued {m.Count} job(s) whose lease expired");
                NodeEvents.Emit(new JobsRequeuedEvent(m.Count, JobsRequeuedEvent.LeaseExpired, null));
            }
        });
        Receive<LeaseCheckFailed>(m =>
        {
            _leaseCheckRunning = false;
            _leaseCheckAfterOutage = true;
            _log($"coordinator: checking expired leases failed (retried at the next check): {m.Error}");
        });
        Receive<RequeueFailed>(m =>
        {
            _log($"coordinator: requeueing the jobs of {m.What} failed (retried in {_settings.LeaseCheckInterval.TotalSeconds:0} s): {m.Error}");
            Timers.StartSingleTimer($"requeue {m.WorkerId}", new RetryRequeue(m.WorkerId, m.What), _settings.LeaseCheckInterval);
        });
        Receive<RetryRequeue>(m => Requeue(m.WorkerId, m.What));
        Receive<RebuildLoaded>(OnRebuild);
        Receive<StaleReport>(m =>
        {
            if (_workers.TryGet(m.WorkerId, out var w))
            {
                w.Ref.Tell(new CancelJob(m.JobId, m.Attempt, "attempt is no longer current"));
            }
        });
        Receive<DbCallFailed>(m => _log($"coordinator: {m.What} failed: {m.Error}"));
        Receive<ReportTick>(_ => ReportDispatch());
        Receive<ParkedTick>(_ => ClaimParked());
        Receive<JobsQueued>(_ =>
        {
            _queuedNotices++;
            ClaimParked();
        });
        Receive<Ignored>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IJobStore store, OrchestrationSettings settings, Action<string> log) =>
        Akka.Actor.Props.Create(() => new SweepCoordinator(store, settings, log));

    protected override void PreStart()
    {
        _log($"this node is now the coordinator (incarnation {_incarnation}); rebuilding state from PostgreSQL");
        NodeEvents.Emit(new CoordinatorStartedEvent(_incarnation, Environment.ProcessId));
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer("lease-check", LeaseTick.Instance, _settings.LeaseCheckInterval);
        Timers.StartPeriodicTimer("report", ReportTick.Instance, TimeSpan.FromSeconds(30));
        var self = Self;
        _ = _store.ListenForQueuedJobsAsync(() => self.Tell(JobsQueued.Instance), _stopping.Token);
        _db.RunAsync("load running jobs", ct => _store.RunningJobsAsync(ct), _stopping.Token)
            .PipeTo(Self, success: jobs => new RebuildLoaded(jobs), failure: e => new DbCallFailed("loading running jobs", e.Message));
    }

    protected override void PostStop()
    {
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        _stopping.Cancel();
        ReportDispatch();
        _log("coordinator stopped on this node");
        NodeEvents.Emit(new CoordinatorStoppedEvent(_incarnation));
    }

    /// <summary>Claims again, together, for the requests that found the queue empty.</summary>
    private void ClaimParked()
    {
        if (_parked.Count == 0)
        {
            return;
        }
        Timers.Cancel("parked");
        foreach (var claim in _parked.Where(c => Wanted(c.Request.Worker, c.Request.Slot)))
        {
            // Dispatch latency counts from the claim that finds the job, not the wait for work to exist.
            _pendingClaims.Enqueue(claim with { Received = Stopwatch.GetTimestamp() });
        }
        _parked.Clear();
        ClaimPending();
    }

    private void OnRebuild(RebuildLoaded m)
    {
        // Jobs PostgreSQL believes are running: those of workers that re-registered are known already; those of
        // workers that are no longer cluster members are requeued now (they would otherwise wait for lease expiry).
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        var alive = cluster.State.Members
            .Where(x => x.Status is MemberStatus.Up or MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Leaving)
            .Select(x => WorkerIdentity.Of(x.UniqueAddress))
            .ToHashSet(StringComparer.Ordinal);
        var workers = m.Jobs.Select(j => j.Worker).Distinct(StringComparer.Ordinal).Count();
        _log($"coordinator: PostgreSQL has {m.Jobs.Count} running job(s) on {workers} worker(s)");
        foreach (var unknown in _workers.Rebuild(m.Jobs).Where(w => !alive.Contains(w)))
        {
            Requeue(unknown, "a worker that left while no coordinator was watching");
        }
    }

    private void OnRegister(RegisterWorker m)
    {
        var now = DateTime.UtcNow;
        if (!_workers.TryGet(m.WorkerId, out var worker))
        {
            // Only the member the worker id names may register it (not yet a member: the worker retries).
            if (_admission.Register(m.WorkerId, Sender) is not { } node)
            {
                return;
            }
            worker = _workers.Add(m.WorkerId, m.NodeName, Sender, node, now);
            Context.Watch(Sender);
            _log($"coordinator: worker {m.NodeName} ({m.WorkerId}) registered with {m.Slots.Count} slot(s): {string.Join(", ", m.Slots)}; running {m.Running.Count}");
            NodeEvents.Emit(new WorkerRegisteredEvent(m.NodeName, m.WorkerId, m.Slots));
            foreach (var job in m.Running)
            {
                var (workerId, jobId, attempt) = (m.WorkerId, job.JobId, job.Attempt);
                _db.RunAsync("check a reported attempt", ct => _store.IsCurrentAsync(jobId, attempt, ct), _stopping.Token)
                    .PipeTo(Self, success: current => current ? Ignored.Instance : new StaleReport(workerId, jobId, attempt),
                        failure: e => new DbCallFailed("checking a reported attempt", e.Message));
            }
        }
        else if (!_admission.Admits("re-registration", worker, null, Sender))
        {
            return;
        }
        // The worker's own report is authoritative for what its slots hold now (running and prefetched); an
        // assignment still in flight to it is kept for one registration interval.
        if (_workers.Report(worker, Sender, m.Slots, m.Running, now, _settings.RegisterInterval) is { } previous)
        {
            Context.Unwatch(previous);
            Context.Watch(Sender);
        }
        Sender.Tell(new WorkerRegistered(_incarnation));
    }

    private void OnRequestWork(RequestWork m)
    {
        if (!_workers.TryGet(m.WorkerId, out var worker))
        {
            // A worker we have not seen register (coordinator just moved): it re-registers within a few seconds and
            // asks again; answering "no work" makes it retry after the idle pause.
            Sender.Tell(new NoWorkAvailable(m.Slot));
            return;
        }
        if (!_admission.Admits("work request", worker, m.Slot, Sender))
        {
            return;
        }
        WorkerRegistry.Seen(worker, DateTime.UtcNow);
        // A slot asks for one job at a time (its next one, or one to prefetch). An assignment lost in flight is not
        // sent again: its lease expires and the job is requeued.
        if (!_workers.BeginClaim(m.WorkerId, m.Slot))
        {
            return;
        }
        // One token per request: a batch retried after its reply was lost gets the jobs the first try claimed.
        var now = Stopwatch.GetTimestamp();
        _pendingClaims.Enqueue(new PendingClaim(new ClaimRequest(m.WorkerId, m.Slot, Guid.NewGuid(), m.Ahead), now, now));
        ClaimPending();
    }

    /// <summary>
    /// Claims for the requests waiting, up to <see cref="MaxClaimBatch"/> per database round trip, with at most
    /// <see cref="MaxClaimBatchesInFlight"/> batches running: requests that arrive while a batch runs go together
    /// into the next one, so the claim cost per job falls as more slots ask at once.
    /// </summary>
    private void ClaimPending()
    {
        while (_pendingClaims.Count > 0 && _claimBatchesInFlight < MaxClaimBatchesInFlight)
        {
            var batch = new List<PendingClaim>(Math.Min(_pendingClaims.Count, MaxClaimBatch));
            while (batch.Count < MaxClaimBatch && _pendingClaims.TryDequeue(out var next))
            {
                if (Wanted(next.Request.Worker, next.Request.Slot))
                {
                    batch.Add(next);
                }
            }
            if (batch.Count == 0)
            {
                return;
            }
            _claimBatchesInFlight++;
            // Ahead (prefetch) requests only take jobs beyond one per registered slot: the last jobs of a sweep go to
            // slots that are free, not behind a running job while another slot idles.
            var (requests, lease, reserve, notices) = (batch.Select(p => p.Request).ToArray(), _settings.Lease, _workers.TotalSlots, _queuedNotices);
            _db.RunAsync("claim jobs", ct => _store.ClaimBatchAsync(requests, lease, ct, reserve), _stopping.Token)
                .PipeTo(Self,
                    success: jobs => new ClaimBatchCompleted(batch, jobs, null, notices),
                    failure: e => new ClaimBatchCompleted(batch, [], e.Message, notices));
        }
    }

    /// <summary>
    /// Whether a held or pending claim is still wanted: its worker is registered and still offers the slot (a leaving
    /// node re-registers with no slots). An unwanted claim is dropped, ending the slot's claim.
    /// </summary>
    private bool Wanted(string workerId, string slot)
    {
        if (_workers.TryGet(workerId, out var worker) && worker.SlotNames.Contains(slot, StringComparer.Ordinal))
        {
            return true;
        }
        _workers.EndClaim(workerId, slot);
        return false;
    }

    private void OnClaimBatchCompleted(ClaimBatchCompleted m)
    {
        _claimBatchesInFlight--;
        for (var i = 0; i < m.Claims.Count; i++)
        {
            OnClaimCompleted(m.Claims[i], i < m.Jobs.Count ? m.Jobs[i] : null, m.Error);
        }
        if (m.Notices != _queuedNotices)
        {
            // Jobs were queued while this batch ran: what it found empty may not be any more.
            ClaimParked();
        }
        ClaimPending();
    }

    private void OnClaimCompleted(PendingClaim claim, ClaimedJob? job, string? error)
    {
        var (workerId, slot) = (claim.Request.Worker, claim.Request.Slot);
        if (job is null && error is null && !claim.Request.Ahead && _workers.TryGet(workerId, out _) && Stopwatch.GetElapsedTime(claim.Asked) < ParkFor)
        {
            // Nothing queued now: ask again with the other parked requests shortly (a new token: this one is spent).
            if (_parked.Count == 0)
            {
                Timers.StartSingleTimer("parked", ParkedTick.Instance, _settings.ParkedRetry);
            }
            _parked.Add(claim with { Request = claim.Request with { Token = Guid.NewGuid() } });
            return;
        }
        _workers.EndClaim(workerId, slot);
        if (!_workers.TryGet(workerId, out var worker) || !worker.SlotNames.Contains(slot, StringComparer.Ordinal))
        {
            if (job is not null)
            {
                // The worker was lost (or started leaving) while the claim ran: give the claimed job back.
                Requeue(workerId, "a worker lost or leaving during a claim");
            }
            return;
        }
        if (error is not null)
        {
            _log($"coordinator: claim for {worker.Name} {slot} failed: {error}");
            worker.Ref.Tell(new NoWorkAvailable(slot));
            return;
        }
        if (job is null)
        {
            worker.Ref.Tell(new NoWorkAvailable(slot));
            return;
        }
        var assigned = new JobAssigned(slot, job.JobId, job.Attempt, job.SweepName, job.Key, job.Dataset, job.TrainingOverrides,
            _settings.Lease.TotalSeconds);
        WorkerRegistry.Assigned(worker, slot, job.JobId, job.Attempt, DateTime.UtcNow);
        worker.Ref.Tell(assigned);
        var ms = Stopwatch.GetElapsedTime(claim.Received).TotalMilliseconds;
        if (_dispatchMs.Count >= MaxDispatchSamples)
        {
            // Percentiles of the recent past are what an operator wants; keep memory bounded on long runs.
            _dispatchMs.RemoveRange(0, MaxDispatchSamples / 2);
        }
        _dispatchMs.Add(ms);
        _log($"coordinator: assigned job {job.JobId} attempt {job.Attempt} ({job.Key.Canonical}) to {worker.Name} {slot}; dispatch {ms:0.000} ms");
        NodeEvents.Emit(new JobAssignedEvent(job.SweepName, job.JobId, job.Attempt, worker.Name, worker.Id, slot, ms));
    }

    private void OnProgress(JobProgress m)
    {
        if (_workers.TryGet(m.WorkerId, out var worker) && _admission.Admits("progress report", worker, m.Slot, Sender))
        {
            WorkerRegistry.Seen(worker, DateTime.UtcNow);
            WorkerRegistry.Confirmed(worker, m.Slot, m.JobId, m.Attempt);
        }
    }

    private void SlotFreed(string workerId, string slot, long jobId, int attempt, string what)
    {
        if (_workers.TryGet(workerId, out var worker) && _admission.Admits("job report", worker, slot, Sender))
        {
            WorkerRegistry.Seen(worker, DateTime.UtcNow);
            WorkerRegistry.Ended(worker, slot, jobId, attempt);
            _log($"coordinator: {worker.Name} {slot}: {what}");
        }
    }

    private void WorkerLost(Func<WorkerRegistry.Worker, bool> match, string reason)
    {
        foreach (var worker in _workers.RemoveWhere(match))
        {
            Context.Unwatch(worker.Ref);
            _log($"coordinator: lost worker {worker.Name} ({worker.Id}): {reason}; requeueing its running jobs");
            NodeEvents.Emit(new WorkerLostEvent(worker.Name, worker.Id, reason));
            Requeue(worker.Id, $"worker {worker.Name}");
        }
    }

    private void Requeue(string workerId, string what)
    {
        _db.RunAsync("requeue a lost worker's jobs", ct => _store.RequeueWorkerAsync(workerId, $"worker {workerId} lost", ct), _stopping.Token)
            .PipeTo(Self, success: n => new Requeued(what, n), failure: e => new RequeueFailed(workerId, what, e.Message));
    }

    private void CheckLeases()
    {
        if (_leaseCheckRunning)
        {
            return;
        }
        _leaseCheckRunning = true;
        var (afterOutage, grace, tries) = (_leaseCheckAfterOutage, _settings.Lease, 0);
        _db.RunAsync("requeue expired leases", async ct =>
            {
                // A try that follows a failed one means the database was away: leases ran out during the outage
                // while live workers could not renew them. Grace first; expiry resumes at the next check.
                if (afterOutage || ++tries > 1)
                {
                    return new LeaseCheckDone(0, await _store.ExtendRunningLeasesAsync(grace, ct).ConfigureAwait(false));
                }
                return new LeaseCheckDone(await _store.RequeueExpiredLeasesAsync(ct).ConfigureAwait(false), null);
            }, _stopping.Token)
            .PipeTo(Self, failure: e => new LeaseCheckFailed(e.Message));
    }

    private void ReportDispatch()
    {
        if (_dispatchMs.Count == 0)
        {
            return;
        }
        var sorted = _dispatchMs.Order().ToArray();
        _log($"coordinator: dispatch latency over {sorted.Length} assignments: p50 {LatencyStats.Percentile(sorted, 50):0.000} ms, p99 {LatencyStats.Percentile(sorted, 99):0.000} ms");
    }

    private sealed record PendingClaim(ClaimRequest Request, long Asked, long Received);
    /// <param name="Notices">The count of <see cref="JobsQueued"/> notices when the batch was sent.</param>
    private sealed record ClaimBatchCompleted(IReadOnlyList<PendingClaim> Claims, IReadOnlyList<ClaimedJob?> Jobs, string? Error, long Notices) : INoSerializationVerificationNeeded;
    private sealed record Requeued(string What, int Count) : INoSerializationVerificationNeeded;
    private sealed record LeaseCheckDone(int Count, int? Extended) : INoSerializationVerificationNeeded;
    private sealed record LeaseCheckFailed(string Error) : INoSerializationVerificationNeeded;
    private sealed record RequeueFailed(string WorkerId, string What, string Error) : INoSerializationVerificationNeeded;
    private sealed record RetryRequeue(string WorkerId, string What) : INoSerializationVerificationNeeded;
    private sealed record RebuildLoaded(IReadOnlyList<RunningJob> Jobs) : INoSerializationVerificationNeeded;
    private sealed record StaleReport(string WorkerId, long JobId, int Attempt) : INoSerializationVerificationNeeded;
    private sealed record DbCallFailed(string What, string Error) : INoSerializationVerificationNeeded;
    private sealed class LeaseTick : INoSerializationVerificationNeeded { public static readonly LeaseTick Instance = new(); }
    private sealed class ReportTick : INoSerializationVerificationNeeded { public static readonly ReportTick Instance = new(); }
    private sealed class ParkedTick : INoSerializationVerificationNeeded { public static readonly ParkedTick Instance = new(); }

    /// <summary>PostgreSQL notified that a transaction queued jobs (from the listening task; local only).</summary>
    private sealed class JobsQueued : INoSerializationVerificationNeeded { public static readonly JobsQueued Instance = new(); }
    private sealed class Ignored : INoSerializationVerificationNeeded { public static readonly object Instance = new Ignored(); }
}
