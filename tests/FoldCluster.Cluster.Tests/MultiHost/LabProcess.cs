using System.Collections.Concurrent;
using System.Diagnostics;
using FoldCluster.Cluster.Events;

namespace FoldCluster.Cluster.Tests.MultiHost;

/// <summary>
/// A process running inside one of the lab's hosts (`ip netns exec NS ...`, which execs, so the pid is the
/// program's own and signals reach it). Its output lines are kept for people (failure messages); a node's typed events
/// (`--events FILE`) are what the tests wait on. It is killed on dispose.
/// </summary>
public sealed class LabProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly List<NodeEvent> _seen = [];
    private EventTail? _events;

    private LabProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    public IReadOnlyList<string> Lines => _lines.ToArray();

    /// <summary>Every event the node has written so far (empty when it was started without an events file).</summary>
    public IReadOnlyList<NodeEvent> Events
    {
        get
        {
            lock (_seen)
            {
                if (_events is not null)
                {
                    _seen.AddRange(_events.ReadNew());
                }
                return _seen.ToArray();
            }
        }
    }

    public int CountEvents<T>() where T : NodeEvent => Events.OfType<T>().Count();

    /// <param name="environment">Passed through the environment, never the command line (it may carry a password).</param>
    public static LabProcess Start(string name, string netns, string fileName, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, Action<string>? echo = null, string? eventsFile = null)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", netns, fileName }.Concat(args))
        {
            info.ArgumentList.Add(a);
        }
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }
        var process = new Process { StartInfo = info };
        var lab = new LabProcess(process, name) { _events = eventsFile is null ? null : new EventTail(eventsFile) };
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is { } line)
            {
                lab._lines.Enqueue(line);
                echo?.Invoke($"{name}: {line}");
            }
        };
        process.OutputDataReceived += onLine;
        process.ErrorDataReceived += onLine;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return lab;
    }

    /// <summary>Waits for an event of kind <typeparamref name="T"/>; false on timeout or when the process exited without one.</summary>
    public bool WaitForEvent<T>(TimeSpan timeout) where T : NodeEvent
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var exited = _process.HasExited;
            if (CountEvents<T>() > 0)
            {
                return true;
            }
            if (exited || DateTime.UtcNow >= deadline)
            {
                return false;
            }
            Thread.Sleep(50);
        }
    }

    /// <summary>SIGKILL, and wait until it is gone.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
