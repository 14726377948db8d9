using System.Globalization;
using Dapper;
using FoldCluster.Cluster.Events;
using FoldCluster.Storage;
using Npgsql;

namespace FoldCluster.Cluster.Hosting;

/// <summary>
/// Real `foldcluster node start` processes on loopback, for the multi-process tests and `bench cluster`: each node
/// gets free ports, seeds (the first two nodes), a private folder with its feature cache and an events file
/// (`--events`, read back through <see cref="NodeProcess.WaitForEvent{T}"/> and <see cref="Events"/>), and the
/// database through the environment. Every process is killed on dispose and the folder removed.
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

    private readonly DirectoryInfo _dir = System.IO.Directory.CreateTempSubdirectory("foldcluster-cluster-");
    private readonly List<NodeProcess> _nodes = [];
    private readonly string? _configFile;
    private readonly Action<string>? _echo;
    private readonly string _dll;

    /// <param name="connectionString">The database every node uses.</param>
    /// <param name="nodeCount">How many ports to reserve (node indexes 0..nodeCount-1).</param>
    /// <param name="echo">Receives every stderr line of every node (null: kept only).</param>
    /// <param name="config">HOCON given to every node with --config (default <see cref="FastConfig"/>; null: none, the built-in settings).</param>
    /// <param name="foldclusterDll">The foldcluster.dll to run (default: the one beside this process's entry point).</param>
    public LocalCluster(string connectionString, int nodeCount, Action<string>? echo = null, string? config = FastConfig, string? foldclusterDll = null)
    {
        ConnectionString = connectionString;
        _echo = echo;
        _dll = foldclusterDll ?? FoldclusterDll;
        if (config is not null)
        {
            _configFile = Path.Combine(_dir.FullName, "cluster.hocon");
            File.WriteAllText(_configFile, config);
        }
        Ports = FreePorts(nodeCount);
    }

    public string ConnectionString { get; }

    public IReadOnlyList<int> Ports { get; }

    /// <summary>The nodes started so far (a restarted index appears once per start).</summary>
    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    /// <summary>The folder of this cluster's caches, config and events files.</summary>
    public string Directory => _dir.FullName;

    public static string FoldclusterDll => Path.Combine(AppContext.BaseDirectory, "foldcluster.dll");

    /// <summary>Seeds: the first two nodes, so the cluster can be joined while either is alive.</summary>
    public string Seeds => string.Join(',', Ports.Take(2).Select(p => $"127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>
    /// Starts node <paramref name="index"/> (named n1, n2, ...) with the given roles, trainer and slots;
    /// <paramref name="extraArgs"/> are appended to its `node start` arguments.
    /// </summary>
    public NodeProcess Start(int index, string roles, string trainer, string slots = "cpu:2", string? connectionString = null, string? cache = null,
        IEnumerable<string>? extraArgs = null)
    {
        var name = $"n{(index + 1).ToString(CultureInfo.InvariantCulture)}";
        var starts = _nodes.Count(n => n.Name == name);
        var events = Path.Combine(_dir.FullName, $"{name}-{starts.ToString(CultureInfo.InvariantCulture)}.events.jsonl");
        List<string> args =
        [
            "--roles", roles,
            "--port", Ports[index].ToString(CultureInfo.InvariantCulture),
            "--seeds", Seeds,
            "--slots", slots,
            "--cache", cache ?? Path.Combine(_dir.FullName, "cache"),
            "--trainer", trainer,
            "--node-name", name,
        ];
        if (_configFile is not null)
        {
            args.AddRange(["--config", _configFile]);
        }
        args.AddRange(extraArgs ?? []);
        var node = NodeProcess.StartWithEvents(_dll, name, args, events,
            // Through the environment, not the command line: other users can read command lines in /proc.
            environment: new Dictionary<string, string>(SharedMachineSettings)
            {
                [ConnectionResolver.EnvironmentVariable] = connectionString ?? ConnectionString,
            },
            echo: _echo);
        _nodes.Add(node);
        return node;
    }

    /// <summary>The .NET thread pool's spin limit before a worker thread sleeps (0: sleep at once).</summary>
    public const string SpinLimitVariable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    /// <summary>The runtime's switch for dynamic profile-guided optimization (0: off in the local cluster's nodes).</summary>
    public const string TieredPgoVariable = "DOTNET_TieredPGO";

    /// <summary>What every node of a local cluster gets in its environment besides the database: its processes share
    /// this machine's cores.</summary>
    public static IReadOnlyDictionary<string, string> SharedMachineSettings { get; } = new Dictionary<string, string>
    {
        // A thread pool that spins while waiting for work takes CPU the other processes need (measured: a third less
        // idle CPU with 8 nodes of 32 slots).
        [SpinLimitVariable] = "0",
        // Every process compiles the same code: without the instrumented tier of dynamic PGO a hot method is compiled
        // twice instead of three times. Measured with `bench cluster` at 8 nodes x 32 slots, 20,000 x 0.5 s: 319-382
        // against 282-287 assignments/s on the same day, about a sixth less CPU over the run.
        [TieredPgoVariable] = "0",
    };

    /// <summary>The events of every node started so far, node by node.</summary>
    public IReadOnlyList<NodeEvent> Events => _nodes.SelectMany(n => n.Events).ToArray();

    /// <summary>Waits for every job of the sweep to leave queued/running; throws <see cref="TimeoutException"/> with the nodes' last lines.</summary>
    public void WaitForSweep(long sweepId, TimeSpan timeout, NpgsqlDataSource? dataSource = null)
    {
        using var owned = dataSource is null ? Database.CreateDataSource(ConnectionString, "foldcluster-local-cluster") : null;
        WaitForSweep(dataSource ?? owned!, sweepId, timeout, Tail, () => _nodes.Count > 0 && _nodes.All(n => n.HasExited));
    }

    /// <summary>
    /// The same for any set of nodes: <paramref name="tail"/> gives their last lines for the failure message;
    /// <paramref name="allGone"/> (optional) stops the wait early when no node is left to do the work.
    /// </summary>
    public static void WaitForSweep(NpgsqlDataSource source, long sweepId, TimeSpan timeout, Func<string> tail, Func<bool>? allGone = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var c = source.OpenConnection();
                // Whether any job is open, not how many: counting 20,000 open jobs five times a second cost the server
                // about 9 ms a time during a benchmark. The failure messages count them once. Each state is looked up
                // in the index of job states, in its order (a subquery, not `exists`, which would drop the order):
                // asked as one `exists`, the planner expected an open job among the first rows and scanned the table,
                // whose first rows are the finished jobs (about 9 ms a time again, late in a sweep of 26,000 jobs).
                if (!c.ExecuteScalar<bool>($"select {OpenIn("queued")} or {OpenIn("running")}", new { sweepId }))
                {
                    return;
                }
            }
            catch (Exception e) when (Database.IsConnectionFailure(e))
            {
                // the database is being restarted
            }
            if (allGone?.Invoke() == true)
            {
                throw new TimeoutException($"sweep {sweepId} still had {CountOpen(source, sweepId)} open jobs when every node had exited; last node lines:\n{tail()}");
            }
            Thread.Sleep(200);
        }
        throw new TimeoutException($"sweep {sweepId} still had {CountOpen(source, sweepId)} open jobs after {timeout.TotalSeconds} s; last node lines:\n{tail()}");
    }

    private const string OpenJobs = "sweep_id = @sweepId and state in ('queued', 'running')";

    private static string OpenIn(string state) =>
        $"(select 1 from jobs where state = '{state}' and sweep_id = @sweepId order by state, sweep_id, job_id limit 1) is not null";

    /// <summary>The sweep's open jobs for a failure message; -1 when the database cannot say.</summary>
    private static int CountOpen(NpgsqlDataSource source, long sweepId)
    {
        try
        {
            using var c = source.OpenConnection();
            return c.ExecuteScalar<int>($"select count(*)::int from jobs where {OpenJobs}", new { sweepId });
        }
        catch (Exception e) when (Database.IsConnectionFailure(e))
        {
            return -1;
        }
    }

    public string Tail() => string.Join('\n', _nodes.SelectMany(n => n.Lines.TakeLast(25).Select(l => $"{n.Name}: {l}")));

    /// <summary>Waits until at least n results are stored for the sweep; throws <see cref="TimeoutException"/> otherwise.</summary>
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
        throw new TimeoutException($"fewer than {n} results after {timeout.TotalSeconds} s");
    }

    public static int[] FreePorts(int count) => LoopbackPorts.Free(count);

    /// <summary>SIGTERM to every live node (graceful leave), then waits up to <paramref name="grace"/> each and kills what is left.</summary>
    public void Stop(TimeSpan grace)
    {
        foreach (var node in _nodes)
        {
            node.Terminate();
        }
        foreach (var node in _nodes)
        {
            if (!node.WaitForExit(grace))
            {
                node.Kill();
            }
        }
    }

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
