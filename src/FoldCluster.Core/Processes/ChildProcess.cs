using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace FoldCluster.Core.Processes;

/// <summary>What to run: the program, its arguments and what differs from this process's environment.</summary>
public sealed record ChildProcessStart(string Program, IReadOnlyList<string> Arguments)
{
    /// <summary>Variables set for the child on top of this process's environment.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>The child's working directory; this process's when null.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Standard input is a pipe the caller writes (<see cref="ChildProcess.StandardInput"/>).</summary>
    public bool WriteInput { get; init; }

    /// <summary>Standard output is read by the caller as bytes (<see cref="ChildProcess.StandardOutput"/>) instead of as lines.</summary>
    public bool RawOutput { get; init; }
}

/// <summary>One line a child wrote, on standard error or standard output, in the order they were read.</summary>
public readonly record struct ChildProcessLine(bool IsError, string Text);

/// <summary>A child process that ran to its end: exit code and every line it wrote.</summary>
public sealed record ChildProcessResult(string Program, int ExitCode, IReadOnlyList<ChildProcessLine> Lines)
{
    public IEnumerable<string> OutputLines => Lines.Where(l => !l.IsError).Select(l => l.Text);

    public IEnumerable<string> ErrorLines => Lines.Where(l => l.IsError).Select(l => l.Text);

    /// <summary>Standard output and standard error together, one line each.</summary>
    public string Output => string.Join('\n', Lines.Select(l => l.Text));

    /// <summary>Throws <see cref="ChildProcessException"/> naming the program, its exit code and the end of its stderr unless it exited with 0.</summary>
    public ChildProcessResult EnsureSuccess() => ExitCode == 0
        ? this
        : throw new ChildProcessException(Program, string.Create(CultureInfo.InvariantCulture,
            $"{Program} exited with code {ExitCode}: {(ChildProcess.Tail(ErrorLines, 6) is { Length: > 0 } tail ? tail : "nothing on stderr")}"));
}

/// <summary>A program that could not be started, or that failed; <see cref="Program"/> names it.</summary>
public class ChildProcessException(string program, string message, Exception? inner = null) : InvalidOperationException(message, inner)
{
    public string Program { get; } = program;
}

/// <summary>The program does not exist or may not be executed.</summary>
public sealed class ChildProcessStartException(string program, string message, Exception inner) : ChildProcessException(program, message, inner);

/// <summary>
/// The one way the project runs other programs (PostgreSQL's tools, ffmpeg, `foldcluster node start`): started with
/// an argument list (no shell) and extra environment, standard output and error read line by line as they come
/// (or standard output as bytes), the process tree killed on timeout, cancellation or dispose, and failures reported
/// with the program's name and the end of what it wrote on stderr.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    /// <summary>How many of the last stderr lines are kept for error messages.</summary>
    public const int TailLines = 100;

    private readonly Process _process;
    private readonly Queue<string> _errorTail = new();

    private ChildProcess(Process process, string program)
    {
        _process = process;
        Program = program;
    }

    public string Program { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The child's standard output as bytes; only with <see cref="ChildProcessStart.RawOutput"/>.</summary>
    public Stream StandardOutput => _process.StandardOutput.BaseStream;

    /// <summary>The child's standard input; only with <see cref="ChildProcessStart.WriteInput"/>. <see cref="CloseInput"/> signals the end.</summary>
    public Stream StandardInput => _process.StandardInput.BaseStream;

    /// <summary>Closes standard input: the child reads the end of its input.</summary>
    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>The last <see cref="TailLines"/> lines the child wrote on stderr, oldest first.</summary>
    public IReadOnlyList<string> ErrorTail
    {
        get
        {
            lock (_errorTail)
            {
                return [.. _errorTail];
            }
        }
    }

    /// <summary>
    /// Starts the program. <paramref name="onLine"/> sees every line of stderr (and of stdout unless it is raw) on a
    /// reader thread as it arrives. Throws <see cref="ChildProcessStartException"/> when the program cannot be run.
    /// </summary>
    public static ChildProcess Start(ChildProcessStart start, Action<ChildProcessLine>? onLine = null)
    {
        var info = new ProcessStartInfo(start.Program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = start.WriteInput,
            UseShellExecute = false,
        };
        if (start.WorkingDirectory is not null)
        {
            info.WorkingDirectory = start.WorkingDirectory;
        }
        foreach (var argument in start.Arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in start.Environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, start.Program);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (child._errorTail)
            {
                child._errorTail.Enqueue(e.Data);
                if (child._errorTail.Count > TailLines)
                {
                    child._errorTail.Dequeue();
                }
            }
            onLine?.Invoke(new ChildProcessLine(true, e.Data));
        };
        if (!start.RawOutput)
        {
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    onLine?.Invoke(new ChildProcessLine(false, e.Data));
                }
            };
        }
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new ChildProcessStartException(start.Program, $"cannot run '{start.Program}': {e.Message}", e);
        }
        process.BeginErrorReadLine();
        if (!start.RawOutput)
        {
            process.BeginOutputReadLine();
        }
        return child;
    }

    /// <summary>
    /// Runs the program to its end and returns its exit code and lines. When it runs longer than
    /// <paramref name="timeout"/> its process tree is killed and a <see cref="TimeoutException"/> names it; when
    /// <paramref name="cancellationToken"/> fires it is killed and the cancellation is thrown.
    /// </summary>
    public static ChildProcessResult Run(ChildProcessStart start, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var lines = new List<ChildProcessLine>();
        using var child = Start(start with { RawOutput = false }, line =>
        {
            lock (lines)
            {
                lines.Add(line);
            }
        });
        using (cancellationToken.Register(child.Kill))
        {
            if (!child.WaitForExit(timeout))
            {
                child.Kill();
                child.WaitForExit(TimeSpan.FromSeconds(5));
                cancellationToken.ThrowIfCancellationRequested();
                throw new TimeoutException($"{start.Program} did not finish within {timeout.TotalSeconds:F0} s");
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        lock (lines)
        {
            return new ChildProcessResult(start.Program, child.ExitCode, [.. lines]);
        }
    }

    /// <summary>
    /// Waits for the process to end; when it has, also for its redirected lines to be read to the end (the
    /// timed wait alone returns before the last lines arrive). False when it still runs after <paramref name="timeout"/>.
    /// </summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }
        _process.WaitForExit();
        return true;
    }

    /// <summary>Kills the process and everything it started; nothing happens when it has already exited.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // exited meanwhile
        }
    }

    /// <summary>Kills the process tree if it still runs, and releases it.</summary>
    public void Dispose()
    {
        Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
    }

    /// <summary>The last <paramref name="count"/> non-empty lines, trimmed and joined with " | ".</summary>
    public static string Tail(IEnumerable<string> lines, int count) =>
        string.Join(" | ", lines.Select(l => l.Trim()).Where(l => l.Length > 0).TakeLast(count));
}
