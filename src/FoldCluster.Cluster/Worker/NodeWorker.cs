using Akka;
using Akka.Actor;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Cluster.Infrastructure;
using FoldCluster.Cluster.Messages;
using FoldCluster.Core;
using FoldCluster.Core.Sweeps;
using FoldCluster.Storage.Jobs;

namespace FoldCluster.Cluster.Worker;

/// <summary>What a worker needs besides the store: its identity, slots, trainer per slot and folders.</summary>
public sealed record WorkerSetup(
    string WorkerId,
    string NodeName,
    IReadOnlyList<string> Slots,
    Func<string, IJobTrainer> TrainerForSlot,
    string CacheDirectory,
    string? DataRoot)
{
    /// <summary>
    /// `--prefetch N`: how many claimed next assignments each slot may hold besides the one it runs (0: none), so
    /// the next job starts the moment the previous one returns.
    /// </summary>
    public int Prefetch { get; init; } = 1;
}

/// <summary>
/// The node's worker (one per node): offers its slots to the coordinator, runs each assigned attempt on the slot's
/// own thread, renews leases while attempts run, and re-registers every few seconds so that a coordinator that
/// moved learns which jobs run where (DESIGN.md section 8). Work is pulled: an idle slot asks, the coordinator
/// answers with a job or "no work" (then the slot asks again after idle-poll). A slot with prefetch depth N keeps
/// asking while it runs until it holds N more assignments: each is claimed and fenced like a running attempt (its
/// own attempt and lease in PostgreSQL, renewed by this worker's heartbeat, requeued as a loss with the node's other
/// jobs, dropped when renewal finds it fenced off, e.g. by a cancelled sweep) and starts when the slot frees.
/// </summary>
public sealed class NodeWorker : ReceiveActor, IWithTimers
{
    private readonly WorkerSetup _setup;
    private readonly IJobStore _store;
    private readonly IActorRef _coordinator;
    private readonly OrchestrationSettings _settings;
    private readonly Action<string> _log;
    private readonly RetryingCalls _db;
    private readonly Dictionary<string, SlotState> _slots;
    private readonly Dictionary<string, IJobTrainer> _trainers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SlotThread> _threads = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _abort = new();
    private readonly List<SlotRun> _storing = [];
    private readonly Queue<(long JobId, int Attempt)> _startedOrder = new();
    private readonly HashSet<(long JobId, int Attempt)> _started = [];
    private string? _coordinatorIncarnation;
    private bool _leaving;
    private IActorRef? _leaveRequester;

    public NodeWorker(WorkerSetup setup, IJobStore store, IActorRef coordinator, OrchestrationSettings settings, Action<string> log)
    {
        _setup = setup;
        _store = store;
        _coordinator = coordinator;
        _settings = settings;
        _log = log;
        _db = new RetryingCalls(line => log("worker: " + line), settings.DbRetryLimit);
        _slots = setup.Slots.ToDictionary(s => s, s => new SlotState(), StringComparer.Ordinal);

        Receive<WorkerRegistered>(OnRegistered);
        Receive<JobAssigned>(OnAssigned);
        Receive<NoWorkAvailable>(m =>
        {
            if (_slots.TryGetValue(m.Slot, out var slot))
            {
                // A coordinator that held the request while the queue was empty has waited already: ask again at once
                // (it holds the next request too). A quick "no work" means wait idle-poll first.
                // An ahead request (sent while the slot was busy) that comes back after the slot went idle asks again
                // at once too: the queue may hold a job that was kept for idle slots (the coordinator's reserve), and
                // waiting idle-poll here left the last jobs of a sweep queued while their slots sat idle.
                var now = DateTime.UtcNow;
                var held = slot.RequestedAt is { } asked && now - asked >= _settings.IdlePoll;
                var wentIdle = slot.RequestedAhead && slot.Run is null && slot.Prefetched.Count == 0;
                slot.RequestedAt = null;
                slot.NextRequestAt = held || wentIdle ? now : now + _settings.IdlePoll;
                if (held || wentIdle)
                {
                    OnTick();
                }
            }
        });
        Receive<CancelJob>(m =>
        {
            foreach (var (name, slot) in _slots)
            {
                DropPrefetched(name, slot, m.JobId, m.Attempt, m.Reason);
            }
            foreach (var slot in _slots.Values.Where(s => s.Run is { } r && r.JobId == m.JobId && r.Attempt == m.Attempt))
            {
                _log($"worker: cancelling job {m.JobId} attempt {m.Attempt}: {m.Reason}");
                slot.Run!.Stop(m.Reason);
            }
        });
        // A slot tells only its attempt's first epoch: the coordinator needs to learn once that the slot runs the
        // attempt; later epochs go to PostgreSQL and to the lease renewal (SlotRun.LastEpoch), not across the network.
        Receive<SlotProgress>(m => _coordinator.Tell(new JobProgress(_setup.WorkerId, m.Slot, m.JobId, m.Attempt, m.Epoch)));
        Receive<SlotTrained>(m =>
        {
            if (_slots.TryGetValue(m.Slot, out var slot) && slot.Run is { } run && run.JobId == m.JobId && run.Attempt == m.Attempt && !_leaving)
            {
                // Training is over; the result is being stored off the slot's thread. Free the slot for the next job now.
                _storing.Add(run);
                slot.Run = null;
                slot.NextRequestAt = DateTime.MinValue;
                StartNext(m.Slot, slot);
                OnTick();
            }
        });
        Receive<SlotEnded>(OnSlotEnded);
        Receive<Tick>(_ => OnTick());
        Receive<RegisterTick>(_ => Register());
        Receive<RenewTick>(_ => RenewLeases());
        Receive<RenewResult>(m =>
        {
            foreach (var (slotName, jobId, attempt) in m.NotCurrent)
            {
                if (!_slots.TryGetValue(slotName, out var slot))
                {
                    continue;
                }
                if (slot.Run is { } run && run.JobId == jobId && run.Attempt == attempt)
                {
                    _log($"worker: job {jobId} attempt {attempt} is no longer current (sweep cancelled or reassigned); stopping it");
                    run.Stop("the attempt is no longer current (sweep cancelled or job reassigned)");
                }
                DropPrefetched(slotName, slot, jobId, attempt, "the attempt is no longer current (sweep cancelled or job reassigned)");
            }
        });
        Receive<Leave>(_ => OnLeave());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(WorkerSetup setup, IJobStore store, IActorRef coordinator, OrchestrationSettings settings, Action<string> log) =>
        Akka.Actor.Props.Create(() => new NodeWorker(setup, store, coordinator, settings, log));

    protected override void PreStart()
    {
        Register();
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromMilliseconds(250));
        Timers.StartPeriodicTimer("register", RegisterTick.Instance, _settings.RegisterInterval);
        Timers.StartPeriodicTimer("renew", RenewTick.Instance, _settings.LeaseRenewInterval);
    }

    protected override void PostStop()
    {
        foreach (var slot in _slots.Values)
        {
            slot.Run?.Stop("worker stopped");
            slot.Prefetched.Clear();
        }
        _abort.Cancel();
        _storing.Clear();
        foreach (var thread in _threads.Values)
        {
            thread.Dispose();
        }
    }

    private void Register()
    {
        var running = _slots.SelectMany(p => (p.Value.Run is { } run ? [new SlotJob(p.Key, run.JobId, run.Attempt)] : Array.Empty<SlotJob>())
            .Concat(p.Value.Prefetched.Select(a => new SlotJob(p.Key, a.JobId, a.Attempt)))).ToArray();
        // A leaving node offers no slots, so the coordinator drops the requests it still holds for them.
        _coordinator.Tell(new RegisterWorker(_setup.WorkerId, _setup.NodeName, _leaving ? [] : _setup.Slots, running));
    }

    private void OnRegistered(WorkerRegistered m)
    {
        if (m.CoordinatorIncarnation == _coordinatorIncarnation)
        {
            return;
        }
        _log(_coordinatorIncarnation is null
            ? $"worker: registered {_setup.Slots.Count} slot(s) ({string.Join(", ", _setup.Slots)}) with the coordinator"
            : "worker: a new coordinator took over; re-registered and asking again for work");
        _coordinatorIncarnation = m.CoordinatorIncarnation;
        // Requests sent to a coordinator that died are lost: ask again now.
        foreach (var slot in _slots.Values.Where(HasRoom))
        {
            slot.RequestedAt = null;
            slot.NextRequestAt = DateTime.MinValue;
        }
        OnTick();
    }

    private void OnTick()
    {
        if (_leaving || _coordinatorIncarnation is null)
        {
            return;
        }
        var now = DateTime.UtcNow;
        foreach (var (name, slot) in _slots)
        {
            if (!HasRoom(slot))
            {
                continue;
            }
            var due = slot.RequestedAt is { } asked ? now - asked > _settings.RequestTimeout : now >= slot.NextRequestAt;
            if (due)
            {
                slot.RequestedAt = now;
                slot.RequestedAhead = slot.Run is not null || slot.Prefetched.Count > 0;
                _coordinator.Tell(new RequestWork(_setup.WorkerId, name, Ahead: slot.RequestedAhead));
            }
        }
    }

    /// <summary>Whether the slot may take one more assignment: it holds fewer than its run plus the prefetch depth.</summary>
    private bool HasRoom(SlotState slot) => (slot.Run is null ? 0 : 1) + slot.Prefetched.Count < 1 + _setup.Prefetch;

    private void OnAssigned(JobAssigned m)
    {
        if (!_slots.TryGetValue(m.Slot, out var slot))
        {
            _log($"worker: ignoring job {m.JobId} for unknown slot {m.Slot}");
            return;
        }
        if ((slot.Run is { } r && r.JobId == m.JobId && r.Attempt == m.Attempt)
            || slot.Prefetched.Any(p => p.JobId == m.JobId && p.Attempt == m.Attempt))
        {
            return;
        }
        if (!HasRoom(slot))
        {
            // Should not happen (one request at a time per slot with room); the job is not started here, and its lease expires.
            _log($"worker: slot {m.Slot} is full (running job {slot.Run?.JobId}, {slot.Prefetched.Count} prefetched); not taking job {m.JobId} attempt {m.Attempt}");
            return;
        }
        if (!_started.Add((m.JobId, m.Attempt)))
        {
            // A repeat of an assignment this node already ran (or runs): never run an attempt twice.
            return;
        }
        _startedOrder.Enqueue((m.JobId, m.Attempt));
        if (_startedOrder.Count > 10_000)
        {
            var forgotten = _startedOrder.Dequeue();
            _started.Remove(forgotten);
        }
        if (_leaving)
        {
            // Too late to start: give it back at once (the node's jobs are requeued as it leaves).
            return;
        }
        slot.RequestedAt = null;
        slot.NextRequestAt = DateTime.MinValue;
        slot.Prefetched.Enqueue(m);
        if (slot.Run is null)
        {
            StartNext(m.Slot, slot);
        }
        else
        {
            _log($"worker: slot {m.Slot} prefetched job {m.JobId} attempt {m.Attempt} ({m.Key.Canonical}) of sweep {m.SweepName}");
        }
        // Ask at once for the next one to prefetch (a slot with depth 0 and a run has no room and does not ask).
        OnTick();
    }

    /// <summary>Starts the slot's next prefetched assignment, if it has one and is free.</summary>
    private void StartNext(string name, SlotState slot)
    {
        if (slot.Run is not null || _leaving || !slot.Prefetched.TryDequeue(out var m))
        {
            return;
        }
        // Paths still relative in the stored spec are relative to this node's --data-root.
        var dataset = SweepPaths.Resolve(m.Dataset, _setup.DataRoot);
        var request = new JobRequest(m.Key, dataset, _setup.CacheDirectory, SlotSpec.Device(m.Slot), m.TrainingOverrides);
        if (!_trainers.TryGetValue(m.Slot, out var trainer))
        {
            trainer = _setup.TrainerForSlot(m.Slot);
            _trainers[m.Slot] = trainer;
        }
        var run = new SlotRun(m.Slot, m.JobId, m.Attempt, request, trainer, _store, _db, TimeSpan.FromSeconds(m.LeaseSeconds), Self, _abort.Token);
        slot.Run = run;
        _log($"worker: slot {name} started job {m.JobId} attempt {m.Attempt} ({m.Key.Canonical}) of sweep {m.SweepName}");
        Events.NodeEvents.Emit(new Events.JobStartedEvent(m.SweepName, m.JobId, m.Attempt, name));
        if (!_threads.TryGetValue(name, out var thread))
        {
            thread = new SlotThread(name);
            _threads[name] = thread;
        }
        thread.Post(run.Run);
    }

    /// <summary>A prefetched assignment that is no longer current (or cancelled) is dropped before it starts.</summary>
    private void DropPrefetched(string name, SlotState slot, long jobId, int attempt, string reason)
    {
        if (!slot.Prefetched.Any(p => p.JobId == jobId && p.Attempt == attempt))
        {
            return;
        }
        var kept = slot.Prefetched.Where(p => p.JobId != jobId || p.Attempt != attempt).ToArray();
        slot.Prefetched.Clear();
        foreach (var p in kept)
        {
            slot.Prefetched.Enqueue(p);
        }
        _log($"worker: slot {name} dropped prefetched job {jobId} attempt {attempt}: {reason}");
        _coordinator.Tell(new JobStopped(_setup.WorkerId, name, jobId, attempt, reason));
        OnTick();
    }

    private void OnSlotEnded(SlotEnded m)
    {
        var storing = _storing.FindIndex(r => r.Slot == m.Slot && r.JobId == m.JobId && r.Attempt == m.Attempt);
        if (storing >= 0)
        {
            _storing.RemoveAt(storing);
        }
        else if (_slots.TryGetValue(m.Slot, out var slot) && slot.Run is { } run && run.JobId == m.JobId && run.Attempt == m.Attempt)
        {
            slot.Run = null;
            slot.NextRequestAt = DateTime.MinValue;
            StartNext(m.Slot, slot);
        }
        else
        {
            return;
        }
        var seconds = m.Seconds;
        _log($"worker: slot {m.Slot} finished job {m.JobId} attempt {m.Attempt} in {seconds:0.00} s: {m.End switch
        {
            SlotEnd.Stored => "result stored",
            SlotEnd.RejectedStale => m.Detail,
            SlotEnd.FailedRetryable => "failed (will be retried): " + m.Detail,
            SlotEnd.FailedPermanently => "failed (not retryable): " + m.Detail,
            _ => "stopped: " + m.Detail,
        }}");
        Events.NodeEvents.Emit(new Events.JobFinishedEvent(m.JobId, m.Attempt, m.Slot, m.End switch
        {
            SlotEnd.Stored => Events.JobFinishedEvent.Stored,
            SlotEnd.RejectedStale => Events.JobFinishedEvent.RejectedStale,
            SlotEnd.FailedRetryable => Events.JobFinishedEvent.FailedRetryable,
            SlotEnd.FailedPermanently => Events.JobFinishedEvent.Failed,
            _ => Events.JobFinishedEvent.Stopped,
        }, seconds, m.End == SlotEnd.Stored ? null : m.Detail));
        IClusterMessage report = m.End switch
        {
            SlotEnd.Stored => new JobFinished(_setup.WorkerId, m.Slot, m.JobId, m.Attempt, true, seconds),
            SlotEnd.RejectedStale => new JobFinished(_setup.WorkerId, m.Slot, m.JobId, m.Attempt, false, seconds),
            SlotEnd.FailedRetryable => new JobFailed(_setup.WorkerId, m.Slot, m.JobId, m.Attempt, m.Detail, true),
            SlotEnd.FailedPermanently => new JobFailed(_setup.WorkerId, m.Slot, m.JobId, m.Attempt, m.Detail, false),
            _ => new JobStopped(_setup.WorkerId, m.Slot, m.JobId, m.Attempt, m.Detail),
        };
        _coordinator.Tell(report);
        if (_leaving)
        {
            ReplyWhenIdle();
        }
        else
        {
            OnTick();
        }
    }

    private void RenewLeases()
    {
        var now = DateTime.UtcNow;
        var renewals = new List<(string Slot, LeaseRenewal Renewal)>();
        // Attempts storing their result keep their lease too: a store slower than a lease must not be fenced off.
        var runs = _slots.Values.Select(s => s.Run).OfType<SlotRun>().Concat(_storing);
        foreach (var run in runs)
        {
            if (run.StopRequested)
            {
                continue;
            }
            var maxEpochTime = _settings.MaxEpochTimeFor(run.Profile);
            var idle = now - run.LastAdvanceUtc;
            if (!run.Trained && !run.InDatabaseCall && idle > maxEpochTime)
            {
                var reason = $"hung: no epoch finished for {idle.TotalSeconds:0} s (max-epoch-time {maxEpochTime.TotalSeconds:0} s)";
                _log($"worker: cancelling job {run.JobId} attempt {run.Attempt} on slot {run.Slot}: {reason}");
                run.Hung(reason);
                continue;
            }
            var epoch = run.LastEpoch;
            renewals.Add((run.Slot, new LeaseRenewal(run.JobId, run.Attempt, epoch?.Stage, epoch?.Epoch)));
        }
        // Prefetched assignments are running attempts in PostgreSQL: their leases are renewed with the others.
        foreach (var (name, slot) in _slots)
        {
            renewals.AddRange(slot.Prefetched.Select(p => (name, new LeaseRenewal(p.JobId, p.Attempt, null, null))));
        }
        if (renewals.Count == 0)
        {
            return;
        }
        // One statement for all of this worker's attempts, one try per heartbeat: a missed renewal is retried by the
        // next one (a third of the lease later); a failed call fences nothing off.
        var lease = _settings.Lease;
        _store.RenewLeasesAsync([.. renewals.Select(r => r.Renewal)], lease, _abort.Token)
            .PipeTo(Self,
                success: current => new RenewResult([.. renewals.Where(r => !current.Contains((r.Renewal.JobId, r.Renewal.Attempt)))
                    .Select(r => (r.Slot, r.Renewal.JobId, r.Renewal.Attempt))]),
                failure: _ => new RenewResult([]));
    }

    private void OnLeave()
    {
        _leaving = true;
        _leaveRequester = Sender;
        foreach (var slot in _slots.Values)
        {
            slot.Run?.Stop("the node is leaving the cluster");
            // Never started: requeued with the node's running jobs as it leaves.
            slot.Prefetched.Clear();
        }
        Register();
        ReplyWhenIdle();
    }

    private void ReplyWhenIdle()
    {
        if (_leaveRequester is not null && _slots.Values.All(s => s.Run is null) && _storing.Count == 0)
        {
            _leaveRequester.Tell(Done.Instance);
            _leaveRequester = null;
        }
    }

    /// <summary>Asked by the node's coordinated shutdown: stop every running attempt; answers Done once all stopped.</summary>
    public sealed class Leave : INoSerializationVerificationNeeded
    {
        public static readonly Leave Instance = new();
    }

    private sealed class SlotState
    {
        public SlotRun? Run { get; set; }
        public Queue<JobAssigned> Prefetched { get; } = new();
        public DateTime? RequestedAt { get; set; }
        public DateTime NextRequestAt { get; set; } = DateTime.MinValue;

        /// <summary>Whether the request in flight (or the last one) was sent while the slot was busy.</summary>
        public bool RequestedAhead { get; set; }
    }

    private sealed record RenewResult(IReadOnlyList<(string Slot, long JobId, int Attempt)> NotCurrent) : INoSerializationVerificationNeeded;
    private sealed class Tick : INoSerializationVerificationNeeded { public static readonly Tick Instance = new(); }
    private sealed class RegisterTick : INoSerializationVerificationNeeded { public static readonly RegisterTick Instance = new(); }
    private sealed class RenewTick : INoSerializationVerificationNeeded { public static readonly RenewTick Instance = new(); }
}
