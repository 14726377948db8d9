using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using FoldCluster.Storage.Nodes;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Dashboard.Tests;

/// <summary>The dashboard served in-process over a seeded database, read with plain HTTP (no browser needed).</summary>
public sealed partial class ServerTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private DashboardServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _server = await DashboardServer.StartAsync(new DashboardOptions { ConnectionString = _db.ConnectionString, Port = 0 });
        _http = new HttpClient { BaseAddress = new Uri(_server.Url) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Sweep_page_counts_every_state_of_a_copied_sweep_and_every_page_loads_nothing_from_elsewhere()
    {
        var sweepId = await DashboardBenchmark.SeedAsync(_db.DataSource, "seeded", 200, CancellationToken.None);
        await using (var c = await _db.DataSource.OpenConnectionAsync())
        {
            Assert.Equal(200, await c.ExecuteScalarAsync<int>("select count(*)::int from jobs where sweep_id = @sweepId", new { sweepId }));
            Assert.Equal(180, await c.ExecuteScalarAsync<int>("select count(*)::int from results r join jobs j using (job_id) where j.sweep_id = @sweepId", new { sweepId }));
        }
        var sweep = await GetAsync("/sweeps/seeded");
        Assert.Equal("200", Count(sweep, "jobs"));
        Assert.Equal(("8", "6", "180", "6", "0"), (Count(sweep, "queued"), Count(sweep, "running"), Count(sweep, "succeeded"), Count(sweep, "failed"), Count(sweep, "cancelled")));
        // One grid cell per (cell, fold) that has jobs; the job list shows all 200 (one page).
        await using (var c = await _db.DataSource.OpenConnectionAsync())
        {
            var cells = await c.ExecuteScalarAsync<int>("""
                select count(*)::int from (select distinct dataset, split, method, modalities, pretrained, extractor, profile, fold
                                           from jobs where sweep_id = @sweepId) t
                """, new { sweepId });
            Assert.Equal(cells, CellPattern().Matches(sweep).Count);
        }
        Assert.Equal(200, JobRows(sweep));
        var failedOnly = await GetAsync("/sweeps/seeded?state=failed");
        Assert.Equal(6, JobRows(failedOnly));
        Assert.Contains("simulated failure for the benchmark", failedOnly, StringComparison.Ordinal);

        foreach (var path in new[] { "/sweeps", "/sweeps/seeded", "/tables?sweep=seeded", "/compare?sweep=seeded&a=cmha&b=mult", "/nodes", "/tables", "/compare" })
        {
            var html = await GetAsync(path);
            Assert.DoesNotMatch(ExternalReference(), html);
        }
        var response = await _http.GetAsync("/sweeps/seeded");
        Assert.Matches(@"^app;dur=\d+\.\d\d$", response.Headers.GetValues("Server-Timing").Single());
    }

    [Fact]
    public async Task Nodes_page_shows_workers_seen_within_the_window_and_not_older_ones()
    {
        var heartbeats = new WorkerHeartbeats(_db.DataSource);
        await heartbeats.BeatAsync("127.0.0.1:4001#11", "fresh-node", "host-a", "worker", ["cpu:0", "cpu:1"], DateTime.UtcNow);
        await heartbeats.BeatAsync("127.0.0.1:4002#22", "old-node", "host-b", "worker", ["cpu:0"], DateTime.UtcNow.AddHours(-1));
        await using (var c = await _db.DataSource.OpenConnectionAsync())
        {
            await c.ExecuteAsync("update worker_heartbeats set last_seen_at = now() - interval '10 minutes' where node_name = 'old-node'");
        }
        var seen = await heartbeats.SeenWithinAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(["fresh-node"], seen.Select(w => w.NodeName));
        Assert.Equal(["cpu:0", "cpu:1"], seen[0].Slots);

        var html = await GetAsync("/nodes");
        Assert.Contains("fresh-node", html, StringComparison.Ordinal);
        Assert.DoesNotContain("old-node", html, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Matches(html, "data-worker=\"127.0.0.1:4001#11\"").Count);

        // A second beat updates the row instead of adding one.
        await heartbeats.BeatAsync("127.0.0.1:4001#11", "fresh-node", "host-a", "coordinator,worker", ["cpu:0"], DateTime.UtcNow);
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(2, await connection.ExecuteScalarAsync<int>("select count(*)::int from worker_heartbeats"));
        Assert.Equal("coordinator,worker", await connection.ExecuteScalarAsync<string>("select roles from worker_heartbeats where worker = '127.0.0.1:4001#11'"));
    }

    [Fact]
    public async Task Unknown_sweep_and_job_and_bad_filters_answer_400_with_the_reason()
    {
        var sweep = await _http.GetAsync("/sweeps/nope");
        Assert.Equal(HttpStatusCode.BadRequest, sweep.StatusCode);
        Assert.Contains("sweep &#39;nope&#39; does not exist", await sweep.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync("/jobs/12345")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync("/jobs/abc")).StatusCode);
        await DashboardBenchmark.SeedAsync(_db.DataSource, "seeded", 20, CancellationToken.None);
        var state = await _http.GetAsync("/sweeps/seeded?state=done");
        Assert.Equal(HttpStatusCode.BadRequest, state.StatusCode);
        Assert.Contains("state &#39;done&#39; is not known", await state.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<string> GetAsync(string path)
    {
        var response = await _http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return body;
    }

    private static string Count(string html, string state) =>
        Regex.Match(html, $"id=\"summary\".*?data-count=\"{state}\">(\\d+)<", RegexOptions.Singleline).Groups[1].Value;

    private static int JobRows(string html) => Regex.Matches(html, "<tr data-job=\"").Count;

    [GeneratedRegex("data-cell=\"")]
    private static partial Regex CellPattern();

    [GeneratedRegex("(src|href)=\"(https?:)?//", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();
}
