using FoldCluster.Reports.Queries;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Reports.Tests;

/// <summary>The benchmark's generated sweep fills every cell of Tables I-III (checked small; the speed is `bench tables`).</summary>
public class BenchmarkSeedTests
{
    [Fact]
    public async Task Seeded_bench_sweep_fills_every_table_cell_with_ten_folds()
    {
        await using var database = await TestDatabase.CreateAsync();
        await TablesBenchmark.SeedAsync(database.DataSource, 1600, CancellationToken.None);
        var queries = new ResultQueries(database.DataSource);
        var sweep = await queries.FindSweepAsync(TablesBenchmark.SweepName);
        Assert.Equal(1600, sweep.Finished);
        var cells = await queries.AggregateAsync(sweep.SweepId, ResultFilter.None);
        // 2 datasets x 4 methods x 5 columns x 2 extractors.
        Assert.Equal(80, cells.Count);
        Assert.All(cells, c => Assert.Equal(10, c.Folds));
        var outcome = await new TablesReport(database.DataSource).GenerateAsync(new TablesRequest { Sweep = TablesBenchmark.SweepName });
        Assert.Equal(["table1", "table2", "table3"], outcome.Tables.Select(t => t.Id));
        Assert.DoesNotContain("(", string.Join("", outcome.Tables.Single(t => t.Id == "table2").Layout.Rows.Where(r => !r.IsPaper).SelectMany(r => r.Cells)), StringComparison.Ordinal);
    }
}
