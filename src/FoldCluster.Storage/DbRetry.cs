namespace FoldCluster.Storage;

/// <summary>How long and how often <see cref="DbRetry"/> keeps trying.</summary>
public sealed record DbRetryOptions
{
    public static DbRetryOptions Default { get; } = new();

    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Give up (rethrow the last failure) after this long; <see cref="Timeout.InfiniteTimeSpan"/> never gives up.</summary>
    public TimeSpan MaxElapsed { get; init; } = TimeSpan.FromMinutes(30);
}

/// <summary>
/// Retries a unit of database work while PostgreSQL is unreachable (down, restarting, network), with exponential
/// backoff and jitter, so an outage delays writes instead of losing them. Only connection failures
/// (<see cref="Database.IsConnectionFailure"/>) are retried; any other error goes to the caller at once.
/// The work must be one transaction (it is, for every <see cref="Jobs.JobStore"/> method): a failed try left nothing behind.
/// </summary>
public static class DbRetry
{
    public static async Task<T> RunAsync<T>(
        Func<CancellationToken, Task<T>> work,
        DbRetryOptions? options = null,
        Action<string>? log = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        options ??= DbRetryOptions.Default;
        var started = DateTime.UtcNow;
        var delay = options.FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await work(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (Database.IsConnectionFailure(e) && !ct.IsCancellationRequested)
            {
                var elapsed = DateTime.UtcNow - started;
                if (options.MaxElapsed != Timeout.InfiniteTimeSpan && elapsed + delay > options.MaxElapsed)
                {
                    throw;
                }
                log?.Invoke($"database unreachable (try {attempt}, retrying in {delay.TotalSeconds:0.0} s): {OneLine(e)}");
                // Jitter keeps many workers from reconnecting in lock step after a restart.
                var jittered = delay * (0.8 + 0.4 * Random.Shared.NextDouble());
                await Task.Delay(jittered, ct).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxDelay.Ticks));
            }
        }
    }

    public static Task RunAsync(
        Func<CancellationToken, Task> work,
        DbRetryOptions? options = null,
        Action<string>? log = null,
        CancellationToken ct = default) =>
        RunAsync(async token =>
        {
            await work(token).ConfigureAwait(false);
            return true;
        }, options, log, ct);

    private static string OneLine(Exception e)
    {
        while (e.InnerException is not null && e is not DatabaseUnreachableException)
        {
            e = e.InnerException;
        }
        return e.Message.ReplaceLineEndings(" ");
    }
}
