using FoldCluster.Core;

namespace FoldCluster.Reports.Tests;

/// <summary>`tables` and `results compare` behaviour around the edges: nothing finished, bad folders, choices.</summary>
public class TablesReportTests
{
    [Fact]
    public async Task Sweep_without_finished_jobs_says_so_and_writes_nothing()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var output = GoldenSweep.ScratchDirectory("waiting");
        var outcome = await new TablesReport(database.DataSource).GenerateAsync(new TablesRequest { Sweep = "waiting", OutputDirectory = output });
        Assert.False(outcome.HasTables);
        Assert.Empty(outcome.WrittenFiles);
        Assert.Empty(Directory.GetFiles(output));
        Assert.Equal("sweep 'waiting' has no finished jobs yet (10 jobs: 9 queued, 1 running, 0 succeeded, 0 failed, 0 cancelled); no tables written", Assert.Single(outcome.Messages));
    }

    [Fact]
    public async Task Unwritable_output_folder_is_bad_input_and_leaves_nothing_behind()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var scratch = GoldenSweep.ScratchDirectory("unwritable");
        var file = Path.Combine(scratch, "not-a-folder");
        await File.WriteAllTextAsync(file, "x");
        var error = await Assert.ThrowsAsync<BadInputException>(() =>
            new TablesReport(database.DataSource).GenerateAsync(new TablesRequest { Sweep = "golden", OutputDirectory = file }));
        Assert.StartsWith($"cannot write to output folder '{file}'", error.Message, StringComparison.Ordinal);
        Assert.Equal([file], Directory.GetFileSystemEntries(scratch));
    }

    [Fact]
    public async Task Unknown_sweep_and_unknown_format_are_bad_input()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var report = new TablesReport(database.DataSource);
        var unknown = await Assert.ThrowsAsync<BadInputException>(() => report.GenerateAsync(new TablesRequest { Sweep = "missing" }));
        Assert.Contains("no sweep named 'missing'; known sweeps:", unknown.Message, StringComparison.Ordinal);
        var format = await Assert.ThrowsAsync<BadInputException>(() => report.GenerateAsync(new TablesRequest { Sweep = "golden", Formats = ["docx"] }));
        Assert.Contains("'docx'", format.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Speaker_split_is_one_option_away()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var outcome = await new TablesReport(database.DataSource).GenerateAsync(new TablesRequest { Sweep = "golden", Split = "speaker" });
        Assert.Equal("speaker", outcome.Split);
        var table2 = outcome.Tables.Single(t => t.Id == "table2");
        Assert.Equal("dataset,method,modalities,pretrained,ua_mean,ua_std,f1_mean,f1_std,folds\nIEMOCAP,cmha,AVT,true,50.00,,50.00,,1\n", table2.Csv);
        Assert.Contains("speaker split", table2.Layout.Caption, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compare_pairs_folds_and_matches_the_hand_worked_differences()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var outcome = await new MethodComparison(database.DataSource).CompareAsync(new CompareRequest
        {
            Sweep = "golden", MethodA = "cmha", MethodB = "MULT", Dataset = "iemocap",
        });
        var d = Assert.Single(outcome.Datasets);
        Assert.Equal("resnet50", d.Extractor);
        Assert.Equal(10, d.Statistics.Pairs);
        // Differences: 0.02 on folds 0-8, -0.01 on fold 9: mean 0.017, sd sqrt(8.1e-4 / 9) = 0.0094868, t = 17/3.
        Assert.Equal(0.017, d.Statistics.MeanDifference, 12);
        Assert.Equal(17.0 / 3, d.Statistics.TStatistic!.Value, 9);
        Assert.Equal(54, d.Statistics.WilcoxonWPlus);
        Assert.Equal(4.0 / 1024, d.Statistics.WilcoxonP!.Value, 12);
        Assert.InRange(d.Statistics.TTestP!.Value, 1e-4, 1e-3);
    }

    [Fact]
    public async Task Compare_with_nothing_to_pair_says_so()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var comparison = new MethodComparison(database.DataSource);
        var none = await comparison.CompareAsync(new CompareRequest { Sweep = "golden", MethodA = "tfn", MethodB = "lstm", Modalities = "AV" });
        Assert.Empty(none.Datasets);
        Assert.Equal("no finished jobs of tfn or lstm match (A+V) in sweep 'golden'", Assert.Single(none.Messages));

        // TFN never ran with two modalities: each dataset says so.
        var oneSided = await comparison.CompareAsync(new CompareRequest { Sweep = "golden", MethodA = "tfn", MethodB = "mult", Modalities = "AV" });
        Assert.Empty(oneSided.Datasets);
        Assert.Equal(["IEMOCAP: no finished jobs of tfn (A+V); nothing to pair", "MSP-IMPROV: no finished jobs of tfn (A+V); nothing to pair"], oneSided.Messages);

        // MSP-IMPROV has TFN with pre-training only, so its NP comparison has one side missing.
        var partial = await comparison.CompareAsync(new CompareRequest { Sweep = "golden", MethodA = "tfn", MethodB = "cmha", Pretrained = false });
        Assert.Equal("iemocap", Assert.Single(partial.Datasets).Dataset);
        Assert.Contains(partial.Messages, m => m.StartsWith("MSP-IMPROV: no finished jobs of tfn", StringComparison.Ordinal));
    }

    [Fact]
    public void Paper_tables_are_embedded_with_every_printed_number()
    {
        var paper = PaperTables.Embedded;
        Assert.Equal(63, paper.Values.Count);
        Assert.Equal(86.3, paper.Find("II", "iemocap", "cmha", "resnet", "AVT", true)!.UaPercent);
        Assert.Equal(0.865, paper.Find("II", "IEMOCAP", "cmha", "resnet", "AVT", true)!.F1);
        Assert.Equal(70.4, paper.Find("III", "msp-improv", "cmha", "vggface", "AVT", true)!.UaPercent);
        Assert.Null(paper.Find("II", "iemocap", "tfn", "resnet", "AV", true));
        var literature = paper.LiteratureRows();
        Assert.Equal(6, literature.Count);
        Assert.Equal("ProgNet [57]", literature[0].Model);
        Assert.False(literature.Single(r => r.Model == "MulT [15]").UaByDataset.ContainsKey("MSPIMPROV"));
    }
}
