using Dapper;
using FoldCluster.Cluster.Events;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Cluster.Trainers;
using FoldCluster.Storage;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;
using Xunit.Abstractions;

namespace FoldCluster.Cluster.Tests.MultiProcess;

/// <summary>Multi-process runs share the machine's cores; run them one after another.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterProcesses
{
    public const string Name = "cluster processes";
}

/// <summary>
/// DESIGN.md section 8 with real node processes on loopback, the real job store and a real PostgreSQL:
/// the sweep finishes with exactly one stored result per job through worker loss, coordinator loss and a
/// database restart.
/// </summary>
[Collection(ClusterProcesses.Name)]
public sealed class ClusterProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private static async Task<SweepSubmission> SubmitAsync(Npgsql.NpgsqlDataSource dataSource, string name, int jobs) =>
        await new SweepStore(dataSource).SubmitAsync(SimulatedSweep.Spec(name, jobs), "test");

    /// <summary>Starts n1 (coordinator, worker), n2 (coordinator, worker), n3 (worker) and waits for the coordinator on n1 to see all three.</summary>
    private static (NodeProcess N1, NodeProcess N2, NodeProcess N3) StartThree(LocalCluster cluster, string trainer)
    {
        var n1 = cluster.Start(0, "coordinator,worker", trainer);
        Assert.True(n1.WaitForEvent<CoordinatorStartedEvent>(_ => true, 1, Startup), cluster.Tail());
        var n2 = cluster.Start(1, "coordinator,worker", trainer);
        var n3 = cluster.Start(2, "worker", trainer);
        Assert.True(n1.WaitForEvent<WorkerRegisteredEvent>(_ => true, 3, Startup), cluster.Tail());
        // Every node Up (not only joining): a kill must find a stable three-member cluster with a majority left.
        foreach (var node in new[] { n1, n2, n3 })
        {
            Assert.True(node.WaitForEvent<JoinedEvent>(_ => true, 1, Startup), cluster.Tail());
        }
        return (n1, n2, n3);
    }

    [Fact]
    public async Task Three_nodes_finish_a_40_job_sweep_with_one_result_per_job_and_a_resubmission_creates_no_jobs()
    {
        using var cluster = new LocalCluster(_db.ConnectionString, 3, TestEcho.To(output));
        StartThree(cluster, "simulated:0.2");

        var sweep = await SubmitAsync(_db.DataSource, "three-nodes", 40);
        Assert.Equal(40, sweep.JobsCreated);
        cluster.WaitForSweep(sweep.SweepId, TimeSpan.FromSeconds(60));

        SweepInvariants.ExactlyOneResultPerJob(_db.DataSource, sweep.SweepId, 40);
        await using var c = await _db.DataSource.OpenConnectionAsync();
        var attempts = await c.ExecuteScalarAsync<int>("select count(*)::int from job_attempts");
        var workers = await c.ExecuteScalarAsync<int>("select count(distinct worker)::int from job_attempts");
        Assert.Equal(3, workers);

        // The nodes run with the shared-machine runtime settings (read from their real environments).
        foreach (var node in cluster.Nodes)
        {
            var environment = File.ReadAllText($"/proc/{node.Pid}/environ").Split('\0');
            foreach (var (name, value) in LocalCluster.SharedMachineSettings)
            {
                Assert.Contains($"{name}={value}", environment);
            }
        }

        var again = await SubmitAsync(_db.DataSource, "three-nodes", 40);
        Assert.False(again.Created);
        Assert.Equal((0, 40), (again.JobsCreated, again.JobsTotal));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(attempts, await c.ExecuteScalarAsync<int>("select count(*)::int from job_attempts"));
        Assert.Equal(40, await c.ExecuteScalarAsync<int>("select count(*)::int from jobs"));
    }

    [Fact]
    public async Task Killing_a_worker_mid_jobs_moves_its_jobs_to_other_workers()
    {
        using var cluster = new LocalCluster(_db.ConnectionString, 3, TestEcho.To(output));
        var (_, _, n3) = StartThree(cluster, "simulated:0.5");
        var n3Id = Assert.Single(n3.EventsOf<NodeStartedEvent>()).WorkerId;

        var sweep = await SubmitAsync(_db.DataSource, "kill-worker", 40);
        Assert.True(n3.WaitForEvent<JobStartedEvent>(_ => true, 3, TimeSpan.FromSeconds(30)), cluster.Tail());
        n3.Kill();

        cluster.WaitForSweep(sweep.SweepId, TimeSpan.FromSeconds(90));
        SweepInvariants.ExactlyOneResultPerJob(_db.DataSource, sweep.SweepId, 40);
        Assert.True(cluster.Nodes[0].WaitForEvent<WorkerLostEvent>(e => e.WorkerId == n3Id, 1, TimeSpan.FromSeconds(30)), cluster.Tail());
        await using var c = await _db.DataSource.OpenConnectionAsync();
        // The killed worker had jobs running; they were lost there and finished elsewhere.
        var lost = (await c.QueryAsync<long>("select job_id from job_attempts where worker = @n3Id and outcome = 'lost'", new { n3Id })).ToArray();
        Assert.NotEmpty(lost);
        Assert.Equal(0, await c.ExecuteScalarAsync<int>(
            "select count(*)::int from results r join job_attempts a on a.job_id = r.job_id and a.attempt = r.attempt where a.worker = @n3Id and r.job_id = any(@lost)",
            new { n3Id, lost }));
    }

    [Fact]
    public async Task Killing_the_coordinator_node_moves_the_coordinator_and_the_sweep_finishes()
    {
        using var cluster = new LocalCluster(_db.ConnectionString, 3, TestEcho.To(output));
        var (n1, n2, _) = StartThree(cluster, "simulated:0.4");

        var sweep = await SubmitAsync(_db.DataSource, "kill-coordinator", 40);
        LocalCluster.WaitForResults(_db.DataSource, sweep.SweepId, 6, TimeSpan.FromSeconds(30));
        n1.Kill();

        Assert.True(n2.WaitForEvent<CoordinatorStartedEvent>(_ => true, 1, TimeSpan.FromSeconds(45)), cluster.Tail());
        // The coordinator moved to the process of n2, and the rest of the sweep was assigned from there.
        Assert.Equal(n2.Pid, n2.EventsOf<CoordinatorStartedEvent>()[0].Pid);
        cluster.WaitForSweep(sweep.SweepId, TimeSpan.FromSeconds(90));
        Assert.NotEmpty(n2.EventsOf<JobAssignedEvent>());
        SweepInvariants.ExactlyOneResultPerJob(_db.DataSource, sweep.SweepId, 40);
    }

    [Fact]
    public async Task A_frozen_worker_s_late_work_is_fenced_off_when_it_resumes()
    {
        using var cluster = new LocalCluster(_db.ConnectionString, 3, TestEcho.To(output));
        var (_, _, n3) = StartThree(cluster, "simulated:3");
        var sweep = await SubmitAsync(_db.DataSource, "frozen-worker", 6);
        var started = n3.WaitForEvent<JobStartedEvent>(TimeSpan.FromSeconds(30));
        Assert.True(started is not null, cluster.Tail());
        Assert.Equal(1, started.Attempt);
        var jobId = started.Job;

        // Thought dead: the cluster downs it, its attempt is fenced off and the job runs again elsewhere.
        n3.Freeze();
        await using var c = await _db.DataSource.OpenConnectionAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while (await c.ExecuteScalarAsync<int>("select count(*)::int from results where job_id = @jobId", new { jobId }) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, cluster.Tail());
            await Task.Delay(200);
        }
        n3.Thaw();

        // It was only frozen: on resuming, its attempt's next write is refused and nothing of it is stored.
        var ended = n3.WaitForEvent<JobFinishedEvent>(TimeSpan.FromSeconds(30), e => e.Job == jobId && e.Attempt == 1);
        Assert.True(ended is not null, cluster.Tail());
        Assert.NotEqual(JobFinishedEvent.Stored, ended.Outcome);
        cluster.WaitForSweep(sweep.SweepId, TimeSpan.FromSeconds(60));
        SweepInvariants.ExactlyOneResultPerJob(_db.DataSource, sweep.SweepId, 6);
        Assert.True(await c.ExecuteScalarAsync<int>("select attempt from results where job_id = @jobId", new { jobId }) >= 2);
        Assert.Equal("lost", await c.ExecuteScalarAsync<string>("select outcome from job_attempts where job_id = @jobId and attempt = 1", new { jobId }));
    }

    [Fact]
    public async Task A_PostgreSQL_restart_mid_sweep_delays_writes_and_loses_nothing()
    {
        // A private server: restarting the shared one would disturb every other test.
        var state = Directory.CreateTempSubdirectory("foldcluster-pg-restart-");
        var server = EmbeddedPostgres.FromStateDirectory(state.FullName, LocalCluster.FreePorts(1)[0]);
        server.Up(output.WriteLine);
        try
        {
            await using var dataSource = Database.CreateDataSource(server.ConnectionString, "foldcluster-tests");
            await MigrationRunner.MigrateAsync(dataSource, MigrationRunner.Embedded());
            using var cluster = new LocalCluster(server.ConnectionString, 3, TestEcho.To(output));
            StartThree(cluster, "simulated:0.3");

            var sweep = await SubmitAsync(dataSource, "db-restart", 40);
            LocalCluster.WaitForResults(dataSource, sweep.SweepId, 8, TimeSpan.FromSeconds(30));
            server.Down(output.WriteLine);
            await Task.Delay(TimeSpan.FromSeconds(2));
            server.Up(output.WriteLine);

            cluster.WaitForSweep(sweep.SweepId, TimeSpan.FromSeconds(120), dataSource);
            SweepInvariants.ExactlyOneResultPerJob(dataSource, sweep.SweepId, 40);
            // The outage was seen: some node's database calls were retried while the server was down.
            Assert.NotEmpty(cluster.Events.OfType<DatabaseRetryEvent>());
        }
        finally
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            server.Down(output.WriteLine);
            // When the server runs as another system user its data directory lives elsewhere, linked from the state folder.
            var target = new DirectoryInfo(server.DataDirectory).LinkTarget;
            state.Delete(recursive: true);
            if (target is not null && Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
                var parent = Path.GetDirectoryName(target);
                if (parent is not null && Directory.Exists(parent) && !Directory.EnumerateFileSystemEntries(parent).Any())
                {
                    Directory.Delete(parent);
                }
            }
        }
    }

    [Fact]
    public async Task Bench_cluster_prints_its_figures_as_one_json_line()
    {
        // A tiny run of the benchmark's real path (its speed target is checked by running `foldcluster bench cluster`).
        var (fileName, prefix) = NodeProcess.SelfCommand(LocalCluster.FoldclusterDll);
        var info = new System.Diagnostics.ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in prefix.Concat(["bench", "cluster", "--jobs", "8", "--seconds", "0.1", "--nodes", "2", "--slots", "1", "--warmup", "4", "--json"]))
        {
            info.ArgumentList.Add(a);
        }
        info.Environment[ConnectionResolver.EnvironmentVariable] = TestDatabase.AdminConnectionString();
        using var bench = System.Diagnostics.Process.Start(info)!;
        string stdout, errors;
        try
        {
            var stderr = bench.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            stdout = await bench.StandardOutput.ReadToEndAsync(timeout.Token);
            await bench.WaitForExitAsync(timeout.Token);
            errors = await stderr;
        }
        finally
        {
            if (!bench.HasExited)
            {
                bench.Kill(entireProcessTree: true);
            }
        }
        Assert.True(bench.ExitCode == 0, errors);

        var last = stdout.TrimEnd().Split('\n')[^1];
        using var json = System.Text.Json.JsonDocument.Parse(last);
        Assert.Equal(["coordinator_cpu_s", "dispatch_p50_ms", "dispatch_p99_ms", "dispatch_per_s", "machine_busy_cpu_s", "machine_steal_s", "makespan_ratio",
                "makespan_s", "nominal_ideal_s", "nominal_ratio", "warmup_s"],
            json.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        double Figure(string name) => json.RootElement.GetProperty(name).GetDouble();
        Assert.True(Figure("makespan_ratio") >= 1.0);
        Assert.True(Figure("dispatch_p50_ms") > 0);
        Assert.True(Figure("dispatch_p99_ms") >= Figure("dispatch_p50_ms"));
        // 8 jobs x 0.1 s on 2 slots.
        Assert.Equal(0.4, Figure("nominal_ideal_s"), 3);
        Assert.True(Figure("nominal_ratio") >= 1.0);
        // The ratio is computed before makespan_s is rounded to the millisecond: within 0.0005 s / 0.4 s of it.
        Assert.Equal(Figure("makespan_s") / Figure("nominal_ideal_s"), Figure("nominal_ratio"), tolerance: 0.002);
        Assert.True(Figure("dispatch_per_s") > 0);
        Assert.True(Figure("coordinator_cpu_s") > 0);
        // The whole machine worked at least as much as the coordinator's process did.
        Assert.True(Figure("machine_busy_cpu_s") >= Figure("coordinator_cpu_s"), $"machine {Figure("machine_busy_cpu_s")} s");
        Assert.True(Figure("machine_steal_s") >= 0);
        // The warm-up sweep ran first (4 x 0.1 s on 2 slots) and is not in the measured figures: the ideal above is of 8 jobs.
        Assert.True(Figure("warmup_s") >= 0.2, $"warmup_s {Figure("warmup_s")}");
        Assert.Contains("makespan:", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Machine_cpu_counts_busy_ticks_apart_from_idle_iowait_and_steal()
    {
        // user nice system idle iowait irq softirq steal guest guest_nice, in 1/100 s.
        var a = Cli.Commands.Cluster.MachineCpu.Parse("cpu  31242 10 10521 21607 1119 5 364 383 0 0");
        Assert.Equal((31242 + 10 + 10521 + 5 + 364) / 100.0, a.BusySeconds, 9);
        Assert.Equal(3.83, a.StealSeconds, 9);
        var b = Cli.Commands.Cluster.MachineCpu.Parse("cpu  31342 10 10621 99999 1119 5 364 483 0 0");
        Assert.Equal(2.0, (b - a).BusySeconds, 9);
        Assert.Equal(1.0, (b - a).StealSeconds, 9);
        var e = Assert.Throws<FormatException>(() => Cli.Commands.Cluster.MachineCpu.Parse("cpu0 1 2 3 4 5 6 7 8"));
        Assert.Contains("cpu0 1 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_dispatch_rate_counts_assignments_after_the_first_over_the_time_to_the_last()
    {
        var t0 = new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);
        // Five assignments over two seconds: four intervals, 2 per second, whatever the order the events were read in.
        Assert.Equal(2.0, Cli.Commands.Cluster.BenchClusterCommand.DispatchRate(
            [t0.AddSeconds(2), t0, t0.AddSeconds(0.5), t0.AddSeconds(1), t0.AddSeconds(1.5)]), 9);
        Assert.Equal(0, Cli.Commands.Cluster.BenchClusterCommand.DispatchRate([t0]));
        Assert.Equal(0, Cli.Commands.Cluster.BenchClusterCommand.DispatchRate([]));
    }

    [Fact]
    public void A_node_refuses_a_port_in_use_with_exit_code_2()
    {
        var port = LocalCluster.FreePorts(1)[0];
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        listener.Start();
        using var node = NodeProcess.Start(LocalCluster.FoldclusterDll, "busy",
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--trainer", "simulated:1"],
            environment: new Dictionary<string, string> { [ConnectionResolver.EnvironmentVariable] = _db.ConnectionString });
        Assert.True(node.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(2, node.ExitCode);
        Assert.Contains(node.Lines, l => l == $"error: port {port} on 127.0.0.1 is already in use; choose another with --port");
    }

    [Fact]
    public async Task SIGTERM_leaves_gracefully_and_puts_running_jobs_back_in_the_queue()
    {
        using var cluster = new LocalCluster(_db.ConnectionString, 1, TestEcho.To(output));
        var n1 = cluster.Start(0, "coordinator,worker", "simulated:30");
        Assert.True(n1.WaitForEvent<WorkerRegisteredEvent>(_ => true, 1, Startup), cluster.Tail());
        var sweep = await SubmitAsync(_db.DataSource, "sigterm", 2);
        Assert.True(n1.WaitForEvent<JobStartedEvent>(_ => true, 2, TimeSpan.FromSeconds(20)), cluster.Tail());

        n1.Terminate();

        Assert.True(n1.WaitForExit(TimeSpan.FromSeconds(30)), cluster.Tail());
        Assert.Equal(0, n1.ExitCode);
        await using var c = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal([("queued", 2)], (await c.QueryAsync<(string, int)>(
            "select state, count(*)::int from jobs where sweep_id = @id group by state", new { id = sweep.SweepId })).ToArray());
        Assert.Contains(n1.EventsOf<JobsRequeuedEvent>(), e => e is { Reason: JobsRequeuedEvent.NodeLeft, Count: 2 });
        Assert.Contains(n1.EventsOf<NodeStoppedEvent>(), e => e is { Joined: true, ExitCode: 0 });
    }
}
