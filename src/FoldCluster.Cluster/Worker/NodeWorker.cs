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
    string? DataRoot);

/// <summary>
/// The node's worker (one per node): offers its slots to the coordinator, runs each assigned attempt on the slot's
/// own thread, renews leases while attempts run, and re-registers every few seconds so that a coordinator that
/// moved learns which jobs run where (DESIGN.md section 8). Work is pulled: an idle slot asks, the coordinator
/// answers with a job or "no work" (then the slot asks again after idle-poll).
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
            if (_slots.TryGetValue(m.Slot, out var slot) && slot.Run is null)
            {
                slot.RequestedAt = null;
                slot.NextRequestAt = DateTime.UtcNow + _settings.IdlePoll;
            }
        });
        Receive<CancelJob>(m =>
        {
            foreach (var slot in _slots.Values.Where(s => s.Run is { } r && r.JobId == m.JobId && r.Attempt == m.Attempt))
            {
                _log($"worker: cancelling job {m.JobId} attempt {m.Attempt}: {m.Reason}");
                slot.Run!.Stop(m.Reason);
            }
        });
        Receive<SlotProgress>(m =>
        {
            _coordinator.Tell(new JobProgress(_setup.WorkerId, m.Slot, m.JobId, m.Attempt, m.Epoch));
        });
        Receive<SlotTrained>(m =>
        {
            if (_slots.TryGetValue(m.Slot, out var slot) && slot.Run is { } run && run.JobId == m.JobId && run.Attempt == m.Attempt && !_leaving)
            {
                // Training is over; the result is being stored on the old thread. Free the slot for the next job now.
                _storing.Add(run);
                slot.Run = null;
                slot.RequestedAt = null;
                slot.NextRequestAt = DateTime.MinValue;
                OnTick();
            }
        });
        Receive<SlotEnded>(OnSlotEnded);
        Receive<Tick>(_ => OnTick());
        Receive<RegisterTick>(_ => Register());
        Receive<RenewTick>(_ => RenewLeases());
        Receive<RenewResult>(m =>
        {
            if (!m.Current && _slots.TryGetValue(m.Slot, out var slot) && slot.Run is { } run && run.JobId == m.JobId && run.Attempt == m.Attempt)
            {
                _log($"worker: job {m.JobId} attempt {m.Attempt} is no longer current (sweep cancelled or reassigned); stopping it");
                run.Stop("the attempt is no longer current (sweep cancelled or job reassigned)");
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
        }
        _abort.Cancel();
        _storing.Clear();
    }

    private void Register()
    {
        var running = _slots.Where(p => p.Value.Run is not null)
            .Select(p => new SlotJob(p.Key, p.Value.Run!.JobId, p.Value.Run!.Attempt)).ToArray();
        _coordinator.Tell(new RegisterWorker(_setup.WorkerId, _setup.NodeName, _setup.Slots, running));
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
        foreach (var slot in _slots.Values.Where(s => s.Run is null))
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
            if (slot.Run is not null)
            {
                continue;
            }
            var due = slot.RequestedAt is { } asked ? now - asked > _settings.RequestTimeout : now >= slot.NextRequestAt;
            if (due)
            {
                slot.RequestedAt = now;
                _coordinator.Tell(new RequestWork(_setup.WorkerId, name));
            }
        }
    }

    private void OnAssigned(JobAssigned m)
    {
        if (!_slots.TryGetValue(m.Slot, out var slot))
        {
            _log($"worker: ignoring job {m.JobId} for unknown slot {m.Slot}");
            return;
        }
        if (slot.Run is { } running)
        {
            if (running.JobId != m.JobId || running.Attempt != m.Attempt)
            {
                // Should not happen (one request per idle slot); the job is not started here, and its lease expires.
                _log($"worker: slot {m.Slot} is busy with job {running.JobId}; not starting job {m.JobId} attempt {m.Attempt}");
            }
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
            _started.Remove(_startedOrder.Dequeue());
        }
        if (_leaving)
        {
            // Too late to start: give it back at once (the node's jobs are requeued as it leaves).
            return;
        }
        slot.RequestedAt = null;
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
        _log($"worker: slot {m.Slot} started job {m.JobId} attempt {m.Attempt} ({m.Key.Canonical}) of sweep {m.SweepName}");
        Events.NodeEvents.Emit(new Events.JobStartedEvent(m.SweepName, m.JobId, m.Attempt, m.Slot));
        run.Start();
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
            slot.RequestedAt = null;
            slot.NextRequestAt = DateTime.MinValue;
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
            var (name, jobId, attempt, epoch, lease) = (run.Slot, run.JobId, run.Attempt, run.LastEpoch, _settings.Lease);
            // One try per heartbeat: a missed renewal is retried by the next one (a third of the lease later).
            _store.RenewLeaseAsync(jobId, attempt, lease, epoch?.Stage, epoch?.Epoch, _abort.Token)
                .PipeTo(Self, success: current => new RenewResult(name, jobId, attempt, current),
                    failure: _ => new RenewResult(name, jobId, attempt, true));
        }
    }

    private void OnLeave()
    {
        _leaving = true;
        _leaveRequester = Sender;
        foreach (var slot in _slots.Values)
        {
            slot.Run?.Stop("the node is leaving the cluster");
        }
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
        public DateTime? RequestedAt { get; set; }
        public DateTime NextRequestAt { get; set; } = DateTime.MinValue;
    }

    private sealed record RenewResult(string Slot, long JobId, int Attempt, bool Current) : INoSerializationVerificationNeeded;
    private sealed class Tick : INoSerializationVerificationNeeded { public static readonly Tick Instance = new(); }
    private sealed class RegisterTick : INoSerializationVerificationNeeded { public static readonly RegisterTick Instance = new(); }
    private sealed class RenewTick : INoSerializationVerificationNeeded { public static readonly RenewTick Instance = new(); }
}
