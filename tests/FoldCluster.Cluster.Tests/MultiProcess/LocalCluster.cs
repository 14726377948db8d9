using System.Globalization;
using Dapper;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Storage;
using Npgsql;
using Xunit.Abstractions;

namespace FoldCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// Real `foldcluster node start` processes on loopback (run as `dotnet foldcluster.dll` from the test's output
/// folder), with a config file that detects and downs a dead node in a few seconds. Every process is killed on dispose.
/// </summary>
public sealed class LocalCluster : IDisposable
{
    /// <summary>
    /// Quicker failure detection and short leases, so failover tests finish in seconds; still patient enough that a
    /// loaded two-core machine does not make live nodes look dead.
    /// </summary>
    public const string FastConfig = """
        akka.cluster.failure-detector.heartbeat-interval = 1s
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 4s
        akka.cluster.split-brain-resolver.stable-after = 3s
        foldcluster.lease = 6s
        foldcluster.lease-check-interval = 1s
        foldcluster.idle-poll = 200ms
        foldcluster.register-interval = 1s
        foldcluster.request-timeout = 5s
        """;

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("foldcluster-cluster-test-");
    private readonly List<NodeProcess> _nodes = [];
    private readonly string _configFile;
    private readonly ITestOutputHelper? _output;

    public LocalCluster(string connectionString, int nodeCount, ITestOutputHelper? output = null)
    {
        ConnectionString = connectionString;
        _output = output;
        _configFile = Path.Combine(_dir.FullName, "test.hocon");
        File.WriteAllText(_configFile, FastConfig);
        Ports = FreePorts(nodeCount);
    }

    public string ConnectionString { get; }

    public IReadOnlyList<int> Ports { get; }

    public static string FoldclusterDll => Path.Combine(AppContext.BaseDirectory, "foldcluster.dll");

    /// <summary>Seeds: the first two nodes, so the cluster can be joined while either is alive.</summary>
    public string Seeds => string.Join(',', Ports.Take(2).Select(p => $"127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}"));

    public NodeProcess Start(int index, string roles, string trainer, string slots = "cpu:2", string? connectionString = null, string? cache = null)
    {
        var name = $"n{index + 1}";
        var node = NodeProcess.Start(FoldclusterDll, name,
        [
            "--roles", roles,
            "--port", Ports[index].ToString(CultureInfo.InvariantCulture),
            "--seeds", Seeds,
            "--slots", slots,
            "--cache", cache ?? Path.Combine(_dir.FullName, "cache"),
            "--config", _configFile,
            "--trainer", trainer,
            "--node-name", name,
        ],
        // Through the environment, not the command line: other users can read command lines in /proc.
        environment: new Dictionary<string, string> { [ConnectionResolver.EnvironmentVariable] = connectionString ?? ConnectionString },
        echo: _output is null ? null : line => Echo(line));
        _nodes.Add(node);
        return node;
    }

    private void Echo(string line)
    {
        try
        {
            _output?.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // the test has finished; late lines of a dying process are dropped
        }
    }

    /// <summary>Waits for every job of the sweep to leave queued/running; fails with the nodes' last lines on timeout.</summary>
    public void WaitForSweep(long sweepId, TimeSpan timeout, NpgsqlDataSource? dataSource = null)
    {
        using var owned = dataSource is null ? Database.CreateDataSource(ConnectionString, "foldcluster-tests") : null;
        WaitForSweep(dataSource ?? owned!, sweepId, timeout, Tail);
    }

    /// <summary>The same for any set of nodes: <paramref name="tail"/> gives their last lines for the failure message.</summary>
    public static void WaitForSweep(NpgsqlDataSource source, long sweepId, TimeSpan timeout, Func<string> tail)
    {
        var deadline = DateTime.UtcNow + timeout;
        var open = -1;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var c = source.OpenConnection();
                open = c.ExecuteScalar<int>("select count(*)::int from jobs where sweep_id = @sweepId and state in ('queued', 'running')", new { sweepId });
                if (open == 0)
                {
                    return;
                }
            }
            catch (Exception e) when (Database.IsConnectionFailure(e))
            {
                // the database is being restarted by the test
            }
            Thread.Sleep(200);
        }
        Assert.Fail($"sweep {sweepId} still had {open} open jobs after {timeout.TotalSeconds} s; last node lines:\n{tail()}");
    }

    public string Tail() => string.Join('\n', _nodes.SelectMany(n => n.Lines.TakeLast(25).Select(l => $"{n.Name}: {l}")));

    /// <summary>Waits until at least n results are stored for the sweep.</summary>
    public static void WaitForResults(NpgsqlDataSource dataSource, long sweepId, int n, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            using var c = dataSource.OpenConnection();
            if (c.ExecuteScalar<int>("select count(*)::int from results r join jobs j using (job_id) where j.sweep_id = @sweepId", new { sweepId }) >= n)
            {
                return;
            }
            Thread.Sleep(100);
        }
        Assert.Fail($"fewer than {n} results after {timeout.TotalSeconds} s");
    }

    public static int[] FreePorts(int count) => LoopbackPorts.Free(count);

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
        try
        {
            _dir.Delete(recursive: true);
        }
        catch (IOException)
        {
            // a dying process may still hold a file; the temp folder is cleaned by the system
        }
    }
}

/// <summary>What every finished sweep must satisfy (DESIGN.md section 8).</summary>
public static class SweepInvariants
{
    /// <param name="predictionsPerJob">Predictions each job stores (the simulated trainer's 40; null: not checked).</param>
    public static void ExactlyOneResultPerJob(NpgsqlDataSource dataSource, long sweepId, int expectedJobs, int? predictionsPerJob = 40)
    {
        using var c = dataSource.OpenConnection();
        var states = c.Query<(string State, int N)>("select state, count(*)::int from jobs where sweep_id = @sweepId group by state", new { sweepId }).ToArray();
        Assert.Equal([("succeeded", expectedJobs)], states);
        // One results row per job (the primary key allows no more), and it is the job's final attempt.
        Assert.Equal(expectedJobs, c.ExecuteScalar<int>("""
            select count(*)::int from results r join jobs j using (job_id)
            where j.sweep_id = @sweepId and r.attempt = j.attempt
            """, new { sweepId }));
        // No attempt was stored twice, and no job has two successful attempts.
        Assert.Equal(0, c.ExecuteScalar<int>("""
            select count(*)::int from (
                select a.job_id from job_attempts a join jobs j using (job_id)
                where j.sweep_id = @sweepId and a.outcome = 'succeeded' group by a.job_id having count(*) <> 1) t
            """, new { sweepId }));
        if (predictionsPerJob is { } perJob)
        {
            Assert.Equal(expectedJobs * perJob, c.ExecuteScalar<int>(
                "select count(*)::int from predictions p join jobs j using (job_id) where j.sweep_id = @sweepId", new { sweepId }));
        }
    }
}
