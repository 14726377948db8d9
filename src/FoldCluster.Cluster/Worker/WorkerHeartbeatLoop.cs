using FoldCluster.Storage;
using FoldCluster.Storage.Nodes;
using Npgsql;

namespace FoldCluster.Cluster.Worker;

/// <summary>
/// Writes this worker's heartbeat row (sql/0008) every few seconds so that the dashboard's nodes page can list the
/// workers and slots alive, from the database alone. Runs beside the actors, not in them: a slow or absent
/// database delays only the next beat, never the work; failures are logged once until a beat succeeds again.
/// </summary>
public sealed class WorkerHeartbeatLoop : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private WorkerHeartbeatLoop(NpgsqlDataSource dataSource, string workerId, string nodeName, IReadOnlyList<string> slots, string roles, Action<string> log)
    {
        var store = new WorkerHeartbeats(dataSource);
        var started = DateTime.UtcNow;
        var host = Environment.MachineName;
        _loop = Task.Run(async () =>
        {
            var failing = false;
            using var timer = new PeriodicTimer(Interval);
            do
            {
                try
                {
                    await store.BeatAsync(workerId, nodeName, host, roles, slots, started, _stop.Token).ConfigureAwait(false);
                    failing = false;
                }
                catch (Exception e) when (!_stop.IsCancellationRequested && (Database.IsConnectionFailure(e) || e is NpgsqlException))
                {
                    if (!failing)
                    {
                        log($"worker: heartbeat not written ({e.Message}); retrying every {Interval.TotalSeconds:0} s");
                    }
                    failing = true;
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
            while (await WaitAsync(timer).ConfigureAwait(false));
        });
    }

    public static WorkerHeartbeatLoop Start(
        NpgsqlDataSource dataSource, string workerId, string nodeName, IReadOnlyList<string> slots, IEnumerable<string> roles, Action<string> log) =>
        new(dataSource, workerId, nodeName, slots, string.Join(",", roles.Order(StringComparer.Ordinal)), log);

    private async Task<bool> WaitAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // the loop logs its own failures; stopping must not throw
        }
        _stop.Dispose();
    }
}
