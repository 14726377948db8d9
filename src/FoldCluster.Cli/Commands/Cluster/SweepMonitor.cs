using FoldCluster.Storage.Sweeps;
using Spectre.Console;

namespace FoldCluster.Cli.Commands;

/// <summary>
/// Follows a sweep until no job is queued or running, with one display fed from this loop only:
/// a live Spectre view on a terminal, plain periodic lines on stderr otherwise (CI, pipes).
/// </summary>
internal static class SweepMonitor
{
    private static readonly TimeSpan TerminalPoll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PlainPoll = TimeSpan.FromSeconds(2);

    /// <summary>Plain mode prints a line when the counts change, and at least this often.</summary>
    private static readonly TimeSpan PlainHeartbeat = TimeSpan.FromSeconds(30);

    public static bool IsTerminal =>
        !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "" or "dumb")
        && Environment.GetEnvironmentVariable("CI") is null;

    public static async Task<SweepStatus> FollowAsync(SweepStore store, string name, CancellationToken ct)
    {
        return IsTerminal ? await LiveAsync(store, name, ct) : await PlainAsync(store, name, ct);
    }

    private static Task<SweepStatus> PollAsync(SweepStore store, string name, CancellationToken ct) =>
        SweepDatabase.RetryAsync(token => store.StatusAsync(name, token), ct);

    private static async Task<SweepStatus> LiveAsync(SweepStore store, string name, CancellationToken ct)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var status = await PollAsync(store, name, ct);
        await console.Live(SweepStatusView.Live(status)).AutoClear(false).StartAsync(async context =>
        {
            while (!status.Sweep.IsFinished)
            {
                await Task.Delay(TerminalPoll, ct);
                status = await PollAsync(store, name, ct);
                context.UpdateTarget(SweepStatusView.Live(status));
                context.Refresh();
            }
        });
        return status;
    }

    private static async Task<SweepStatus> PlainAsync(SweepStore store, string name, CancellationToken ct)
    {
        var status = await PollAsync(store, name, ct);
        Console.Error.WriteLine(SweepStatusView.Line(status));
        var lastCounts = status.Sweep with { CreatedAt = default };
        var lastPrinted = DateTime.UtcNow;
        while (!status.Sweep.IsFinished)
        {
            await Task.Delay(PlainPoll, ct);
            status = await PollAsync(store, name, ct);
            var counts = status.Sweep with { CreatedAt = default };
            if (counts != lastCounts || DateTime.UtcNow - lastPrinted >= PlainHeartbeat || status.Sweep.IsFinished)
            {
                Console.Error.WriteLine(SweepStatusView.Line(status));
                lastCounts = counts;
                lastPrinted = DateTime.UtcNow;
            }
        }
        return status;
    }
}
