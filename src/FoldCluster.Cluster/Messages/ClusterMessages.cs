using FoldCluster.Core;

namespace FoldCluster.Cluster.Messages;

/// <summary>
/// Marker of every message that crosses a process boundary. Only these types are bound to
/// <see cref="ClusterMessageSerializer"/>; it maps each to a fixed manifest string (no type names from the wire).
/// </summary>
public interface IClusterMessage;

/// <summary>A job a worker slot is running, as the worker reports it when it (re-)registers.</summary>
public sealed record SlotJob(string Slot, long JobId, int Attempt);

/// <summary>
/// Worker -> coordinator: the worker's slots and the jobs they run. Sent at start and again every few seconds,
/// so a coordinator that moved (singleton handed over) rebuilds its picture of the workers (DESIGN.md section 8).
/// </summary>
public sealed record RegisterWorker(string WorkerId, string NodeName, IReadOnlyList<string> Slots, IReadOnlyList<SlotJob> Running)
    : IClusterMessage;

/// <summary>Coordinator -> worker: registration seen. A new incarnation tells the worker the coordinator moved.</summary>
public sealed record WorkerRegistered(string CoordinatorIncarnation) : IClusterMessage;

/// <summary>
/// Worker -> coordinator: this slot wants a job. Ahead: the slot is busy and asks for its next one in advance
/// (prefetch); the coordinator serves idle slots first and ahead requests only while the queue is long.
/// </summary>
public sealed record RequestWork(string WorkerId, string Slot, bool Ahead = false) : IClusterMessage;

/// <summary>Coordinator -> worker: a job claimed in PostgreSQL for this slot, with its fencing attempt number.</summary>
public sealed record JobAssigned(
    string Slot,
    long JobId,
    int Attempt,
    string SweepName,
    JobKey Key,
    DatasetSource Dataset,
    IReadOnlyDictionary<string, string> TrainingOverrides,
    double LeaseSeconds) : IClusterMessage;

/// <summary>Coordinator -> worker: no queued job now; the slot asks again after a short pause.</summary>
public sealed record NoWorkAvailable(string Slot) : IClusterMessage;

/// <summary>Worker -> coordinator: one epoch of a running job finished (already recorded in PostgreSQL).</summary>
public sealed record JobProgress(string WorkerId, string Slot, long JobId, int Attempt, EpochReport Epoch) : IClusterMessage;

/// <summary>Worker -> coordinator: the job ended with a result; Stored is false when the store fenced the attempt off.</summary>
public sealed record JobFinished(string WorkerId, string Slot, long JobId, int Attempt, bool Stored, double Seconds) : IClusterMessage;

/// <summary>Worker -> coordinator: the attempt failed (already written to PostgreSQL with its reason).</summary>
public sealed record JobFailed(string WorkerId, string Slot, long JobId, int Attempt, string Error, bool Retryable) : IClusterMessage;

/// <summary>Worker -> coordinator: the attempt stopped without a result (cancelled sweep, fenced off, node leaving).</summary>
public sealed record JobStopped(string WorkerId, string Slot, long JobId, int Attempt, string Reason) : IClusterMessage;

/// <summary>Coordinator -> worker: stop this attempt within one batch (it is no longer current).</summary>
public sealed record CancelJob(long JobId, int Attempt, string Reason) : IClusterMessage;
