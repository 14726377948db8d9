using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dapper;
using FoldCluster.Cluster.Events;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Cluster.Infrastructure;
using FoldCluster.Cluster.Trainers;
using FoldCluster.Cli.Infrastructure;
using FoldCluster.Storage;
using FoldCluster.Storage.Sweeps;
using Npgsql;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Cluster;

public sealed class BenchClusterSettings : DatabaseSettings
{
    [CommandOption("--json")]
    [Description("Print the figures as one JSON object on the last line of stdout.")]
    public bool Json { get; init; }

    [CommandOption("--logs")]
    [Description("Echo the nodes' logs to stderr.")]
    public bool Logs { get; init; }

    [CommandOption("--jobs <N>")]
    [Description("Jobs in the simulated sweep (default 440, the paper's grid; rounded up to a multiple of 10).")]
    public int Jobs { get; init; } = 440;

    [CommandOption("--seconds <S>")]
    [Description("Simulated seconds per job (default 2).")]
    public double Seconds { get; init; } = 2;

    [CommandOption("--nodes <N>")]
    [Description("Node processes (default 4; the first is also the coordinator; 1-16).")]
    public int Nodes { get; init; } = 4;

    [CommandOption("--slots <N>")]
    [Description("CPU slots per node (default 2; 1-64: --nodes 8 --slots 32 gives 256 slots).")]
    public int Slots { get; init; } = 2;

    [CommandOption("--prefetch <N>")]
    [Description("Passed to every node as --prefetch N (assignments a slot may hold ahead); not passed when not given.")]
    public int? Prefetch { get; init; }

    [CommandOption("--warmup <N>")]
    [Description("Jobs of a first, unmeasured sweep on the same nodes (default 0): the figures are those of a cluster whose "
        + "processes have compiled their hot code, as a long-running cluster has.")]
    public int Warmup { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        Jobs is < 1 or > 100_000 ? Spectre.Console.ValidationResult.Error($"--jobs {Jobs}: expected 1-100000")
        : Seconds is < 0.05 or > 600 ? Spectre.Console.ValidationResult.Error($"--seconds {Seconds}: expected 0.05-600")
        : Nodes is < 1 or > 16 ? Spectre.Console.ValidationResult.Error($"--nodes {Nodes}: expected 1-16")
        : Slots is < 1 or > SlotSpec.MaxPerDevice ? Spectre.Console.ValidationResult.Error($"--slots {Slots}: expected 1-{SlotSpec.MaxPerDevice}")
        : Warmup is < 0 or > 100_000 ? Spectre.Console.ValidationResult.Error($"--warmup {Warmup}: expected 0-100000")
        : Prefetch is < 0 or > NodeOptions.MaxPrefetch ? Spectre.Console.ValidationResult.Error($"--prefetch {Prefetch}: expected 0-{NodeOptions.MaxPrefetch}")
        : Spectre.Console.ValidationResult.Success();
}

/// <summary>
/// `foldcluster bench cluster`: a simulated sweep over local node processes (<see cref="LocalCluster"/>, the node's
/// own settings), in a private database created on the server of --db. Figures (docs/cluster.md, the cluster benchmark):
/// makespan = last result stored - sweep submitted (both on the database clock); ideal = sum of the jobs' own run
/// times / slots; nominal ideal = jobs x seconds / slots; dispatch latency = time in the coordinator from a
/// RequestWork to its JobAssigned (a PostgreSQL claim in between), from the coordinator's job-assigned events;
/// dispatch rate = (assignments - 1) / (last assignment - first assignment), the rate while the queue was non-empty;
/// coordinator CPU = CPU seconds (user + system, /proc/PID/stat) of the process that hosted the coordinator
/// (named by its coordinator-started event) from submission to the end of the sweep; machine busy CPU = user + nice +
/// system + irq + softirq time of all cores (/proc/stat) over the same span, and the steal time beside it.
/// `--warmup N` first runs an unmeasured sweep of N jobs on the same nodes (its makespan is warmup_s): the figures are
/// then those of processes that compiled their hot code, as in a long-running cluster, not of nine processes
/// compiling it at once.
/// </summary>
public sealed class BenchClusterCommand : Command<BenchClusterSettings>
{
    public const string SweepName = "bench-cluster";

    /// <summary>The unmeasured first sweep of `--warmup N`.</summary>
    public const string WarmupSweepName = "bench-cluster-warmup";

    public override int Execute(CommandContext context, BenchClusterSettings settings, CancellationToken cancellationToken)
    {
        var admin = settings.ConnectionString();
        var dbName = "fc_bench_" + Guid.NewGuid().ToString("N")[..10];
        var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = dbName }.ConnectionString;
        using (var adminSource = Database.CreateDataSource(admin, "foldcluster-bench"))
        using (var connection = Database.Open(adminSource))
        {
            connection.Execute($"create database {dbName}");
        }
        LocalCluster? cluster = null;
        try
        {
            using var dataSource = Database.CreateDataSource(connectionString, "foldcluster-bench");
            MigrationRunner.MigrateAsync(dataSource, MigrationRunner.Embedded(), _ => { }, cancellationToken).GetAwaiter().GetResult();
            cluster = new LocalCluster(connectionString, settings.Nodes, settings.Logs ? Console.Error.WriteLine : null, config: null,
                foldclusterDll: typeof(BenchClusterCommand).Assembly.Location);
            var trainer = $"simulated:{settings.Seconds.ToString(CultureInfo.InvariantCulture)}";
            var extra = settings.Prefetch is { } prefetch ? new[] { "--prefetch", prefetch.ToString(CultureInfo.InvariantCulture) } : [];
            var slots = settings.Nodes * settings.Slots;
            Console.Error.WriteLine($"bench cluster: starting {settings.Nodes} nodes x {settings.Slots} slots (database {dbName})");
            for (var i = 0; i < settings.Nodes; i++)
            {
                cluster.Start(i, i == 0 ? "coordinator,worker" : "worker", trainer, $"cpu:{settings.Slots.ToString(CultureInfo.InvariantCulture)}",
                    extraArgs: extra);
            }
            var first = cluster.Nodes[0];
            var formation = TimeSpan.FromSeconds(60 + 15 * settings.Nodes);
            if (!first.WaitForEvent<WorkerRegisteredEvent>(_ => true, settings.Nodes, formation))
            {
                throw new WorkFailedException($"the cluster did not form within {formation.TotalSeconds:0} s; node logs:\n{cluster.Tail()}");
            }
            var coordinatorPid = first.EventsOf<CoordinatorStartedEvent>().First().Pid;
            Console.Error.WriteLine($"bench cluster: {slots} slots registered");
            var sweeps = new SweepStore(dataSource);
            var warmupSeconds = 0.0;
            if (settings.Warmup > 0)
            {
                Console.Error.WriteLine($"bench cluster: warming up with {settings.Warmup} jobs of {settings.Seconds} s (not measured)");
                var warmup = sweeps.SubmitAsync(SimulatedSweep.Spec(WarmupSweepName, settings.Warmup), CliHost.Version, cancellationToken)
                    .GetAwaiter().GetResult();
                WaitForSweep(cluster, dataSource, warmup.SweepId, warmup.JobsTotal, settings.Seconds, slots, "warm-up sweep");
                using var warmupConnection = Database.Open(dataSource);
                warmupSeconds = Figures(warmupConnection, warmup.SweepId).Makespan;
            }
            Console.Error.WriteLine($"bench cluster: submitting {settings.Jobs} jobs of {settings.Seconds} s");

            using var coordinatorProcess = Process.GetProcessById(coordinatorPid);
            var cpuBefore = coordinatorProcess.TotalProcessorTime;
            var machineBefore = MachineCpu.Read();
            var submission = sweeps.SubmitAsync(SimulatedSweep.Spec(SweepName, settings.Jobs), CliHost.Version, cancellationToken)
                .GetAwaiter().GetResult();
            WaitForSweep(cluster, dataSource, submission.SweepId, submission.JobsTotal, settings.Seconds, slots, "sweep");
            coordinatorProcess.Refresh();
            var machine = MachineCpu.Read() - machineBefore;
            var coordinatorCpu = coordinatorProcess.HasExited ? double.NaN : (coordinatorProcess.TotalProcessorTime - cpuBefore).TotalSeconds;

            using var connection = Database.Open(dataSource);
            var figures = Figures(connection, submission.SweepId);
            var ideal = figures.TotalJobSeconds / slots;
            var ratio = figures.Makespan / ideal;
            var nominalIdeal = submission.JobsTotal * settings.Seconds / slots;
            var nominalRatio = figures.Makespan / nominalIdeal;
            var assigned = cluster.Events.OfType<JobAssignedEvent>().Where(e => e.Sweep == SweepName).ToArray();
            var dispatch = assigned.Select(e => e.DispatchMs).Order().ToArray();
            var p50 = LatencyStats.Percentile(dispatch, 50);
            var p99 = LatencyStats.Percentile(dispatch, 99);
            var rate = DispatchRate(assigned.Select(e => e.Time));
            Console.Error.WriteLine($"jobs: {submission.JobsTotal} ({figures.Results} results stored, {figures.Failed} not succeeded) on {slots} slots in {settings.Nodes} processes");
            Console.Error.WriteLine($"makespan: {figures.Makespan:0.00} s; ideal (sum of job times / slots): {ideal:0.00} s; ratio {ratio:0.0000}; "
                + $"nominal ideal (jobs x seconds / slots): {nominalIdeal:0.00} s; ratio {nominalRatio:0.0000}");
            Console.Error.WriteLine($"dispatch latency (RequestWork -> JobAssigned, {dispatch.Length} assignments): p50 {p50:0.000} ms, p99 {p99:0.000} ms; "
                + $"{rate:0.0} assignments/s while the queue was non-empty; coordinator process {coordinatorCpu:0.00} CPU s");
            Console.Error.WriteLine($"machine: {machine.BusySeconds:0.00} busy CPU s over the sweep ({1000 * machine.BusySeconds / submission.JobsTotal:0.000} ms per job, "
                + $"every process and PostgreSQL), {machine.StealSeconds:0.00} s stolen by the hypervisor");
            if (settings.Json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, double>
                {
                    ["makespan_ratio"] = Math.Round(ratio, 4),
                    ["dispatch_p50_ms"] = Math.Round(p50, 3),
                    ["dispatch_p99_ms"] = Math.Round(p99, 3),
                    ["makespan_s"] = Math.Round(figures.Makespan, 3),
                    ["nominal_ideal_s"] = Math.Round(nominalIdeal, 3),
                    ["nominal_ratio"] = Math.Round(nominalRatio, 4),
                    ["dispatch_per_s"] = Math.Round(rate, 1),
                    ["coordinator_cpu_s"] = Math.Round(coordinatorCpu, 2),
                    ["warmup_s"] = Math.Round(warmupSeconds, 3),
                    ["machine_busy_cpu_s"] = Math.Round(machine.BusySeconds, 2),
                    ["machine_steal_s"] = Math.Round(machine.StealSeconds, 2),
                }, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            }
            return figures.Failed == 0 && figures.Results == submission.JobsTotal ? 0 : 1;
        }
        finally
        {
            cluster?.Stop(TimeSpan.FromSeconds(20));
            cluster?.Dispose();
            NpgsqlConnection.ClearAllPools();
            using (var adminSource = Database.CreateDataSource(admin, "foldcluster-bench"))
            using (var connection = Database.Open(adminSource))
            {
                connection.Execute($"drop database if exists {dbName} with (force)");
            }
        }
    }

    /// <summary>A sweep's makespan (last result stored - submission, on the database clock), job seconds and counts.</summary>
    private static (double Makespan, double TotalJobSeconds, int Results, int Failed) Figures(NpgsqlConnection connection, long sweepId) =>
        connection.QuerySingle<(double, double, int, int)>("""
            select extract(epoch from (select max(r.stored_at) from results r join jobs j using (job_id) where j.sweep_id = s.sweep_id) - s.created_at)::float8,
                   (select coalesce(sum(r.seconds), 0) from results r join jobs j using (job_id) where j.sweep_id = s.sweep_id)::float8,
                   (select count(*) from results r join jobs j using (job_id) where j.sweep_id = s.sweep_id)::int,
                   (select count(*) from jobs j where j.sweep_id = s.sweep_id and j.state <> 'succeeded')::int
            from sweeps s where s.sweep_id = @id
            """, new { id = sweepId });

    private static void WaitForSweep(LocalCluster cluster, NpgsqlDataSource dataSource, long sweepId, int jobs, double seconds, int slots, string what)
    {
        // Three times the ideal plus two minutes: generous on a loaded machine, and it grows with the sweep.
        var timeout = TimeSpan.FromSeconds(120 + 3.0 * jobs * seconds / slots);
        try
        {
            cluster.WaitForSweep(sweepId, timeout, dataSource);
        }
        catch (TimeoutException e)
        {
            throw new WorkFailedException($"the {what} did not finish in time: {e.Message}");
        }
    }

    /// <summary>
    /// Assignments per second while the queue was non-empty: the assignments after the first, divided by the time from
    /// the first assignment to the last (the moment the last job was handed out); 0 with fewer than two.
    /// </summary>
    public static double DispatchRate(IEnumerable<DateTime> assignedAt)
    {
        var times = assignedAt.ToArray();
        if (times.Length < 2)
        {
            return 0;
        }
        var span = (times.Max() - times.Min()).TotalSeconds;
        return span > 0 ? (times.Length - 1) / span : 0;
    }
}
