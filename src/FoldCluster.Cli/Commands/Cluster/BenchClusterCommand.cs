using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
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
    [Description("Node processes (default 4; the first is also the coordinator).")]
    public int Nodes { get; init; } = 4;

    [CommandOption("--slots <N>")]
    [Description("CPU slots per node (default 2).")]
    public int Slots { get; init; } = 2;

    public override Spectre.Console.ValidationResult Validate() =>
        Jobs is < 1 or > 100_000 ? Spectre.Console.ValidationResult.Error($"--jobs {Jobs}: expected 1-100000")
        : Seconds is < 0.05 or > 600 ? Spectre.Console.ValidationResult.Error($"--seconds {Seconds}: expected 0.05-600")
        : Nodes is < 1 or > 16 ? Spectre.Console.ValidationResult.Error($"--nodes {Nodes}: expected 1-16")
        : Slots is < 1 or > 64 ? Spectre.Console.ValidationResult.Error($"--slots {Slots}: expected 1-64")
        : Spectre.Console.ValidationResult.Success();
}

/// <summary>
/// `foldcluster bench cluster`: a simulated sweep over local node processes, in a private database created on the
/// server of --db. Makespan = last result stored - sweep submitted (both on the database clock); ideal = sum of the
/// jobs' own run times / slots; dispatch latency = time in the coordinator from a RequestWork to its JobAssigned
/// (a PostgreSQL claim in between), as the coordinator logs it for every assignment.
/// </summary>
public sealed partial class BenchClusterCommand : Command<BenchClusterSettings>
{
    public override int Execute(CommandContext context, BenchClusterSettings settings, CancellationToken cancellationToken)
    {
        var admin = settings.ConnectionString();
        var dbName = "fc_bench_" + Guid.NewGuid().ToString("N")[..10];
        var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = dbName }.ConnectionString;
        var work = Directory.CreateTempSubdirectory("foldcluster-bench-");
        using (var adminSource = Database.CreateDataSource(admin, "foldcluster-bench"))
        using (var connection = Database.Open(adminSource))
        {
            connection.Execute($"create database {dbName}");
        }
        var nodes = new List<NodeProcess>();
        try
        {
            using var dataSource = Database.CreateDataSource(connectionString, "foldcluster-bench");
            MigrationRunner.MigrateAsync(dataSource, MigrationRunner.Embedded(), _ => { }, cancellationToken).GetAwaiter().GetResult();
            var dll = typeof(BenchClusterCommand).Assembly.Location;
            var ports = LoopbackPorts.Free(settings.Nodes);
            var seed = $"127.0.0.1:{ports[0].ToString(CultureInfo.InvariantCulture)}";
            var trainer = $"simulated:{settings.Seconds.ToString(CultureInfo.InvariantCulture)}";
            Console.Error.WriteLine($"bench cluster: starting {settings.Nodes} nodes x {settings.Slots} slots (database {dbName})");
            for (var i = 0; i < settings.Nodes; i++)
            {
                nodes.Add(NodeProcess.Start(dll, $"n{i + 1}",
                [
                    "--roles", i == 0 ? "coordinator,worker" : "worker",
                    "--port", ports[i].ToString(CultureInfo.InvariantCulture),
                    "--seeds", seed,
                    "--slots", $"cpu:{settings.Slots.ToString(CultureInfo.InvariantCulture)}",
                    "--cache", Path.Combine(work.FullName, "cache"),
                    "--trainer", trainer,
                    "--node-name", $"n{i + 1}",
                ],
                // Through the environment, not the command line: other users can read command lines in /proc.
                environment: new Dictionary<string, string> { [ConnectionResolver.EnvironmentVariable] = connectionString },
                echo: settings.Logs ? Console.Error.WriteLine : null));
            }
            var coordinator = nodes[0];
            if (!coordinator.WaitForLines(l => l.Contains(" registered with ", StringComparison.Ordinal), settings.Nodes, TimeSpan.FromSeconds(90)))
            {
                throw new WorkFailedException("the cluster did not form within 90 s; node logs:\n" +
                    string.Join('\n', nodes.SelectMany(n => n.Lines.TakeLast(15).Select(l => $"{n.Name}: {l}"))));
            }
            Console.Error.WriteLine($"bench cluster: {settings.Nodes * settings.Slots} slots registered; submitting {settings.Jobs} jobs of {settings.Seconds} s");

            var sweeps = new SweepStore(dataSource);
            var submission = sweeps.SubmitAsync(SimulatedSweep.Spec("bench-cluster", settings.Jobs), CliHost.Version, cancellationToken)
                .GetAwaiter().GetResult();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120 + 3.0 * submission.JobsTotal * settings.Seconds / (settings.Nodes * settings.Slots));
            using var connection = Database.Open(dataSource);
            while (true)
            {
                var open = connection.ExecuteScalar<int>(
                    "select count(*)::int from jobs where sweep_id = @id and state in ('queued', 'running')", new { id = submission.SweepId });
                if (open == 0)
                {
                    break;
                }
                if (DateTime.UtcNow > deadline || nodes.All(n => n.HasExited))
                {
                    throw new WorkFailedException($"the sweep did not finish in time ({open} jobs still open)");
                }
                Thread.Sleep(200);
            }
            var figures = connection.QuerySingle<(double Makespan, double TotalJobSeconds, int Results, int Failed)>("""
                select extract(epoch from (select max(r.stored_at) from results r join jobs j using (job_id) where j.sweep_id = s.sweep_id) - s.created_at)::float8,
                       (select coalesce(sum(r.seconds), 0) from results r join jobs j using (job_id) where j.sweep_id = s.sweep_id)::float8,
                       (select count(*) from results r join jobs j using (job_id) where j.sweep_id = s.sweep_id)::int,
                       (select count(*) from jobs j where j.sweep_id = s.sweep_id and j.state <> 'succeeded')::int
                from sweeps s where s.sweep_id = @id
                """, new { id = submission.SweepId });
            var slots = settings.Nodes * settings.Slots;
            var ideal = figures.TotalJobSeconds / slots;
            var ratio = figures.Makespan / ideal;
            var dispatch = nodes.SelectMany(n => n.Lines)
                .Select(l => DispatchLine().Match(l))
                .Where(m => m.Success)
                .Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
                .Order()
                .ToArray();
            var p50 = LatencyStats.Percentile(dispatch, 50);
            var p99 = LatencyStats.Percentile(dispatch, 99);
            Console.Error.WriteLine($"jobs: {submission.JobsTotal} ({figures.Results} results stored, {figures.Failed} not succeeded) on {slots} slots in {settings.Nodes} processes");
            Console.Error.WriteLine($"makespan: {figures.Makespan:0.00} s; ideal (sum of job times / slots): {ideal:0.00} s; ratio {ratio:0.0000} (target <= 1.03)");
            Console.Error.WriteLine($"dispatch latency (RequestWork -> JobAssigned, {dispatch.Length} assignments): p50 {p50:0.000} ms, p99 {p99:0.000} ms");
            if (settings.Json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, double>
                {
                    ["makespan_ratio"] = Math.Round(ratio, 4),
                    ["dispatch_p50_ms"] = Math.Round(p50, 3),
                    ["dispatch_p99_ms"] = Math.Round(p99, 3),
                }));
            }
            return figures.Failed == 0 && figures.Results == submission.JobsTotal ? 0 : 1;
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Terminate();
            }
            foreach (var node in nodes)
            {
                if (!node.WaitForExit(TimeSpan.FromSeconds(20)))
                {
                    node.Kill();
                }
                node.Dispose();
            }
            NpgsqlConnection.ClearAllPools();
            using (var adminSource = Database.CreateDataSource(admin, "foldcluster-bench"))
            using (var connection = Database.Open(adminSource))
            {
                connection.Execute($"drop database if exists {dbName} with (force)");
            }
            work.Delete(recursive: true);
        }
    }


    [GeneratedRegex(@"; dispatch ([0-9]+(?:\.[0-9]+)?) ms$")]
    private static partial Regex DispatchLine();
}
