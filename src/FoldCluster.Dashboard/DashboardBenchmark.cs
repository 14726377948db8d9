using System.Diagnostics;
using System.Globalization;
using Dapper;
using FoldCluster.Storage;
using Npgsql;
using NpgsqlTypes;

namespace FoldCluster.Dashboard;

/// <summary>Server times of one page over repeated requests (milliseconds, from the Server-Timing header).</summary>
public sealed record PageTimings(string Page, double FirstMs, double P50Ms, double P99Ms, double MaxMs, int Requests, int Bytes);

public sealed record DashboardBenchmarkResult(int Jobs, double SeedSeconds, PageTimings SweepPage, PageTimings TablePage);

/// <summary>
/// `foldcluster bench dashboard`: bulk-inserts N jobs (binary COPY; most succeeded with a result, the rest queued,
/// running or failed) into a throwaway sweep of the given database, serves the dashboard on a free loopback port, times
/// the sweep page and the Table II page over repeated requests, and deletes the sweep again.
/// </summary>
public static class DashboardBenchmark
{
    public const double TargetMilliseconds = 200;

    public static async Task<DashboardBenchmarkResult> RunAsync(string connectionString, int jobs, int requests, Action<string> log, CancellationToken ct = default)
    {
        if (jobs is < 10 or > 1_000_000)
        {
            throw new Core.BadInputException($"--jobs {jobs} is out of range: expected 10 to 1000000");
        }
        if (requests is < 5 or > 10_000)
        {
            throw new Core.BadInputException($"--requests {requests} is out of range: expected 5 to 10000");
        }
        var name = "bench-dashboard-" + Guid.NewGuid().ToString("N")[..10];
        await using var dataSource = Database.CreateDataSource(connectionString, "foldcluster-bench");
        await MigrationRunner.MigrateAsync(dataSource, MigrationRunner.Embedded(), _ => { }, ct);
        long sweepId = 0;
        try
        {
            log($"bench dashboard: copying {jobs} jobs into throwaway sweep '{name}'");
            var seed = Stopwatch.StartNew();
            sweepId = await SeedAsync(dataSource, name, jobs, ct);
            seed.Stop();
            log($"seeded in {seed.Elapsed.TotalSeconds:F2} s; timing the pages over {requests} requests each");
            await using var server = await DashboardServer.StartAsync(new DashboardOptions { ConnectionString = connectionString, Port = 0 }, ct);
            using var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromMinutes(2) };
            var sweepPage = await TimeAsync(http, "sweep", $"/sweeps/{Uri.EscapeDataString(name)}", requests, ct);
            var tablePage = await TimeAsync(http, "table2", $"/tables?sweep={Uri.EscapeDataString(name)}", requests, ct);
            return new DashboardBenchmarkResult(jobs, seed.Elapsed.TotalSeconds, sweepPage, tablePage);
        }
        finally
        {
            if (sweepId != 0)
            {
                await using var connection = await Database.OpenAsync(dataSource, CancellationToken.None);
                await connection.ExecuteAsync(new CommandDefinition("delete from sweeps where sweep_id = @sweepId", new { sweepId }, commandTimeout: 600));
                log($"deleted throwaway sweep '{name}'");
            }
        }
    }

    private static async Task<PageTimings> TimeAsync(HttpClient http, string page, string path, int requests, CancellationToken ct)
    {
        var times = new List<double>();
        var bytes = 0;
        for (var i = 0; i <= requests; i++)
        {
            using var response = await http.GetAsync(path, ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
            }
            bytes = body.Length;
            var timing = response.Headers.GetValues("Server-Timing").First();
            times.Add(double.Parse(timing[(timing.IndexOf("dur=", StringComparison.Ordinal) + 4)..], CultureInfo.InvariantCulture));
        }
        var first = times[0];
        // The first request pays for what later ones reuse (connections, JIT, the tables' figures); it is reported apart.
        var rest = times.Skip(1).Order().ToList();
        return new PageTimings(page, first, Percentile(rest, 0.50), Percentile(rest, 0.99), rest[^1], rest.Count, bytes);
    }

    private static double Percentile(IReadOnlyList<double> sorted, double q)
    {
        var rank = (int)Math.Ceiling(q * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    /// <summary>
    /// Job i: fold i mod 10, two datasets, the four methods, the five Table II columns, two extractors, seed i / 800 (as
    /// `bench tables` lays them out). 90 % succeeded with a result, then failed, running and queued ones.
    /// </summary>
    public static async Task<long> SeedAsync(NpgsqlDataSource dataSource, string name, int jobs, CancellationToken ct)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct);
        var sweepId = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "insert into sweeps (name, spec, spec_hash, code_version) values (@name, 'generated by bench dashboard', 'bench', 'bench') returning sweep_id",
            new { name }, cancellationToken: ct));
        string[] datasets = ["iemocap", "msp-improv"];
        string[] methods = ["concat", "tfn", "mult", "cmha"];
        string[] columns = ["AV", "AT", "VT", "AVT", "AVT"];
        string[] extractors = ["resnet50", "vggface"];
        var now = DateTime.UtcNow;
        string State(int i) => (i % 100) switch { < 90 => "succeeded", < 93 => "failed", < 96 => "running", _ => "queued" };
        await using (var writer = await connection.BeginBinaryImportAsync(
            "copy jobs (sweep_id, job_key, dataset, split, fold, method, modalities, pretrained, extractor, seed, profile, state, attempt, worker, slot, stage, epoch, error, started_at, finished_at) from stdin (format binary)", ct))
        {
            for (var i = 0; i < jobs; i++)
            {
                var state = State(i);
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(sweepId, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync("bench|" + i.ToString(CultureInfo.InvariantCulture), NpgsqlDbType.Text, ct);
                await writer.WriteAsync(datasets[i / 10 % 2], NpgsqlDbType.Text, ct);
                await writer.WriteAsync("utterance", NpgsqlDbType.Text, ct);
                await writer.WriteAsync(i % 10, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(methods[i / 20 % 4], NpgsqlDbType.Text, ct);
                await writer.WriteAsync(columns[i / 80 % 5], NpgsqlDbType.Text, ct);
                await writer.WriteAsync(i / 80 % 5 != 3, NpgsqlDbType.Boolean, ct);
                await writer.WriteAsync(extractors[i / 400 % 2], NpgsqlDbType.Text, ct);
                await writer.WriteAsync(i / 800, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync("paper", NpgsqlDbType.Text, ct);
                await writer.WriteAsync(state, NpgsqlDbType.Text, ct);
                await writer.WriteAsync(state == "queued" ? 0 : 1 + i % 3 / 2, NpgsqlDbType.Integer, ct);
                if (state == "queued")
                {
                    await writer.WriteNullAsync(ct);
                    await writer.WriteNullAsync(ct);
                }
                else
                {
                    await writer.WriteAsync($"bench-{i % 8}", NpgsqlDbType.Text, ct);
                    await writer.WriteAsync($"cpu:{i % 2}", NpgsqlDbType.Text, ct);
                }
                if (state == "running")
                {
                    await writer.WriteAsync((short)2, NpgsqlDbType.Smallint, ct);
                    await writer.WriteAsync(7, NpgsqlDbType.Integer, ct);
                }
                else
                {
                    await writer.WriteNullAsync(ct);
                    await writer.WriteNullAsync(ct);
                }
                if (state == "failed")
                {
                    await writer.WriteAsync("simulated failure for the benchmark", NpgsqlDbType.Text, ct);
                }
                else
                {
                    await writer.WriteNullAsync(ct);
                }
                if (state == "queued")
                {
                    await writer.WriteNullAsync(ct);
                }
                else
                {
                    await writer.WriteAsync(now.AddSeconds(-jobs + i), NpgsqlDbType.TimestampTz, ct);
                }
                if (state is "succeeded" or "failed")
                {
                    await writer.WriteAsync(now.AddSeconds(-jobs + i + 60), NpgsqlDbType.TimestampTz, ct);
                }
                else
                {
                    await writer.WriteNullAsync(ct);
                }
            }
            await writer.CompleteAsync(ct);
        }

        var succeeded = (await connection.QueryAsync<(long JobId, int Attempt)>(new CommandDefinition(
            "select job_id, attempt from jobs where sweep_id = @sweepId and state = 'succeeded' order by job_id", new { sweepId }, cancellationToken: ct))).AsList();
        var random = new Random(15);
        await using (var writer = await connection.BeginBinaryImportAsync(
            "copy results (job_id, attempt, ua, wa, macro_f1, weighted_f1, confusion, best_epoch, seconds) from stdin (format binary)", ct))
        {
            foreach (var (jobId, attempt) in succeeded)
            {
                var ua = 0.55 + 0.35 * random.NextDouble();
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(jobId, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(attempt, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(ua, NpgsqlDbType.Double, ct);
                await writer.WriteAsync(Math.Min(1, ua + 0.01), NpgsqlDbType.Double, ct);
                await writer.WriteAsync(ua * 0.99, NpgsqlDbType.Double, ct);
                await writer.WriteAsync(Math.Min(1, ua * 1.01), NpgsqlDbType.Double, ct);
                await writer.WriteAsync(new[] { 80 + (int)(jobId % 7), 5, 5, 10, 6, 70, 4, 20, 2, 3, 90, 5, 12, 15, 8, 65 }, NpgsqlDbType.Array | NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(10 + (int)(jobId % 20), NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(60.0 + jobId % 30, NpgsqlDbType.Double, ct);
            }
            await writer.CompleteAsync(ct);
        }
        await connection.ExecuteAsync(new CommandDefinition("analyze jobs; analyze results;", commandTimeout: 600, cancellationToken: ct));
        return sweepId;
    }
}
