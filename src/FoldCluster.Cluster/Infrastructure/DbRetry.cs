using FoldCluster.Storage;

namespace FoldCluster.Cluster.Infrastructure;

/// <summary>
/// Retries a database call while PostgreSQL is unreachable (server restarting, network), with exponential backoff
/// from 100 ms up to 5 s, for at most <see cref="GiveUpAfter"/>. Only connection failures are retried: a failed
/// statement is a bug or a constraint and is reported at once. Every job transition is one transaction guarded by
/// the fencing attempt, so a retried write is either applied once or refused as stale; an outage delays writes and
/// loses none (DESIGN.md section 8).
/// </summary>
public sealed class DbRetry(Action<string> log, TimeSpan giveUpAfter)
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    public TimeSpan GiveUpAfter { get; } = giveUpAfter;

    public async Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        var delay = FirstDelay;
        var started = DateTime.UtcNow;
        var failures = 0;
        while (true)
        {
            try
            {
                var result = await call(ct).ConfigureAwait(false);
                if (failures > 0)
                {
                    log($"database reachable again; {what} succeeded after {failures} retr{(failures == 1 ? "y" : "ies")}");
                }
                return result;
            }
            catch (Exception e) when (Database.IsConnectionFailure(e) && !ct.IsCancellationRequested)
            {
                failures++;
                if (DateTime.UtcNow - started > GiveUpAfter)
                {
                    throw new DatabaseUnreachableException(
                        $"database unreachable for more than {GiveUpAfter.TotalSeconds:0} s while trying to {what}: {Innermost(e).Message}", e);
                }
                if (failures == 1 || failures % 10 == 0)
                {
                    log($"database unreachable ({Innermost(e).Message.TrimEnd('.')}); retrying {what} with backoff");
                }
                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, delay.Ticks * 2));
            }
        }
    }

    /// <summary>The same, blocking: for worker slot threads, which own their thread and may wait.</summary>
    public T Run<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct) =>
        RunAsync(what, call, ct).GetAwaiter().GetResult();

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e;
    }
}
