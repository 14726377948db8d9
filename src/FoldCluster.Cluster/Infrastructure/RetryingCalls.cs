using FoldCluster.Storage;

namespace FoldCluster.Cluster.Infrastructure;

/// <summary>
/// The cluster's database calls, each retried with backoff while PostgreSQL is unreachable
/// (<see cref="DbRetry"/> of the storage layer) for at most <see cref="GiveUpAfter"/>. Every job transition is one
/// transaction guarded by the fencing attempt, so a retried write is applied once or refused as stale: an outage
/// delays writes and loses none (DESIGN.md section 8).
/// </summary>
public sealed class RetryingCalls(Action<string> log, TimeSpan giveUpAfter)
{
    private readonly DbRetryOptions _options = DbRetryOptions.Default with { FirstDelay = TimeSpan.FromMilliseconds(100), MaxElapsed = giveUpAfter };

    public TimeSpan GiveUpAfter { get; } = giveUpAfter;

    public Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct) =>
        DbRetry.RunAsync(call, _options, line =>
        {
            log($"{what}: {line}");
            Events.NodeEvents.Emit(new Events.DatabaseRetryEvent(what, line));
        }, ct);
}
