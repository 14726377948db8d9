using System.Collections.Concurrent;
using System.Diagnostics;

namespace FoldCluster.Cluster.Tests.MultiHost;

/// <summary>
/// A process running inside one of the lab's hosts (`ip netns exec NS ...`, which execs, so the pid is the
/// program's own and signals reach it). Its output lines are kept; it is killed on dispose.
/// </summary>
public sealed class LabProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private LabProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    public IReadOnlyList<string> Lines => _lines.ToArray();

    /// <param name="environment">Passed through the environment, never the command line (it may carry a password).</param>
    public static LabProcess Start(string name, string netns, string fileName, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, Action<string>? echo = null)
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
        var lab = new LabProcess(process, name);
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

    public bool WaitForLine(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_lines.Any(match))
            {
                return true;
            }
            if (_process.HasExited)
            {
                // Let the output readers drain the last lines before the final look.
                _process.WaitForExit();
                return _lines.Any(match);
            }
            Thread.Sleep(50);
        }
        return false;
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
