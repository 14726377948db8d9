using System.Globalization;
using System.Text;
using FoldCluster.Storage.Features;
using Npgsql;
using ScottPlot;

namespace FoldCluster.Reports.Analysis;

/// <summary>
/// Fig. 6 from the newest stored MNIST run (`foldcluster analysis mnist`): per channel its kept test digits, inputs
/// above and reconstructions below, with each channel's test reconstruction error; the PNG and a CSV of every plotted
/// number (one row per drawn image: its 784 pixels, with the channel's MSE).
/// </summary>
public static class MnistFigure
{
    public const string Name = "fig6-mnist";
    public const int Side = 28;

    private const int Gap = 4;
    private const int ChannelGap = 16;
    private const int Scale = 2;

    public static async Task<IReadOnlyList<(string Name, byte[] Content)>> GenerateAsync(NpgsqlDataSource dataSource, List<string> messages, CancellationToken ct = default)
    {
        var run = await new MnistRunStore(dataSource).LatestAsync(ct);
        if (run is null)
        {
            messages.Add("no stored MNIST run (`foldcluster analysis mnist` makes one): Fig. 6 not drawn");
            return [];
        }
        if (run.Channels.Count == 0 || run.Channels.Any(c => c.Samples.Count == 0))
        {
            messages.Add($"MNIST run {run.RunId} has a channel without kept test digits: Fig. 6 not drawn");
            return [];
        }
        return [($"{Name}.png", Render(run)), ($"{Name}.csv", Encoding.UTF8.GetBytes(Csv(run)))];
    }

    /// <summary>One row per drawn image: run, channel, its digits, the channel's test MSE, position, digit, input or output, pixel 0..783 (row by row).</summary>
    public static string Csv(MnistRunRecord run)
    {
        var csv = new StringBuilder("run_id,channel,digits,test_mse,position,digit,image");
        for (var p = 0; p < Side * Side; p++)
        {
            csv.Append(CultureInfo.InvariantCulture, $",p{p}");
        }
        csv.Append('\n');
        foreach (var channel in run.Channels)
        {
            foreach (var sample in channel.Samples)
            {
                foreach (var (image, pixels) in new[] { ("input", sample.Input), ("output", sample.Output) })
                {
                    csv.Append(CultureInfo.InvariantCulture, $"{run.RunId},{channel.Channel},{DigitRange(channel.Digits)},{channel.TestMse:R},{sample.Position},{sample.Digit},{image}");
                    foreach (var v in pixels)
                    {
                        csv.Append(',').Append(v.ToString("R", CultureInfo.InvariantCulture));
                    }
                    csv.Append('\n');
                }
            }
        }
        return csv.ToString();
    }

    /// <summary>The PNG's size in pixels: the digit grid at <c>Scale</c> x, with room for the title and the axis labels.</summary>
    public static (int Width, int Height) ImageSize(MnistRunRecord run)
    {
        var (width, height) = GridSize(run);
        return (width * Scale + 120, height * Scale + 150);
    }

    private static (int Width, int Height) GridSize(MnistRunRecord run) =>
        (run.Channels.Count * ChannelWidth(run) + (run.Channels.Count - 1) * ChannelGap, 2 * Side + Gap);

    private static int ChannelWidth(MnistRunRecord run)
    {
        var columns = run.Channels.Max(c => c.Samples.Count);
        return columns * Side + (columns - 1) * Gap;
    }

    /// <summary>The grid as one grey-scale image (white digits on black, as MNIST), channels side by side.</summary>
    public static byte[] Render(MnistRunRecord run)
    {
        var channelWidth = ChannelWidth(run);
        var (width, height) = GridSize(run);
        var grid = new double[height, width];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                grid[y, x] = double.NaN;
            }
        }
        for (var c = 0; c < run.Channels.Count; c++)
        {
            var left = c * (channelWidth + ChannelGap);
            foreach (var sample in run.Channels[c].Samples)
            {
                var x0 = left + sample.Position * (Side + Gap);
                for (var p = 0; p < Side * Side; p++)
                {
                    grid[p / Side, x0 + p % Side] = sample.Input[p];
                    grid[Side + Gap + p / Side, x0 + p % Side] = sample.Output[p];
                }
            }
        }
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(grid);
        heatmap.Colormap = new ScottPlot.Colormaps.Grayscale();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.NaNCellColor = Colors.White;
        // Heatmap cell (row r, column x) is centred at (x, height - 1 - r): the input row is on top.
        plot.Axes.Bottom.SetTicks(
            run.Channels.Select((_, c) => c * (channelWidth + ChannelGap) + (channelWidth - 1) / 2.0).ToArray(),
            run.Channels.Select(ch => $"channel {ch.Channel} (digits {DigitRange(ch.Digits)})\ntest MSE {ch.TestMse:F4}").ToArray());
        plot.Axes.Left.SetTicks([height - 1 - (Side - 1) / 2.0, (Side - 1) / 2.0], ["Input", "Output"]);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 16;
        plot.Axes.Left.TickLabelStyle.FontSize = 18;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Left.MajorTickStyle.Length = 0;
        var baseline = string.Join(", ", run.Channels.Select(ch => $"{ch.MeanImageMse:F4}"));
        plot.Title($"Fig. 6: MCWSA (CMHA fusion) reconstructing MNIST test digits fed to three channels\n"
                   + $"MSE per pixel on {run.TestPerChannel} test digits per channel (predicting the mean training image: {baseline}); "
                   + $"run {run.RunId}: {run.TrainPerChannel} training digits per channel, {run.Epochs} epoch{(run.Epochs == 1 ? "" : "s")}, seed {run.Seed}, {run.Source}");
        plot.Axes.Title.Label.FontSize = 14;
        plot.HideGrid();
        plot.Axes.Margins(0, 0);
        // Square pixels: a digit keeps its shape whatever the canvas.
        plot.Axes.SquareUnits();
        var size = ImageSize(run);
        return plot.GetImageBytes(size.Width, size.Height, ImageFormat.Png);
    }

    private static string DigitRange(int[] digits) => $"{digits.Min()}-{digits.Max()}";
}
