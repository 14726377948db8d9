using FoldCluster.Core;
using FoldCluster.Reports.Queries;
using ScottPlot;

namespace FoldCluster.Reports.Figures;

/// <summary>PNG figures drawn with ScottPlot; each method returns the encoded PNG so callers decide where it goes.</summary>
public static class FigureRenderer
{
    public const int ConfusionWidth = 640;
    public const int ConfusionHeight = 560;
    public const int CurvesWidth = 1200;
    public const int CurvesHeight = 520;

    /// <summary>
    /// Fig. 4 style: the confusion matrix summed over folds, each row normalised to 100 % (so the diagonal is each
    /// class's recall, whose mean is UA), with the percentage written in every cell and true classes top to bottom.
    /// </summary>
    public static byte[] ConfusionMatrix(int[][] counts, string title)
    {
        var n = Emotions.Count;
        if (counts.Length != n || counts.Any(r => r.Length != n))
        {
            throw new ArgumentException($"a confusion matrix is {n}x{n}", nameof(counts));
        }
        var percent = RowNormalised(counts);
        var plot = new Plot();
        // Heatmap rows are drawn top to bottom in array order, so true class 0 (angry) sits on top as in Fig. 4.
        var heatmap = plot.Add.Heatmap(percent);
        // White (0 %) to dark blue (100 %), as in the paper's Fig. 4: strong recall reads dark.
        heatmap.Colormap = new ScottPlot.Colormaps.CustomInterpolated([Colors.White, Color.FromHex("#6BAED6"), Color.FromHex("#08306B")]);
        heatmap.ManualRange = new ScottPlot.Range(0, 100);
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = "% of true class";
        for (var t = 0; t < n; t++)
        {
            for (var p = 0; p < n; p++)
            {
                var value = percent[t, p];
                var text = plot.Add.Text(double.IsNaN(value) ? "–" : value.ToString("F1", System.Globalization.CultureInfo.InvariantCulture), p, n - 1 - t);
                text.LabelFontSize = 20;
                text.LabelBold = t == p;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = value > 55 ? Colors.White : Colors.Black;
            }
        }
        var names = Emotions.All.Select(e => e.Name()).ToArray();
        var positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, names);
        plot.Axes.Left.SetTicks(positions.Reverse().ToArray(), names);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 16;
        plot.Axes.Left.TickLabelStyle.FontSize = 16;
        plot.XLabel("Predicted class");
        plot.YLabel("True class");
        plot.Title(title);
        plot.HideGrid();
        plot.Axes.Margins(0, 0);
        return plot.GetImageBytes(ConfusionWidth, ConfusionHeight, ImageFormat.Png);
    }

    /// <summary>Rows normalised to percent; a class with no test utterances gives NaN.</summary>
    public static double[,] RowNormalised(int[][] counts)
    {
        var n = counts.Length;
        var result = new double[n, n];
        for (var t = 0; t < n; t++)
        {
            double total = counts[t].Sum();
            for (var p = 0; p < n; p++)
            {
                result[t, p] = total == 0 ? double.NaN : 100.0 * counts[t][p] / total;
            }
        }
        return result;
    }

    /// <summary>
    /// Training curves of one job: both stages on one epoch axis (stage 2 continues after stage 1, split by a dashed
    /// line): training and validation loss on the left axis, validation UA (%) on the right axis.
    /// </summary>
    public static byte[] TrainingCurves(IReadOnlyList<EpochRow> epochs, string title)
    {
        if (epochs.Count == 0)
        {
            throw new ArgumentException("a training curve needs at least one epoch", nameof(epochs));
        }
        var plot = new Plot();
        var stage1 = epochs.Where(e => e.Stage == 1).OrderBy(e => e.Epoch).ToList();
        var stage2 = epochs.Where(e => e.Stage == 2).OrderBy(e => e.Epoch).ToList();
        var offset = stage1.Count == 0 ? 0 : stage1.Max(e => e.Epoch);
        var blue = Colors.C0;
        var orange = Colors.C1;
        var green = Colors.C2;
        var red = Colors.C3;

        void Series(IReadOnlyList<EpochRow> rows, int shift, Func<EpochRow, double?> value, string label, Color color, bool dashed, bool right)
        {
            var points = rows.Where(r => value(r) is not null).ToList();
            if (points.Count == 0)
            {
                return;
            }
            var xs = points.Select(r => (double)(r.Epoch + shift)).ToArray();
            var ys = points.Select(r => value(r)!.Value).ToArray();
            var scatter = plot.Add.Scatter(xs, ys, color);
            scatter.LegendText = label;
            scatter.LineWidth = 2;
            scatter.MarkerSize = points.Count > 40 ? 0 : 5;
            if (dashed)
            {
                scatter.LinePattern = LinePattern.Dashed;
            }
            if (right)
            {
                scatter.Axes.YAxis = plot.Axes.Right;
            }
        }

        Series(stage1, 0, e => e.TrainLoss, "stage 1 train loss (reconstruction)", blue, false, false);
        Series(stage1, 0, e => e.ValLoss, "stage 1 validation loss", blue, true, false);
        Series(stage2, offset, e => e.TrainLoss, "stage 2 train loss (classification)", orange, false, false);
        Series(stage2, offset, e => e.ValLoss, "stage 2 validation loss", orange, true, false);
        Series(stage1, 0, e => e.ValUa * 100, "stage 1 validation UA (%)", red, false, true);
        Series(stage2, offset, e => e.ValUa * 100, "validation UA (%)", green, false, true);
        if (stage1.Count > 0 && stage2.Count > 0)
        {
            var boundary = plot.Add.VerticalLine(offset + 0.5);
            boundary.LinePattern = LinePattern.Dashed;
            boundary.Color = Colors.Gray;
            boundary.LineWidth = 1;
            boundary.LegendText = "stage 1 | stage 2";
        }
        plot.XLabel("Epoch (stage 1, then stage 2)");
        plot.YLabel("Loss");
        plot.Axes.Right.Label.Text = "Validation UA (%)";
        plot.Title(title);
        plot.ShowLegend(Edge.Right);
        return plot.GetImageBytes(CurvesWidth, CurvesHeight, ImageFormat.Png);
    }
}
