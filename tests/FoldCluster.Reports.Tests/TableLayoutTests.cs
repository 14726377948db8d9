using FoldCluster.Reports.Queries;
using FoldCluster.Reports.Tables;

namespace FoldCluster.Reports.Tests;

/// <summary>Layout rules that need no database: names, extractor choice, random weights, formats.</summary>
public class TableLayoutTests
{
    private static CellAggregate Cell(string dataset, string method, string modalities, bool pretrained, string extractor, double ua, int folds = 10) => new()
    {
        Dataset = dataset, Split = "utterance", Method = method, Modalities = modalities, Pretrained = pretrained,
        Extractor = extractor, Profile = "tiny", Folds = folds, Runs = folds,
        UaMean = ua, UaStd = folds > 1 ? 0.01 : null, MacroF1Mean = ua - 0.01, MacroF1Std = folds > 1 ? 0.02 : null,
    };

    [Fact]
    public void Random_resnet_weights_are_named_in_the_caption_and_the_paper_row_stays_beside_them()
    {
        var cells = new[]
        {
            Cell("iemocap", "cmha", "AVT", true, "resnet50-random", 0.5),
            Cell("synthetic", "cmha", "AVT", true, "resnet50-random", 0.9),
        };
        var builder = new PaperTableBuilder(cells, PaperTables.Embedded, "utterance", "tiny");
        Assert.Equal("resnet50-random", builder.Table2Extractor);
        var table2 = builder.BuildTable2()!;
        Assert.Contains("Video features: ResNet-50 (random weights).", table2.Layout.Caption, StringComparison.Ordinal);
        Assert.Contains("random weights (no pretrained weight file was supplied)", table2.Layout.Notes[0], StringComparison.Ordinal);
        Assert.Contains("Training profile: tiny.", table2.Layout.Notes[0], StringComparison.Ordinal);
        Assert.Equal(["IEMOCAP", "CMHA"], table2.Layout.Rows[0].Stub);
        Assert.Equal("50.0 ± 1.0", table2.Layout.Rows[0].Cells[8]);
        Assert.Equal(["", "CMHA (paper)"], table2.Layout.Rows[1].Stub);
        Assert.Equal("86.3", table2.Layout.Rows[1].Cells[8]);
        // A dataset the paper does not have: a measured row, no paper row.
        Assert.Equal(["synthetic", "CMHA"], table2.Layout.Rows[2].Stub);
        Assert.Equal(3, table2.Layout.Rows.Count);

        // Table I gains a column for the extra dataset; only one extractor, so no Table III.
        var table1 = builder.BuildTable1()!;
        Assert.Equal(["IEMOCAP", "MSP-IMPROV", "synthetic"], table1.Layout.Groups.Select(g => g.Header));
        Assert.Equal(["50.0 ± 1.0", "–", "90.0 ± 1.0"], table1.Layout.Rows[^1].Cells);
        Assert.Null(builder.BuildTable3());
    }

    [Fact]
    public void Table2_prefers_the_papers_resnet_over_vggface_and_random_weights()
    {
        var cells = new[]
        {
            Cell("iemocap", "cmha", "AV", true, "vggface", 0.7),
            Cell("iemocap", "cmha", "AV", true, "resnet50-random", 0.6),
            Cell("iemocap", "cmha", "AV", true, "resnet50", 0.8),
        };
        var builder = new PaperTableBuilder(cells, PaperTables.Embedded, "utterance", "tiny");
        Assert.Equal("resnet50", builder.Table2Extractor);
        var table3 = builder.BuildTable3()!;
        Assert.Equal(["ResNet-50", "ResNet-50 (random weights)", "VGG-Face"],
            table3.Layout.Rows.Where(r => r.StartsSection).Select(r => r.Stub[0]));
        Assert.Contains("resnet50-random,IEMOCAP,AV,true,60.00,1.00,10", table3.Csv, StringComparison.Ordinal);
    }

    [Fact]
    public void Sweep_with_only_single_modality_runs_has_no_table()
    {
        var builder = new PaperTableBuilder([Cell("iemocap", "none", "A", true, "resnet50", 0.5)], PaperTables.Embedded, "utterance", "tiny");
        Assert.Empty(builder.BuildAll());
    }

    [Theory]
    [InlineData(0.8412, 0.0123, 10, "84.1 ± 1.2")]
    [InlineData(0.8412, 0.0123, 7, "84.1 ± 1.2 (7/10)")]
    [InlineData(0.5, null, 1, "50.0 (1/10)")]
    public void Cell_text_is_mean_std_and_the_fold_count_when_incomplete(double mean, double? std, int folds, string expected) =>
        Assert.Equal(expected, CellText.MeanStd(mean, std, folds));

    [Theory]
    [InlineData("resnet50", "ResNet-50")]
    [InlineData("resnet50-random", "ResNet-50 (random weights)")]
    [InlineData("vggface", "VGG-Face")]
    [InlineData("vggface-random", "VGG-Face (random weights)")]
    [InlineData("clip", "clip")]
    public void Extractor_names_read_as_in_the_paper(string stored, string shown) => Assert.Equal(shown, ReportNames.Extractor(stored));

    [Fact]
    public void Latex_escapes_specials_and_uses_booktabs_rules()
    {
        Assert.Equal("A \\& B 50\\% $\\pm$ 1 -- x\\_y", LatexRenderer.Escape("A & B 50% ± 1 – x_y"));
        var table = new ReportTable("t", "Table X", "Caption", ["Model"], [new ColumnGroup("G", ["UA (%)", "F1 (%)"])],
            [new TableRow(["m"], ["1", "2"]), new TableRow(["p"], ["3", "–"], IsPaper: true, StartsSection: true)], []);
        var latex = LatexRenderer.Render(table);
        Assert.Contains("\\toprule", latex, StringComparison.Ordinal);
        Assert.Contains("\\multicolumn{2}{c}{G}", latex, StringComparison.Ordinal);
        Assert.Contains("\\cmidrule(lr){2-3}", latex, StringComparison.Ordinal);
        Assert.Contains("\\midrule\n\\textit{p} & \\textit{3} & -- \\\\", latex, StringComparison.Ordinal);
        Assert.Contains("\\bottomrule", latex, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_quotes_fields_that_need_it()
    {
        Assert.Equal("a,\"b,c\",\"say \"\"hi\"\"\"\n", Csv.Render(["a", "b,c", "say \"hi\""], []));
    }
}
