using System.Runtime.CompilerServices;

namespace FoldCluster.Reports.Tests;

/// <summary>
/// The golden fixture produces exactly the checked-in tables. Set FOLDCLUSTER_UPDATE_GOLDEN=1 to rewrite the expected
/// files after an intended layout change (then review the diff).
/// </summary>
public class GoldenTablesTests
{
    private static readonly string[] ExpectedFiles =
    [
        "table1.csv", "table1.md", "table1.tex",
        "table2.csv", "table2.md", "table2.tex",
        "table3.csv", "table3.md", "table3.tex",
    ];

    [Fact]
    public async Task Golden_sweep_produces_the_checked_in_markdown_latex_and_csv_tables()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var output = GoldenSweep.ScratchDirectory("golden");
        var outcome = await new TablesReport(database.DataSource).GenerateAsync(new TablesRequest { Sweep = "golden", OutputDirectory = output });

        Assert.Equal(ExpectedFiles, outcome.WrittenFiles.Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal("utterance", outcome.Split);
        Assert.Equal("paper", outcome.Profile);
        Assert.Contains(outcome.Messages, m => m.Contains("several splits (speaker, utterance); using the utterance split", StringComparison.Ordinal));

        var update = Environment.GetEnvironmentVariable("FOLDCLUSTER_UPDATE_GOLDEN") == "1";
        foreach (var name in ExpectedFiles)
        {
            var actual = await File.ReadAllTextAsync(Path.Combine(output, name));
            if (update)
            {
                await File.WriteAllTextAsync(Path.Combine(SourceDirectory(), "Expected", name), actual);
                continue;
            }
            var expected = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Expected", name));
            Assert.True(expected == actual, $"{name} differs from Expected/{name}:\n--- expected\n{expected}\n--- actual\n{actual}");
        }
    }

    [Fact]
    public async Task Table2_cells_show_mean_std_and_the_fold_count_when_incomplete()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var outcome = await new TablesReport(database.DataSource).GenerateAsync(new TablesRequest { Sweep = "golden" });
        var table2 = outcome.Tables.Single(t => t.Id == "table2");
        var grid = Tables.MarkdownRenderer.Grid(table2.Layout);

        // Hand-worked cell: UA mean 0.86, sample std sqrt(12e-4 / 9) = 0.011547 -> "86.0 ± 1.2".
        var cmha = table2.Layout.Rows.First(r => r.Stub[1] == "CMHA");
        Assert.Equal("86.0 ± 1.2", cmha.Cells[8]);
        // IEMOCAP MulT V+T has 7 of 10 folds.
        var mult = table2.Layout.Rows.First(r => r.Stub[1] == "MulT");
        Assert.EndsWith("(7/10)", mult.Cells[4], StringComparison.Ordinal);
        // MSP-IMPROV Concat A+V has one fold (UA 0.57 - 0.009): no std, "(1/10)".
        var mspConcat = table2.Layout.Rows.First(r => r.Stub[0] == "MSP-IMPROV");
        Assert.Equal("56.1 (1/10)", mspConcat.Cells[0]);
        // TFN has no two-modality runs; MSP-IMPROV TFN has no NP run either.
        var tfnRows = table2.Layout.Rows.Where(r => r.Stub[1] == "TFN").ToList();
        Assert.Equal(2, tfnRows.Count);
        Assert.All(tfnRows, r => Assert.All(r.Cells.Take(6), c => Assert.Equal("–", c)));
        Assert.Equal("–", tfnRows[1].Cells[6]);
        // The paper's value sits in a row of its own below the measured one.
        Assert.Contains("| CMHA (paper) ", grid, StringComparison.Ordinal);
        Assert.Contains("86.3", grid, StringComparison.Ordinal);
        Assert.Contains("macro-F1", table2.Layout.Caption, StringComparison.Ordinal);
        Assert.Contains("utterance split", table2.Layout.Caption, StringComparison.Ordinal);
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
