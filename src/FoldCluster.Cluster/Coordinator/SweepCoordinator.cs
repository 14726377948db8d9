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
/// Workers pull: an idle slot sends <see cref="RequestWork"/>, the coordinator claims the next job in PostgreSQL
/// (the database decides; this actor's memory is only a cache) and answers <see cref="JobAssigned"/> or
/// <see cref="NoWorkAvailable"/>. Every database call runs off the actor thread and comes back as a message.
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
    private readonly Dictionary<string, WorkerState> _workers = new(StringComparer.Ordinal);
    private readonly HashSet<(string Worker, string Slot)> _claimsInFlight = [];
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
        Receive<ClaimCompleted>(OnClaimCompleted);
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
            foreach (var w in _workers.Values.Where(w => w.Node.Equals(m.Member.UniqueAddress)))
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
            if (_workers.TryGetValue(m.WorkerId, out var w))
            {
                w.Ref.Tell(new CancelJob(m.JobId, m.Attempt, "attempt is no longer current"));
            }
        });
        Receive<DbCallFailed>(m => _log($"coordinator: {m.What} failed: {m.Error}"));
        Receive<ReportTick>(_ => ReportDispatch());
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

    private void OnRebuild(RebuildLoaded m)
    {
        // Jobs PostgreSQL believes are running: those of workers that re-registered are known already; those of
        // workers that are no longer cluster members are requeued now (they would otherwise wait for lease expiry).
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        var alive = cluster.State.Members
            .Where(x => x.Status is MemberStatus.Up or MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Leaving)
            .Select(x => WorkerIdentity.Of(x.UniqueAddress))
            .ToHashSet(StringComparer.Ordinal);
        var byWorker = m.Jobs.GroupBy(j => j.Worker, StringComparer.Ordinal).ToArray();
        _log($"coordinator: PostgreSQL has {m.Jobs.Count} running job(s) on {byWorker.Length} worker(s)");
        foreach (var group in byWorker)
        {
            if (_workers.TryGetValue(group.Key, out var known))
            {
                foreach (var job in group)
                {
                    known.Slots.TryAdd(job.Slot, new SlotJob(job.Slot, job.JobId, job.Attempt));
                }
            }
            else if (!alive.Contains(group.Key))
            {
                Requeue(group.Key, "a worker that left while no coordinator was watching");
            }
        }
    }

    private void OnRegister(RegisterWorker m)
    {
        if (!_workers.TryGetValue(m.WorkerId, out var worker))
        {
            // Only the member the worker id names may register it (not yet a member: the worker retries).
            if (_admission.Register(m.WorkerId, Sender) is not { } node)
            {
                return;
            }
            worker = new WorkerState(m.WorkerId, m.NodeName, Sender, node);
            _workers[m.WorkerId] = worker;
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
        else if (!_admission.Admits("re-registration", m.WorkerId, null, Sender, worker.Node, m.Slots))
        {
            return;
        }
        if (!worker.Ref.Equals(Sender))
        {
            Context.Unwatch(worker.Ref);
            Context.Watch(Sender);
            worker.Ref = Sender;
        }
        worker.SlotNames = m.Slots;
        // The worker's own report is authoritative for what its slots run now; an assignment still in flight
        // to a slot that reports nothing yet is kept until the slot reports or asks for work again.
        foreach (var slot in m.Slots)
        {
            var running = m.Running.FirstOrDefault(r => r.Slot == slot);
            if (running is not null)
            {
                worker.Slots[slot] = running;
                if (worker.Assigned.TryGetValue(slot, out var a) && (a.JobId != running.JobId || a.Attempt != running.Attempt))
                {
                    worker.Assigned.Remove(slot);
                }
            }
            else if (!worker.Assigned.ContainsKey(slot))
            {
                worker.Slots.Remove(slot);
            }
        }
        Sender.Tell(new WorkerRegistered(_incarnation));
    }

    private void OnRequestWork(RequestWork m)
    {
        if (!_workers.TryGetValue(m.WorkerId, out var worker))
        {
            // A worker we have not seen register (coordinator just moved): it re-registers within a few seconds and
            // asks again; answering "no work" makes it retry after the idle pause.
            Sender.Tell(new NoWorkAvailable(m.Slot));
            return;
        }
        if (!_admission.Admits("work request", m.WorkerId, m.Slot, Sender, worker.Node, worker.SlotNames))
        {
            return;
        }
        // An idle slot asks: whatever was assigned to it before is finished (or storing its result) from the slot's
        // point of view. An assignment lost in flight is not sent again: its lease expires and the job is requeued.
        worker.Assigned.Remove(m.Slot);
        if (!_claimsInFlight.Add((m.WorkerId, m.Slot)))
        {
            return;
        }
        var received = Stopwatch.GetTimestamp();
        var (workerId, slot, lease) = (m.WorkerId, m.Slot, _settings.Lease);
        // One token per request: a try retried after its reply was lost gets the job the first try claimed.
        var claimToken = Guid.NewGuid();
        _db.RunAsync("claim a job", ct => _store.ClaimNextAsync(workerId, slot, lease, claimToken, ct), _stopping.Token)
            .PipeTo(Self,
                success: job => new ClaimCompleted(workerId, slot, job, received, null),
                failure: e => new ClaimCompleted(workerId, slot, null, received, e.Message));
    }

    private void OnClaimCompleted(ClaimCompleted m)
    {
        _claimsInFlight.Remove((m.WorkerId, m.Slot));
        if (!_workers.TryGetValue(m.WorkerId, out var worker))
        {
            if (m.Job is not null)
            {
                // The worker was lost while the claim ran: the claimed job belongs to a dead worker; give it back.
                Requeue(m.WorkerId, "a worker lost during a claim");
            }
            return;
        }
        if (m.Error is not null)
        {
            _log($"coordinator: claim for {worker.Name} {m.Slot} failed: {m.Error}");
            worker.Ref.Tell(new NoWorkAvailable(m.Slot));
            return;
        }
        if (m.Job is null)
        {
            worker.Ref.Tell(new NoWorkAvailable(m.Slot));
            return;
        }
        var job = m.Job;
        var assigned = new JobAssigned(m.Slot, job.JobId, job.Attempt, job.SweepName, job.Key, job.Dataset, job.TrainingOverrides,
            _settings.Lease.TotalSeconds);
        worker.Slots[m.Slot] = new SlotJob(m.Slot, job.JobId, job.Attempt);
        worker.Assigned[m.Slot] = assigned;
        worker.Ref.Tell(assigned);
        var ms = Stopwatch.GetElapsedTime(m.Received).TotalMilliseconds;
        if (_dispatchMs.Count >= MaxDispatchSamples)
        {
            // Percentiles of the recent past are what an operator wants; keep memory bounded on long runs.
            _dispatchMs.RemoveRange(0, MaxDispatchSamples / 2);
        }
        _dispatchMs.Add(ms);
        _log($"coordinator: assigned job {job.JobId} attempt {job.Attempt} ({job.Key.Canonical}) to {worker.Name} {m.Slot}; dispatch {ms:0.000} ms");
        NodeEvents.Emit(new JobAssignedEvent(job.SweepName, job.JobId, job.Attempt, worker.Name, worker.Id, m.Slot, ms));
    }

    private void OnProgress(JobProgress m)
    {
        if (_workers.TryGetValue(m.WorkerId, out var worker)
            && _admission.Admits("progress report", m.WorkerId, m.Slot, Sender, worker.Node, worker.SlotNames))
        {
            worker.Slots[m.Slot] = new SlotJob(m.Slot, m.JobId, m.Attempt);
        }
    }

    private void SlotFreed(string workerId, string slot, long jobId, int attempt, string what)
    {
        if (_workers.TryGetValue(workerId, out var worker)
            && _admission.Admits("job report", workerId, slot, Sender, worker.Node, worker.SlotNames))
        {
            if (worker.Slots.TryGetValue(slot, out var current) && current.JobId == jobId && current.Attempt == attempt)
            {
                worker.Slots.Remove(slot);
                worker.Assigned.Remove(slot);
            }
            _log($"coordinator: {worker.Name} {slot}: {what}");
        }
    }

    private void WorkerLost(Func<WorkerState, bool> match, string reason)
    {
        foreach (var worker in _workers.Values.Where(match).ToArray())
        {
            _workers.Remove(worker.Id);
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

    private sealed class WorkerState(string id, string name, IActorRef actor, UniqueAddress node)
    {
        public string Id { get; } = id;
        public string Name { get; } = name;
        public IActorRef Ref { get; set; } = actor;
        public UniqueAddress Node { get; } = node;
        public IReadOnlyList<string> SlotNames { get; set; } = [];
        public Dictionary<string, SlotJob> Slots { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, JobAssigned> Assigned { get; } = new(StringComparer.Ordinal);

    }

    private sealed record ClaimCompleted(string WorkerId, string Slot, ClaimedJob? Job, long Received, string? Error) : INoSerializationVerificationNeeded;
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
    private sealed class Ignored : INoSerializationVerificationNeeded { public static readonly object Instance = new Ignored(); }
}
