using System.Collections.Concurrent;
using System.Globalization;
using FoldCluster.Cluster.Events;
using FoldCluster.Core.Processes;

namespace FoldCluster.Cluster.Hosting;

/// <summary>
/// A `foldcluster node start` child process (used by `bench cluster` and the multi-process tests): its stderr lines
/// are collected, it can be stopped gracefully (SIGTERM) or killed (SIGKILL), and it is always killed on dispose.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly object _gate = new();
    private ChildProcess _process = null!;

    private NodeProcess(string name)
    {
        Name = name;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public IReadOnlyList<string> Lines => _lines.ToArray();

    /// <summary>How to run this same executable: the apphost directly, or `dotnet foldcluster.dll`.</summary>
    public static (string FileName, IReadOnlyList<string> Prefix) SelfCommand(string foldclusterDll)
    {
        var processPath = Environment.ProcessPath ?? "dotnet";
        var isDotnetHost = Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
                           || !Path.GetFileNameWithoutExtension(processPath).Equals("foldcluster", StringComparison.OrdinalIgnoreCase);
        return isDotnetHost ? (DotnetHost(processPath), [foldclusterDll]) : (processPath, []);
    }

    private static string DotnetHost(string processPath) =>
        Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? processPath : "dotnet";

    /// <summary>Starts `foldcluster node start ARGS` with the given executable and extra environment.</summary>
    public static NodeProcess Start(string foldclusterDll, string name, IEnumerable<string> nodeArgs,
        IReadOnlyDictionary<string, string>? environment = null, Action<string>? echo = null)
    {
        var (fileName, prefix) = SelfCommand(foldclusterDll);
        var node = new NodeProcess(name);
        node._process = ChildProcess.Start(
            new ChildProcessStart(fileName, [.. prefix, "node", "start", .. nodeArgs]) { Environment = environment },
            line => node.OnLine(line.Text, echo));
        return node;
    }

    private void OnLine(string line, Action<string>? echo)
    {
        _lines.Enqueue(line);
        echo?.Invoke(line);
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> stderr lines match; false on timeout or exit.</summary>
    public bool WaitForLines(Func<string, bool> match, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            while (true)
            {
                if (_lines.Count(match) >= count)
                {
                    return true;
                }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || _process.HasExited)
                {
                    return _lines.Count(match) >= count;
                }
                Monitor.Wait(_gate, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
            }
        }
    }

    public int CountLines(Func<string, bool> match) => _lines.Count(match);

    private EventTail? _events;
    private readonly List<NodeEvent> _seen = [];

    /// <summary>The node's `--events` file (null when started without one).</summary>
    public string? EventsFile => _events?.Path;

    /// <summary>
    /// Starts `foldcluster node start ARGS --events FILE`: the node writes its typed events to
    /// <paramref name="eventsFile"/>, read back by <see cref="Events"/> and <see cref="WaitForEvent{T}"/>.
    /// </summary>
    public static NodeProcess StartWithEvents(string foldclusterDll, string name, IEnumerable<string> nodeArgs, string eventsFile,
        IReadOnlyDictionary<string, string>? environment = null, Action<string>? echo = null)
    {
        var node = Start(foldclusterDll, name, nodeArgs.Concat(["--events", eventsFile]), environment, echo);
        node._events = new EventTail(eventsFile);
        return node;
    }

    /// <summary>Every event the node has written so far (empty without an events file).</summary>
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

    /// <summary>The events of one kind written so far.</summary>
    public IReadOnlyList<T> EventsOf<T>() where T : NodeEvent => Events.OfType<T>().ToArray();

    /// <summary>
    /// Waits until at least <paramref name="count"/> events of kind <typeparamref name="T"/> match; false on timeout,
    /// or when the process has exited and its file holds no more.
    /// </summary>
    public bool WaitForEvent<T>(Func<T, bool> match, int count, TimeSpan timeout) where T : NodeEvent
    {
        if (_events is null)
        {
            throw new InvalidOperationException($"node {Name} was started without an events file (use StartWithEvents)");
        }
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var exited = _process.HasExited;
            if (Events.OfType<T>().Count(match) >= count)
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

    /// <summary>Waits for the first event of kind <typeparamref name="T"/> that matches (any, when no match is given); null on timeout.</summary>
    public T? WaitForEvent<T>(TimeSpan timeout, Func<T, bool>? match = null) where T : NodeEvent =>
        WaitForEvent(match ?? (_ => true), 1, timeout) ? Events.OfType<T>().First(match ?? (_ => true)) : null;

    /// <summary>SIGTERM: the node leaves the cluster gracefully.</summary>
    public void Terminate() => Signal("TERM");

    /// <summary>SIGSTOP: the node freezes (alive but silent, as under a long GC pause or a hung host).</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>SIGCONT: a frozen node resumes where it stopped.</summary>
    public void Thaw() => Signal("CONT");

    private void Signal(string name)
    {
        if (!_process.HasExited)
        {
            ChildProcess.Run(new ChildProcessStart("kill", [$"-{name}", _process.Id.ToString(CultureInfo.InvariantCulture)]), TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>SIGKILL: the node dies without a word (as in a crash).</summary>
    public void Kill() => _process.Kill();

    /// <summary>
    /// Waits for the process to end; when it has, also waits for its redirected output to be read to the end
    /// (the timed overload alone returns before the last lines arrive).
    /// </summary>
    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    /// <summary>Kills the node if it still runs.</summary>
    public void Dispose() => _process.Dispose();
}
