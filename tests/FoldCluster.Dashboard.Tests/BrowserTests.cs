using System.Globalization;
using System.Text.Json;
using Dapper;
using FoldCluster.Reports.Tables;
using FoldCluster.Tests.Shared;
using Microsoft.Playwright;

namespace FoldCluster.Dashboard.Tests;

/// <summary>The dashboard in a real browser (Chromium through Playwright) over a real local cluster and PostgreSQL.</summary>
[Collection(LiveClusterCollection.Name)]
public sealed class BrowserTests(LiveClusterFixture cluster)
{
    private string Db => cluster.Db.ConnectionString;

    [Fact]
    public async Task Sweeps_page_and_sweep_grid_show_counts_and_cells_change_without_a_reload()
    {
        var live = await cluster.SubmitAsync("dashboard-live", ["cmha", "concat"], 2);
        Assert.Equal(40, live.JobsTotal);
        var sweeps = await cluster.OpenAsync("/sweeps");
        var grid = await cluster.OpenAsync("/sweeps/dashboard-live");
        // A reload would drop these marks.
        await sweeps.EvaluateAsync("() => { window.fcMark = 'same page'; }");
        await grid.EvaluateAsync("() => { window.fcMark = 'same page'; }");
        var succeeded = sweeps.Locator("tr[data-sweep='dashboard-live'] td[data-count='succeeded']");
        var before = int.Parse(await succeeded.InnerTextAsync(), CultureInfo.InvariantCulture);
        Assert.True(before < 40, $"the sweep finished before the page was read ({before} succeeded)");

        await sweeps.WaitForFunctionAsync(
            $"() => Number(document.querySelector(\"tr[data-sweep='dashboard-live'] td[data-count='succeeded']\").textContent) > {before}",
            null, new PageWaitForFunctionOptions { Timeout = 120_000, PollingInterval = 100 });
        await LiveClusterFixture.ScreenshotAsync(grid, "sweep-running");
        await LiveClusterFixture.ScreenshotAsync(grid, "sweep-running-top", fullPage: false);
        await LiveClusterFixture.ScreenshotAsync(sweeps, "sweeps-running");

        await sweeps.WaitForFunctionAsync(
            "() => document.querySelector(\"tr[data-sweep='dashboard-live'] td[data-count='succeeded']\").textContent === '40'",
            null, new PageWaitForFunctionOptions { Timeout = 180_000, PollingInterval = 200 });
        Assert.Equal("same page", await sweeps.EvaluateAsync<string>("() => window.fcMark"));
        Assert.Equal("0", await sweeps.Locator("tr[data-sweep='dashboard-live'] td[data-count='queued']").InnerTextAsync());
        Assert.Equal("done", await sweeps.Locator("tr[data-sweep='dashboard-live'] td[data-text='eta']").InnerTextAsync());

        // The grid: twenty fold cells (two methods x ten folds, two seeds each), all green once the sweep is done.
        await grid.WaitForFunctionAsync(
            "() => document.querySelectorAll('td.cell.st-succeeded').length === 20",
            null, new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 200 });
        Assert.Equal("same page", await grid.EvaluateAsync<string>("() => window.fcMark"));
        Assert.Equal(20, await grid.Locator("td.cell[data-cell]").CountAsync());
        Assert.Equal("2/2", await grid.Locator("td.cell[data-cell]").First.InnerTextAsync());
        Assert.Equal("40", await grid.Locator("#summary td[data-count='succeeded']").InnerTextAsync());
        await LiveClusterFixture.ScreenshotAsync(sweeps, "sweeps");
        await LiveClusterFixture.ScreenshotAsync(grid, "sweep");
    }

    [Fact]
    public async Task Job_page_draws_the_epoch_curves_of_both_stages_from_the_stored_values()
    {
        await using var c = await cluster.Db.DataSource.OpenConnectionAsync();
        var jobId = await c.ExecuteScalarAsync<long>(
            "select job_id from jobs where sweep_id = @Sweep and method = 'cmha' and fold = 3", new { Sweep = cluster.FinishedSweepId });
        var stored = (await c.QueryAsync<(short Stage, int Epoch, double TrainLoss, double? ValLoss, double? ValUa)>("""
            select e.stage, e.epoch, e.train_loss, e.val_loss, e.val_ua
            from epoch_metrics e join results r on r.job_id = e.job_id and r.attempt = e.attempt
            where e.job_id = @jobId order by e.stage, e.epoch
            """, new { jobId })).ToList();
        Assert.Contains(stored, e => e.Stage == 1);
        Assert.Contains(stored, e => e.Stage == 2);
        var expected = stored.SelectMany(e => new (string, int, int, double?)[]
            {
                ("train_loss", e.Stage, e.Epoch, e.TrainLoss), ("val_loss", e.Stage, e.Epoch, e.ValLoss), ("val_ua", e.Stage, e.Epoch, e.ValUa),
            })
            .Where(p => p.Item4 is not null).Select(p => (p.Item1, p.Item2, p.Item3, p.Item4!.Value)).Order().ToList();

        var page = await cluster.OpenAsync($"/jobs/{jobId}");
        var points = await page.Locator("#epoch-curves circle.point").EvaluateAllAsync<string[][]>(
            "els => els.map(e => [e.dataset.series, e.dataset.stage, e.dataset.epoch, e.dataset.value])");
        var drawn = points.Select(p => (p[0], int.Parse(p[1], CultureInfo.InvariantCulture), int.Parse(p[2], CultureInfo.InvariantCulture),
            double.Parse(p[3], CultureInfo.InvariantCulture))).Order().ToList();
        Assert.Equal(expected, drawn);
        Assert.Equal(1, await page.Locator("#epoch-curves line.stage-split").CountAsync());
        Assert.Equal("succeeded", await page.Locator("#job-state").InnerTextAsync());
        // Its attempts, with the worker that ran each, and the confusion matrix of the stored result.
        var worker = await c.ExecuteScalarAsync<string>("select worker from job_attempts where job_id = @jobId and outcome = 'succeeded'", new { jobId });
        Assert.Contains(worker!, await page.Locator("#attempts").InnerTextAsync(), StringComparison.Ordinal);
        var confusion = await c.ExecuteScalarAsync<int[]>("select confusion from results where job_id = @jobId", new { jobId });
        var cells = await page.Locator("#confusion td").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.count)");
        Assert.Equal(confusion!.Select(n => n.ToString(CultureInfo.InvariantCulture)), cells);
        await LiveClusterFixture.ScreenshotAsync(page, "job");
    }

    [Fact]
    public async Task Table_II_cell_equals_results_query_aggregate_and_the_csv_download_equals_tables()
    {
        var query = await CliProcess.RunAsync(["results", "query", "--sweep", LiveClusterFixture.FinishedSweep, "--aggregate", "--format", "json", "--db", Db]);
        Assert.True(query.ExitCode == 0, query.StandardError);
        using var json = JsonDocument.Parse(query.StandardOutput);
        var cell = json.RootElement.EnumerateArray().Single(e => e.GetProperty("method").GetString() == "cmha" && e.GetProperty("modalities").GetString() == "AVT");
        var folds = cell.GetProperty("folds").GetInt32();
        Assert.Equal(10, folds);
        var ua = CellText.MeanStd(cell.GetProperty("ua_mean").GetDouble(), cell.GetProperty("ua_std").GetDouble(), folds);
        var f1 = CellText.MeanStd(cell.GetProperty("macro_f1_mean").GetDouble(), cell.GetProperty("macro_f1_std").GetDouble(), folds);

        var page = await cluster.OpenAsync($"/tables?sweep={LiveClusterFixture.FinishedSweep}");
        var row = page.Locator("table[data-table='table2'] tr.measured").Filter(new LocatorFilterOptions { HasText = "CMHA" });
        Assert.Equal(ua, await row.Locator("td[data-column='A+V+T UA (%)']").InnerTextAsync());
        Assert.Equal(f1, await row.Locator("td[data-column='A+V+T F1 (%)']").InnerTextAsync());
        Assert.Matches(@"^\d+\.\d ± \d+\.\d$", ua);

        // The CSV download is the file `foldcluster tables` writes.
        var folder = Directory.CreateTempSubdirectory("foldcluster-dashboard-tables-");
        try
        {
            var tables = await CliProcess.RunAsync(["tables", "--sweep", LiveClusterFixture.FinishedSweep, "--out", folder.FullName, "--format", "csv", "--db", Db]);
            Assert.True(tables.ExitCode == 0, tables.StandardError);
            var href = await page.Locator("section#table2 .downloads a", new PageLocatorOptions { HasText = "CSV" }).GetAttributeAsync("href");
            using var http = new HttpClient();
            var downloaded = await http.GetByteArrayAsync(cluster.Server.Url + href);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(folder.FullName, "table2.csv")), downloaded);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
        Assert.True(await page.Locator(".figures img").CountAsync() >= 1, "the figures Reports draws are on the page");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.figures img')].every(i => i.complete && i.naturalWidth > 0)");
        await LiveClusterFixture.ScreenshotAsync(page, "tables");
    }

    [Fact]
    public async Task Compare_page_p_values_equal_results_compare()
    {
        var compare = await CliProcess.RunAsync(["results", "compare", "--sweep", LiveClusterFixture.FinishedSweep, "--a", "cmha", "--b", "concat", "--json", "--db", Db]);
        Assert.True(compare.ExitCode == 0, compare.StandardError);
        using var json = JsonDocument.Parse(compare.StandardOutput);
        var expected = json.RootElement.EnumerateArray().Single();
        Assert.Equal(10, expected.GetProperty("pairs").GetInt32());

        var page = await cluster.OpenAsync($"/compare?sweep={LiveClusterFixture.FinishedSweep}&a=cmha&b=concat");
        foreach (var (stat, key) in new[] { ("t-test-p", "t_test_p"), ("wilcoxon-p", "wilcoxon_p"), ("mean-difference", "mean_difference") })
        {
            var shown = page.Locator($"[data-stat='{stat}']");
            var value = double.Parse((await shown.GetAttributeAsync("data-value"))!, CultureInfo.InvariantCulture);
            Assert.Equal(expected.GetProperty(key).GetDouble(), value);
            if (key != "mean_difference")
            {
                Assert.Equal(Pages.ComparePage.Pv(value), await shown.InnerTextAsync());
            }
        }
        await LiveClusterFixture.ScreenshotAsync(page, "compare");
    }

    [Fact]
    public async Task Nodes_page_lists_both_workers_with_their_slots_from_the_heartbeats()
    {
        var page = await cluster.OpenAsync("/nodes");
        var rows = await page.Locator("#nodes tr[data-worker]").EvaluateAllAsync<string[][]>("els => els.map(e => [e.dataset.worker, e.dataset.slot])");
        Assert.Equal(2, rows.Select(r => r[0]).Distinct().Count());
        Assert.Equal(["cpu:0", "cpu:0", "cpu:1", "cpu:1"], rows.Select(r => r[1]).Order().ToArray());
        var text = await page.Locator("#nodes").InnerTextAsync();
        Assert.Contains("n1", text, StringComparison.Ordinal);
        Assert.Contains("n2", text, StringComparison.Ordinal);
        Assert.Contains("coordinator,worker", text, StringComparison.Ordinal);
        await LiveClusterFixture.ScreenshotAsync(page, "nodes");
    }
}
