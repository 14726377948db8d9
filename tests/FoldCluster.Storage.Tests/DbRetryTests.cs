using System.Net.Sockets;
using FoldCluster.Storage;

namespace FoldCluster.Storage.Tests;

public sealed class DbRetryTests
{
    private static readonly DbRetryOptions Fast = new() { FirstDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(20), MaxElapsed = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Connection_failures_are_retried_until_the_work_succeeds()
    {
        var calls = 0;
        var log = new List<string>();

        var value = await DbRetry.RunAsync(_ =>
        {
            calls++;
            return calls < 3 ? throw new SocketException((int)SocketError.ConnectionRefused) : Task.FromResult(42);
        }, Fast, log.Add);

        Assert.Equal(42, value);
        Assert.Equal(3, calls);
        Assert.Equal(2, log.Count);
        Assert.StartsWith("database unreachable (try 1, retrying in", log[0]);
    }

    [Fact]
    public async Task Other_errors_are_not_retried()
    {
        var calls = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() => DbRetry.RunAsync<int>(_ =>
        {
            calls++;
            throw new InvalidOperationException("bug");
        }, Fast));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task An_unreachable_server_is_retried_then_reported_with_host_and_port()
    {
        // A port nothing listens on (bound, then released).
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var dataSource = Database.CreateDataSource($"Host=127.0.0.1;Port={port};Username=nobody;Database=none;Timeout=1");
        var tries = 0;

        var e = await Assert.ThrowsAsync<DatabaseUnreachableException>(() => DbRetry.RunAsync(async ct =>
        {
            tries++;
            await using var connection = await Database.OpenAsync(dataSource, ct);
            return 1;
        }, Fast with { MaxElapsed = TimeSpan.FromSeconds(2) }));

        Assert.True(tries >= 2, $"tried {tries} times");
        Assert.StartsWith($"cannot reach PostgreSQL at 127.0.0.1:{port}, database none:", e.Message);
    }

    [Fact]
    public async Task Cancellation_stops_the_retries()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DbRetry.RunAsync<int>(
            _ => throw new SocketException((int)SocketError.ConnectionRefused),
            Fast with { MaxElapsed = Timeout.InfiniteTimeSpan }, ct: cts.Token));
    }
}
