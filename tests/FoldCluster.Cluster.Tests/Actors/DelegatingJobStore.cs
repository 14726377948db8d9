using FoldCluster.Core;
using FoldCluster.Storage.Jobs;

namespace FoldCluster.Cluster.Tests.Actors;

/// <summary>
/// The real <see cref="JobStore"/> behind an overridable front, for tests that add one real-world condition to one
/// call (a slow store, the database away for a while) while everything else reaches PostgreSQL unchanged.
/// </summary>
public abstract class DelegatingJobStore(JobStore inner) : IJobStore
{
    public virtual Task<ClaimedJob?> ClaimNextAsync(string worker, string slot, TimeSpan lease, CancellationToken ct) => inner.ClaimNextAsync(worker, slot, lease, ct);
    public virtual Task<ClaimedJob?> ClaimNextAsync(string worker, string slot, TimeSpan lease, Guid claimToken, CancellationToken ct) => inner.ClaimNextAsync(worker, slot, lease, claimToken, ct);
    public virtual Task<IReadOnlyList<ClaimedJob?>> ClaimBatchAsync(IReadOnlyList<ClaimRequest> requests, TimeSpan lease, CancellationToken ct, int reserve = 0) => inner.ClaimBatchAsync(requests, lease, ct, reserve);
    public virtual Task<IReadOnlySet<(long JobId, int Attempt)>> RenewLeasesAsync(IReadOnlyList<LeaseRenewal> renewals, TimeSpan lease, CancellationToken ct) => inner.RenewLeasesAsync(renewals, lease, ct);
    public virtual Task<bool> RenewLeaseAsync(long jobId, int attempt, TimeSpan lease, int? stage, int? epoch, CancellationToken ct) => inner.RenewLeaseAsync(jobId, attempt, lease, stage, epoch, ct);
    public virtual Task<bool> RecordEpochsAsync(long jobId, int attempt, IReadOnlyList<EpochReport> epochs, TimeSpan lease, CancellationToken ct) => inner.RecordEpochsAsync(jobId, attempt, epochs, lease, ct);
    public virtual Task<StoreResultOutcome> StoreResultAsync(long jobId, int attempt, TrainingOutcome outcome, CancellationToken ct) => inner.StoreResultAsync(jobId, attempt, outcome, ct);
    public virtual Task<bool> FailAsync(long jobId, int attempt, string error, bool retryable, CancellationToken ct) => inner.FailAsync(jobId, attempt, error, retryable, ct);
    public virtual Task<int> RequeueWorkerAsync(string worker, string reason, CancellationToken ct) => inner.RequeueWorkerAsync(worker, reason, ct);
    public virtual Task<int> RequeueExpiredLeasesAsync(CancellationToken ct) => inner.RequeueExpiredLeasesAsync(ct);
    public virtual Task<int> ExtendRunningLeasesAsync(TimeSpan grace, CancellationToken ct) => inner.ExtendRunningLeasesAsync(grace, ct);
    public virtual Task<IReadOnlyList<RunningJob>> RunningJobsAsync(CancellationToken ct) => inner.RunningJobsAsync(ct);
    public virtual Task ListenForQueuedJobsAsync(Action onQueued, CancellationToken ct) => inner.ListenForQueuedJobsAsync(onQueued, ct);
    public virtual Task<bool> IsCurrentAsync(long jobId, int attempt, CancellationToken ct) => inner.IsCurrentAsync(jobId, attempt, ct);
}
