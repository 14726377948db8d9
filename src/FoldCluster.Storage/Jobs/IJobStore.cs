using FoldCluster.Core;

namespace FoldCluster.Storage.Jobs;

/// <summary>A job handed to a worker slot: its fencing attempt number and everything the slot needs to run it.</summary>
public sealed record ClaimedJob(
    long JobId,
    int Attempt,
    long SweepId,
    string SweepName,
    JobKey Key,
    DatasetSource Dataset,
    IReadOnlyDictionary<string, string> TrainingOverrides,
    DateTime LeaseExpiresUtc);

/// <summary>A job that PostgreSQL says is running (used when a coordinator rebuilds its state).</summary>
public sealed record RunningJob(long JobId, int Attempt, string Worker, string Slot, DateTime LeaseExpiresUtc);

/// <summary>
/// One slot's request for a job; the token makes a retried claim return what the first try claimed. Ahead: the slot
/// is busy and asks for its next job in advance (prefetch); idle slots' requests come first.
/// </summary>
public sealed record ClaimRequest(string Worker, string Slot, Guid Token, bool Ahead = false);

/// <summary>One attempt whose lease a worker's heartbeat renews, with the stage/epoch it reached (null: unchanged).</summary>
public sealed record LeaseRenewal(long JobId, int Attempt, int? Stage, int? Epoch);

public enum StoreResultOutcome
{
    /// <summary>The attempt was current; result, confusion and predictions are stored and the job succeeded.</summary>
    Stored,

    /// <summary>The attempt is no longer the job's current running attempt (fenced off); nothing was stored.</summary>
    RejectedStale,
}

/// <summary>
/// The job state machine in PostgreSQL (DESIGN.md section 8). Every transition is one transaction,
/// guarded by the fencing attempt number: a call naming an attempt that is not the job's current running
/// attempt changes nothing and reports so. Coordinator memory is only a cache of this.
/// States: queued -> running (attempt + 1) -> succeeded | failed | queued (retry / lost) ; any -> cancelled.
/// </summary>
public interface IJobStore
{
    /// <summary>queued -> running for the oldest queued job of an active sweep; bumps the attempt, sets worker, slot, lease.</summary>
    Task<ClaimedJob?> ClaimNextAsync(string worker, string slot, TimeSpan lease, CancellationToken ct);

    /// <summary>
    /// The same, idempotent per claim request: a call repeating an earlier call's token (a retry after its reply was
    /// lost) returns the job and attempt that call claimed, if the attempt still runs on that worker slot, and claims
    /// nothing new; else null.
    /// </summary>
    Task<ClaimedJob?> ClaimNextAsync(string worker, string slot, TimeSpan lease, Guid claimToken, CancellationToken ct);

    /// <summary>
    /// Several claims in one database round trip: answer i is the job claimed for request i, or null when the queue
    /// ran dry. Each job is handed out to one request only and fenced like a single claim (its own attempt and
    /// lease); repeating the batch with the same tokens (a retry after a lost reply) returns what the first try
    /// claimed and claims nothing new. Idle requests (not <see cref="ClaimRequest.Ahead"/>) are served first; ahead
    /// requests only from the queue beyond <paramref name="reserve"/> jobs, so that near the end of a sweep its last
    /// jobs go to slots that are free, not behind running jobs.
    /// </summary>
    Task<IReadOnlyList<ClaimedJob?>> ClaimBatchAsync(IReadOnlyList<ClaimRequest> requests, TimeSpan lease, CancellationToken ct, int reserve = 0);

    /// <summary>
    /// A worker's heartbeat for all its attempts in one statement: extends each current attempt's lease and records
    /// its stage/epoch. Returns the attempts that are current; the others are fenced off and changed nothing.
    /// </summary>
    Task<IReadOnlySet<(long JobId, int Attempt)>> RenewLeasesAsync(IReadOnlyList<LeaseRenewal> renewals, TimeSpan lease, CancellationToken ct);

    /// <summary>Heartbeat: extends the lease and records the stage/epoch. False when the attempt is not current.</summary>
    Task<bool> RenewLeaseAsync(long jobId, int attempt, TimeSpan lease, int? stage, int? epoch, CancellationToken ct);

    /// <summary>
    /// Stores the metrics of one or more epochs of one attempt in one statement (in order; the job row shows the last)
    /// and renews the lease. False when the attempt is not current (nothing stored).
    /// </summary>
    Task<bool> RecordEpochsAsync(long jobId, int attempt, IReadOnlyList<EpochReport> epochs, TimeSpan lease, CancellationToken ct);

    /// <summary>Stores the result (metrics, confusion, predictions) only if the attempt is still current; else rejects it.</summary>
    Task<StoreResultOutcome> StoreResultAsync(long jobId, int attempt, TrainingOutcome outcome, CancellationToken ct);

    /// <summary>
    /// The attempt failed (a failure of the work: counted against max_attempts). Retryable and budget left: back to
    /// queued. Otherwise: failed with the reason.
    /// False when the attempt is not current.
    /// </summary>
    Task<bool> FailAsync(long jobId, int attempt, string error, bool retryable, CancellationToken ct);

    /// <summary>
    /// Running jobs of a lost / downed / leaving worker go back to the queue: a loss, counted against max_losses
    /// (they fail only when that budget is spent).
    /// </summary>
    Task<int> RequeueWorkerAsync(string worker, string reason, CancellationToken ct);

    /// <summary>Running jobs whose lease expired go back to the queue: a loss, as for <see cref="RequeueWorkerAsync"/>.</summary>
    Task<int> RequeueExpiredLeasesAsync(CancellationToken ct);

    /// <summary>
    /// Every running lease is extended to at least now + grace: after the coordinator regains the database, the
    /// workers that are alive get one lease to renew before anything is expired for the outage. Returns the count.
    /// </summary>
    Task<int> ExtendRunningLeasesAsync(TimeSpan grace, CancellationToken ct);

    /// <summary>All jobs PostgreSQL believes are running.</summary>
    Task<IReadOnlyList<RunningJob>> RunningJobsAsync(CancellationToken ct);

    /// <summary>
    /// Calls <paramref name="onQueued"/> whenever a committed transaction queued jobs (a submitted, resumed or retried
    /// sweep: <see cref="JobStore.NotifyQueuedAsync"/>), and once each time it starts listening, until
    /// <paramref name="ct"/> is cancelled. A lost connection is opened again after a pause; notifications sent while
    /// it was away are not replayed, so callers still look for work on their own now and then.
    /// </summary>
    Task ListenForQueuedJobsAsync(Action onQueued, CancellationToken ct);

    /// <summary>True when the attempt is the job's current running attempt.</summary>
    Task<bool> IsCurrentAsync(long jobId, int attempt, CancellationToken ct);
}
