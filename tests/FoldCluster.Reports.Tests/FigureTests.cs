using System.Buffers.Binary;
using FoldCluster.Reports.Figures;
using SkiaSharp;

namespace FoldCluster.Reports.Tests;

/// <summary>Figures are real PNGs of the documented size with drawn content (not a blank canvas).</summary>
public class FigureTests
{
    [Fact]
    public async Task Tables_with_figures_draws_fig4_confusion_matrices_and_training_curves()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var output = GoldenSweep.ScratchDirectory("figures");
        var outcome = await new TablesReport(database.DataSource).GenerateAsync(new TablesRequest
        {
            Sweep = "golden", OutputDirectory = output, Formats = ["md"], Figures = true,
        });
        var pngs = outcome.WrittenFiles.Where(f => f.EndsWith(".png", StringComparison.Ordinal)).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(5, pngs.Count);
        Assert.Equal(
            ["fig4-confusion-iemocap-cmha-avt.png", "fig4-confusion-iemocap-mult-avt.png", "fig4-confusion-msp-improv-cmha-avt.png", "fig4-confusion-msp-improv-mult-avt.png"],
            pngs.Where(p => p!.StartsWith("fig4", StringComparison.Ordinal)));
        Assert.Single(pngs, p => p!.StartsWith("curves-job", StringComparison.Ordinal));
        // The MSP-IMPROV CMHA job has no epoch metrics: said, not drawn.
        Assert.Contains(outcome.Messages, m => m.Contains("has no epoch metrics", StringComparison.Ordinal));

        AssertPng(Path.Combine(output, "fig4-confusion-iemocap-cmha-avt.png"), FigureRenderer.ConfusionWidth, FigureRenderer.ConfusionHeight);
        AssertPng(Path.Combine(output, pngs.Single(p => p!.StartsWith("curves", StringComparison.Ordinal))!), FigureRenderer.CurvesWidth, FigureRenderer.CurvesHeight);
    }

    [Fact]
    public async Task Chosen_confusion_cells_are_drawn_and_missing_ones_reported()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var output = GoldenSweep.ScratchDirectory("figures-chosen");
        var outcome = await new TablesReport(database.DataSource).GenerateAsync(new TablesRequest
        {
            Sweep = "golden", OutputDirectory = output, Formats = ["csv"], Figures = true,
            Confusion = [ConfusionChoice.Parse("concat:A+V+T:np"), ConfusionChoice.Parse("tfn:AV")],
            CurveJobs = [],
        });
        var pngs = outcome.WrittenFiles.Select(Path.GetFileName).Where(f => f!.EndsWith(".png", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["fig4-confusion-iemocap-concat-avt-np.png", "fig4-confusion-msp-improv-concat-avt-np.png"], pngs);
        Assert.Contains("no finished jobs for confusion cell tfn:AV;", string.Join('\n', outcome.Messages), StringComparison.Ordinal);
    }

    [Fact]
    public void Row_normalised_matrix_puts_each_class_recall_on_the_diagonal()
    {
        int[][] counts = [[8, 2, 0, 0], [1, 3, 0, 0], [0, 0, 5, 5], [0, 0, 0, 0]];
        var percent = FigureRenderer.RowNormalised(counts);
        Assert.Equal(80, percent[0, 0], 12);
        Assert.Equal(25, percent[1, 0], 12);
        Assert.Equal(50, percent[2, 3], 12);
        Assert.True(double.IsNaN(percent[3, 3]));
        AssertPngBytes(FigureRenderer.ConfusionMatrix(counts, "unit"), FigureRenderer.ConfusionWidth, FigureRenderer.ConfusionHeight);
    }

    private static void AssertPng(string path, int width, int height) => AssertPngBytes(File.ReadAllBytes(path), width, height);

    private static void AssertPngBytes(byte[] bytes, int width, int height)
    {
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.Equal(signature, bytes.Take(8));
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)));
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.Equal(width, bitmap.Width);
        var colours = new HashSet<uint>();
        for (var y = 0; y < bitmap.Height; y += 3)
        {
            for (var x = 0; x < bitmap.Width; x += 3)
            {
                colours.Add((uint)bitmap.GetPixel(x, y));
            }
        }
        // A blank or single-colour canvas has 1-2 colours; axes, text, cells and lines give many more.
        Assert.True(colours.Count > 20, $"only {colours.Count} distinct colours: the figure looks empty");
    }
}
