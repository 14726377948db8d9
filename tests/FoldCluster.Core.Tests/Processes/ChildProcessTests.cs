using System.Diagnostics;
using System.Globalization;
using System.Text;
using FoldCluster.Core.Processes;

namespace FoldCluster.Core.Tests.Processes;

public class ChildProcessTests
{
    private static ChildProcessStart Shell(string script) => new("/bin/sh", ["-c", script]);

    [Fact]
    public void Run_returns_the_exit_code_and_the_lines_of_stdout_and_stderr()
    {
        var result = ChildProcess.Run(Shell("echo one; echo two >&2; echo three; exit 3"), TimeSpan.FromSeconds(30));

        Assert.Equal(3, result.ExitCode);
        Assert.Equal(["one", "three"], result.OutputLines);
        Assert.Equal(["two"], result.ErrorLines);
        Assert.Equal(3, result.Lines.Count);
    }

    [Fact]
    public void A_failure_names_the_program_its_exit_code_and_the_end_of_its_stderr()
    {
        var result = ChildProcess.Run(Shell("for i in 1 2 3 4 5 6 7 8; do echo \"line $i\" >&2; done; echo out; exit 5"), TimeSpan.FromSeconds(30));

        var error = Assert.Throws<ChildProcessException>(() => result.EnsureSuccess());
        Assert.Equal("/bin/sh", error.Program);
        Assert.Equal("/bin/sh exited with code 5: line 3 | line 4 | line 5 | line 6 | line 7 | line 8", error.Message);
        Assert.Equal(0, ChildProcess.Run(Shell("true"), TimeSpan.FromSeconds(30)).EnsureSuccess().ExitCode);
    }

    [Fact]
    public void Arguments_environment_and_working_directory_reach_the_child()
    {
        var start = new ChildProcessStart("/bin/sh", ["-c", "printf '%s\\n' \"$1\" \"$FC_CHILD_TEST\"; pwd", "sh", "an argument; with $ and 'quotes'"])
        {
            Environment = new Dictionary<string, string> { ["FC_CHILD_TEST"] = "from the parent" },
            WorkingDirectory = "/",
        };

        var result = ChildProcess.Run(start, TimeSpan.FromSeconds(30)).EnsureSuccess();

        Assert.Equal(["an argument; with $ and 'quotes'", "from the parent", "/"], result.OutputLines);
    }

    [Fact]
    public void A_timeout_kills_the_whole_process_tree_and_names_the_program()
    {
        var pids = new List<int>();
        var clock = Stopwatch.StartNew();
        using var child = ChildProcess.Start(Shell("sleep 120 & echo $!; echo $$; wait"), line =>
        {
            lock (pids)
            {
                pids.Add(int.Parse(line.Text, CultureInfo.InvariantCulture));
            }
        });
        Assert.True(SpinWait.SpinUntil(() => { lock (pids) { return pids.Count == 2; } }, TimeSpan.FromSeconds(30)));
        Assert.False(child.WaitForExit(TimeSpan.FromMilliseconds(200)));

        child.Kill();

        Assert.True(child.WaitForExit(TimeSpan.FromSeconds(30)));
        foreach (var pid in pids)
        {
            Assert.True(SpinWait.SpinUntil(() => !IsRunning(pid), TimeSpan.FromSeconds(30)), $"process {pid} still runs");
        }

        var error = Assert.Throws<TimeoutException>(() => ChildProcess.Run(Shell("sleep 120"), TimeSpan.FromSeconds(1)));
        Assert.Equal("/bin/sh did not finish within 1 s", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(100), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Cancellation_kills_the_child_and_throws()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        Assert.ThrowsAny<OperationCanceledException>(() => ChildProcess.Run(Shell("sleep 120"), TimeSpan.FromMinutes(5), cts.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(100), $"took {clock.Elapsed}");
    }

    [Fact]
    public void A_program_that_does_not_exist_is_named_in_the_error()
    {
        var error = Assert.Throws<ChildProcessStartException>(() => ChildProcess.Start(new ChildProcessStart("/nonexistent/fc-tool", ["x"])));

        Assert.Equal("/nonexistent/fc-tool", error.Program);
        Assert.StartsWith("cannot run '/nonexistent/fc-tool': ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Raw_output_and_written_input_carry_bytes_unchanged()
    {
        var bytes = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray();
        using var child = ChildProcess.Start(new ChildProcessStart("/bin/cat", []) { WriteInput = true, RawOutput = true });
        var reader = Task.Run(() =>
        {
            using var copy = new MemoryStream();
            child.StandardOutput.CopyTo(copy);
            return copy.ToArray();
        });

        child.StandardInput.Write(bytes);
        child.CloseInput();

        Assert.Equal(bytes, await reader.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(child.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, child.ExitCode);
    }

    [Fact]
    public void The_stderr_tail_keeps_the_last_lines()
    {
        using var child = ChildProcess.Start(Shell("i=0; while [ $i -lt 150 ]; do echo \"e$i\" >&2; i=$((i+1)); done"));

        Assert.True(child.WaitForExit(TimeSpan.FromSeconds(60)));

        Assert.Equal(ChildProcess.TailLines, child.ErrorTail.Count);
        Assert.Equal("e50", child.ErrorTail[0]);
        Assert.Equal("e149", child.ErrorTail[^1]);
        Assert.Equal("e148 | e149", ChildProcess.Tail(child.ErrorTail, 2));
    }

    private static bool IsRunning(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        try
        {
            // A zombie (state Z) has ended; only its parent has not collected it yet.
            var text = File.ReadAllText(stat, Encoding.ASCII);
            return text[(text.LastIndexOf(')') + 2)..].FirstOrDefault() != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
