using System.Globalization;
using Dapper;
using FoldCluster.Cluster.Events;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Cluster.Tests.MultiProcess;
using FoldCluster.Cluster.Trainers;
using FoldCluster.Storage;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;
using Npgsql;
using Xunit.Abstractions;

namespace FoldCluster.Cluster.Tests.MultiHost;

/// <summary>
/// The lab shared by every multi-host scenario of a test run: namespaces and the PostgreSQL server, created once,
/// removed at the end. When the machine cannot create namespaces, <see cref="Unavailable"/> says why and nothing
/// is created.
/// </summary>
public sealed class LabFixture : IDisposable
{
    public const int NodeHosts = 3;

    private readonly DirectoryInfo _certificates = Directory.CreateTempSubdirectory("fclab-tls-");

    public LabFixture()
    {
        Unavailable = NetworkLab.Unavailable();
        if (Unavailable is not null)
        {
            return;
        }
        Lab = new NetworkLab(NodeHosts);
        try
        {
            Postgres = new LabPostgres(Lab);
            IssueCertificates();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// The lab's cluster CA and one certificate per node host (its address as subject alternative name), made with
    /// `foldcluster certs` as an operator would: every lab node runs mutual TLS.
    /// </summary>
    private void IssueCertificates()
    {
        var ca = Path.Combine(_certificates.FullName, "ca");
        Certs("init", "--out", ca);
        for (var host = 1; host <= NodeHosts; host++)
        {
            Certs("issue", "--ca", ca, "--name", HostName(host), "--host", NetworkLab.NodeAddress(host), "--out", Path.Combine(TlsFolder(host), "node.pfx"));
        }
    }

    private static void Certs(params string[] args)
    {
        var result = CliProcess.RunAsync(["certs", .. args]).GetAwaiter().GetResult();
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"foldcluster certs {string.Join(' ', args)} failed ({result.ExitCode}): {result.StandardError.Trim()}");
        }
    }

    public static string HostName(int host) => $"h{host.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Node host i's certificate folder (node.pfx and the cluster's ca.crt), for `node start --tls`.</summary>
    public string TlsFolder(int host) => Path.Combine(_certificates.FullName, HostName(host));

    public string? Unavailable { get; }

    public NetworkLab Lab { get; } = null!;

    public LabPostgres Postgres { get; } = null!;

    /// <summary>Makespan of an undisturbed run per sweep shape, measured once (the baseline of every scenario).</summary>
    public Dictionary<(int Jobs, double Seconds), TimeSpan> Undisturbed { get; } = [];

    public void Dispose()
    {
        Postgres?.Dispose();
        Lab?.Dispose();
        _certificates.Delete(recursive: true);
    }
}

/// <summary>
/// One scenario's cluster in the lab: its own database, `foldcluster node` processes on the node hosts bound to
/// their addresses, and the measurements the scenarios report. Everything it started is killed on dispose.
/// </summary>
public sealed class LabCluster : IDisposable
{
    /// <summary>Short leases and quick failure detection, as in the loopback tests; the suite stays short.</summary>
    public const string Config = QuickFailureDetection + Timing;

    /// <summary>The lab's failure detection: a silent node is unreachable after about 4 s and downed 3 s later.</summary>
    public const string QuickFailureDetection = """
        akka.cluster.failure-detector.heartbeat-interval = 1s
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 4s
        akka.cluster.split-brain-resolver.stable-after = 3s

        """;

    /// <summary>The lab's leases and polls (every scenario keeps these).</summary>
    public const string Timing = """
        foldcluster.lease = 6s
        foldcluster.lease-check-interval = 1s
        foldcluster.idle-poll = 200ms
        foldcluster.register-interval = 1s
        foldcluster.request-timeout = 5s
        """;

    public const int ClusterPort = 4053;

    private readonly LabFixture _fixture;
    private readonly ITestOutputHelper _output;
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("fclab-nodes-");
    private readonly Dictionary<int, LabProcess> _nodes = [];
    private readonly List<LabProcess> _stopped = [];
    private readonly string _configFile;

    private LabCluster(LabFixture fixture, string database, ITestOutputHelper output, string config)
    {
        _fixture = fixture;
        _output = output;
        DatabaseName = database;
        _configFile = Path.Combine(_dir.FullName, "lab.hocon");
        File.WriteAllText(_configFile, config);
        DataSource = Database.CreateDataSource(fixture.Postgres.LocalConnectionString(database), "fclab-test");
    }

    public string DatabaseName { get; }

    /// <summary>The test's own view of the database (Unix socket: unaffected by the network cuts).</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <param name="config">The nodes' HOCON file (default <see cref="Config"/>).</param>
    public static async Task<LabCluster> CreateAsync(LabFixture fixture, string scenario, ITestOutputHelper output, string config = Config)
    {
        var database = $"{scenario}_{Guid.NewGuid().ToString("N")[..6]}";
        await fixture.Postgres.CreateDatabaseAsync(database);
        return new LabCluster(fixture, database, output, config);
    }

    /// <summary>
    /// The failure detector and Split Brain Resolver settings of cluster-config/multi-machine.hocon, read from that
    /// file (what a real multi-machine cluster runs with), over base.hocon's, as HOCON lines for a node's file.
    /// </summary>
    public static string MultiMachineFailureDetection()
    {
        // The test project copies the repository's file beside its assembly.
        var file = Path.Combine(AppContext.BaseDirectory, "cluster-config", "multi-machine.hocon");
        var config = Akka.Configuration.ConfigurationFactory.ParseString(File.ReadAllText(file));
        var lines = new List<string>();
        foreach (var section in new[] { "akka.cluster.failure-detector", "akka.cluster.split-brain-resolver" })
        {
            foreach (var (key, value) in config.GetConfig(section).AsEnumerable())
            {
                lines.Add($"{section}.{key} = {value}");
            }
        }
        Assert.True(lines.Count > 0, $"{file} sets no failure detector or Split Brain Resolver setting");
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>Seeds: the first two hosts, so the cluster can be joined while either is up.</summary>
    private static string Seeds => string.Join(',', new[] { 1, 2 }.Select(i => $"{NetworkLab.NodeAddress(i)}:{ClusterPort.ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>Every argument a lab node gets, in one place (mutual TLS included).</summary>
    public IReadOnlyList<string> NodeArguments(int host, string roles, string trainer, string slots) =>
    [
        "node", "start",
        "--roles", roles,
        "--host", NetworkLab.NodeAddress(host),
        "--port", ClusterPort.ToString(CultureInfo.InvariantCulture),
        "--seeds", Seeds,
        "--slots", slots,
        "--cache", Path.Combine(_dir.FullName, $"cache-h{host.ToString(CultureInfo.InvariantCulture)}"),
        "--config", _configFile,
        "--trainer", trainer,
        "--node-name", LabFixture.HostName(host),
        // Mutual TLS with the lab's cluster CA, as on real machines (the node refuses a non-loopback address without it).
        "--tls", _fixture.TlsFolder(host),
    ];

    /// <summary>Starts (or restarts, killing the old process) the node of host i.</summary>
    public LabProcess StartNode(int host, string roles, string trainer, string slots = "cpu:2")
    {
        StopNode(host);
        var (fileName, prefix) = NodeProcess.SelfCommand(LocalCluster.FoldclusterDll);
        // One events file per process start, so a restarted node's events are its own.
        var events = Path.Combine(_dir.FullName, $"events-h{host.ToString(CultureInfo.InvariantCulture)}-{(++_starts).ToString(CultureInfo.InvariantCulture)}.jsonl");
        var node = LabProcess.Start($"h{host.ToString(CultureInfo.InvariantCulture)}", _fixture.Lab.NodeHost(host), fileName,
            prefix.Concat(NodeArguments(host, roles, trainer, slots)).Concat(["--events", events]),
            new Dictionary<string, string> { [ConnectionResolver.EnvironmentVariable] = _fixture.Postgres.NodeConnectionString(DatabaseName) },
            Echo, events);
        _nodes[host] = node;
        return node;
    }

    private int _starts;

    public void StopNode(int host)
    {
        if (_nodes.Remove(host, out var old))
        {
            old.Kill();
            _stopped.Add(old);
        }
    }

    public LabProcess Node(int host) => _nodes[host];

    /// <summary>Three hosts: h1 and h2 may be coordinators, all three work; waits until all three registered.</summary>
    public void StartThree(string trainer)
    {
        var h1 = StartNode(1, "coordinator,worker", trainer);
        Assert.True(h1.WaitForEvent<CoordinatorStartedEvent>(TimeSpan.FromSeconds(90)), Tail());
        StartNode(2, "coordinator,worker", trainer);
        StartNode(3, "worker", trainer);
        WaitForRegistrations(h1, 3);
    }

    public void WaitForRegistrations(LabProcess coordinator, int workers)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (coordinator.CountEvents<WorkerRegisteredEvent>() < workers)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {workers} workers registered; last lines:\n{Tail()}");
            Thread.Sleep(100);
        }
    }

    public async Task<SweepSubmission> SubmitAsync(string name, int jobs) =>
        await new SweepStore(DataSource).SubmitAsync(SimulatedSweep.Spec(name, jobs), "test");

    /// <summary>The database's clock now: events and the attempts' timestamps are compared on one clock.</summary>
    public DateTime Now()
    {
        using var c = DataSource.OpenConnection();
        return c.ExecuteScalar<DateTime>("select clock_timestamp()");
    }

    public int Results(long sweepId)
    {
        using var c = DataSource.OpenConnection();
        return c.ExecuteScalar<int>("select count(*)::int from results r join jobs j using (job_id) where j.sweep_id = @sweepId", new { sweepId });
    }

    public void WaitForResults(long sweepId, int n, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Results(sweepId) < n)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {n} results after {timeout.TotalSeconds} s; last lines:\n{Tail()}");
            Thread.Sleep(100);
        }
    }

    /// <summary>Waits until n jobs of the sweep run at once (every slot busy), then 2 s more, so the jobs span what follows.</summary>
    public void WaitForRunning(long sweepId, int n, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using (var c = DataSource.OpenConnection())
            {
                if (c.ExecuteScalar<int>("select count(*)::int from jobs where sweep_id = @sweepId and state = 'running'", new { sweepId }) >= n)
                {
                    break;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {n} jobs running after {timeout.TotalSeconds} s; last lines:\n{Tail()}");
            Thread.Sleep(100);
        }
        Thread.Sleep(2000);
    }

    public void WaitForSweep(long sweepId, TimeSpan timeout) => LocalCluster.WaitForSweep(DataSource, sweepId, timeout, Tail);

    /// <summary>What a scenario reports: time from the event to the first requeue, jobs re-run, makespan.</summary>
    public sealed record Figures(double? FirstRequeueSeconds, int JobsRerun, int AttemptsRerun, TimeSpan Makespan);

    public Figures Measure(long sweepId, DateTime eventAt)
    {
        using var c = DataSource.OpenConnection();
        var firstLost = c.ExecuteScalar<DateTime?>("""
            select min(a.ended_at) from job_attempts a join jobs j using (job_id)
            where j.sweep_id = @sweepId and a.outcome in ('lost', 'rejected') and a.ended_at >= @eventAt
            """, new { sweepId, eventAt });
        var rerun = c.ExecuteScalar<int>("select count(*)::int from jobs where sweep_id = @sweepId and attempt > 1", new { sweepId });
        var extra = c.ExecuteScalar<int>("select (count(*) - count(distinct a.job_id))::int from job_attempts a join jobs j using (job_id) where j.sweep_id = @sweepId", new { sweepId });
        var seconds = c.ExecuteScalar<double>("""
            select extract(epoch from max(a.ended_at) - min(a.started_at))::float8
            from job_attempts a join jobs j using (job_id) where j.sweep_id = @sweepId
            """, new { sweepId });
        return new Figures(firstLost is { } t ? (t - eventAt).TotalSeconds : null, rerun, extra, TimeSpan.FromSeconds(seconds));
    }

    /// <summary>
    /// The makespan of the same sweep shape (jobs of `simulated:seconds` on the running nodes) without any event,
    /// measured once per test run, then reused.
    /// </summary>
    public TimeSpan Undisturbed(int jobs, double seconds)
    {
        if (_fixture.Undisturbed.TryGetValue((jobs, seconds), out var known))
        {
            return known;
        }
        var sweep = SubmitAsync($"undisturbed-{jobs}", jobs).GetAwaiter().GetResult();
        WaitForSweep(sweep.SweepId, TimeSpan.FromMinutes(3));
        SweepInvariants.ExactlyOneResultPerJob(DataSource, sweep.SweepId, jobs);
        var makespan = Measure(sweep.SweepId, DateTime.MaxValue).Makespan;
        _fixture.Undisturbed[(jobs, seconds)] = makespan;
        return makespan;
    }

    /// <summary>Prints a scenario's figures for the record (time to requeue, jobs re-run, makespan vs undisturbed).</summary>
    public void Report(string scenario, Figures figures, TimeSpan undisturbed, TimeSpan elapsed)
    {
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{scenario}: first requeue {(figures.FirstRequeueSeconds is { } s ? $"{s:0.0} s" : "none")} after the event; " +
            $"jobs re-run {figures.JobsRerun} ({figures.AttemptsRerun} extra attempts); makespan {figures.Makespan.TotalSeconds:0.0} s " +
            $"vs {undisturbed.TotalSeconds:0.0} s undisturbed; scenario took {elapsed.TotalSeconds:0} s"));
    }

    /// <summary>No attempt of a job started after that job's result was stored: no finished job ran again.</summary>
    public int AttemptsAfterSuccess(long sweepId)
    {
        using var c = DataSource.OpenConnection();
        return c.ExecuteScalar<int>("""
            select count(*)::int from job_attempts a join results r using (job_id) join jobs j using (job_id)
            where j.sweep_id = @sweepId and a.started_at > r.stored_at
            """, new { sweepId });
    }

    public string Tail() => string.Join('\n', _nodes.Values.Concat(_stopped).SelectMany(n => n.Lines.TakeLast(20).Select(l => $"{n.Name}: {l}")));

    private void Echo(string line)
    {
        try
        {
            _output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // the test has finished; late lines of a dying process are dropped
        }
    }

    public void Dispose()
    {
        foreach (var node in _nodes.Values.Concat(_stopped))
        {
            node.Dispose();
        }
        DataSource.Dispose();
        try
        {
            _dir.Delete(recursive: true);
        }
        catch (IOException)
        {
            // a dying process may still hold a file
        }
    }
}
