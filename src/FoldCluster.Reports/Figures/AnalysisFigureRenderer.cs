using FoldCluster.Core;
using ScottPlot;

namespace FoldCluster.Reports.Figures;

/// <summary>PNG drawings of the analysis figures (Fig. 5, 7: class scatter; Fig. 8, 9: smoothed curves).</summary>
public static class AnalysisFigureRenderer
{
    public const int Width = 900;
    public const int Height = 700;

    public static readonly Color Green = Color.FromHex("#2CA02C");
    public static readonly Color Red = Color.FromHex("#D62728");

    private static readonly Color[] ClassColors = [Color.FromHex("#D62728"), Color.FromHex("#FF7F0E"), Color.FromHex("#1F77B4"), Color.FromHex("#7F7F7F")];
    private static readonly Color[] MethodColors = [Colors.C0, Colors.C1, Colors.C2, Colors.C3, Colors.C4];

    public static Color MethodColor(int index) => MethodColors[index % MethodColors.Length];

    /// <summary>2-d points coloured by emotion class (angry, happy, sad, neutral), with a legend.</summary>
    public static byte[] ClassScatter(string title, string caption, double[][] points, int[] labels)
    {
        var plot = new Plot();
        foreach (var emotion in Emotions.All)
        {
            var members = Enumerable.Range(0, points.Length).Where(i => labels[i] == (int)emotion).ToArray();
            if (members.Length == 0)
            {
                continue;
            }
            var scatter = plot.Add.ScatterPoints(members.Select(i => points[i][0]).ToArray(), members.Select(i => points[i][1]).ToArray(), ClassColors[(int)emotion]);
            scatter.MarkerSize = points.Length > 1000 ? 3 : 6;
            scatter.LegendText = $"{emotion.Name()} ({members.Length})";
        }
        Decorate(plot, title, caption, "t-SNE 1", "t-SNE 2");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Lines over steps 1..N, one per series, with a legend.</summary>
    public static byte[] Curves(string title, string caption, string xLabel, string yLabel, IReadOnlyList<(string Label, double[] Values, Color Color)> series)
    {
        var plot = new Plot();
        foreach (var (label, values, color) in series)
        {
            var xs = Enumerable.Range(1, values.Length).Select(i => (double)i).ToArray();
            var line = plot.Add.Scatter(xs, values, color);
            line.LegendText = label;
            line.LineWidth = 2;
            line.MarkerSize = 0;
        }
        Decorate(plot, title, caption, xLabel, yLabel);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    private static void Decorate(Plot plot, string title, string caption, string xLabel, string yLabel)
    {
        plot.Title(Wrap(title, 80) + "\n" + caption);
        plot.Axes.Title.Label.FontSize = 14;
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.LowerRight);
    }

    private static string Wrap(string text, int width)
    {
        var lines = new List<string>();
        var line = "";
        foreach (var word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line);
                line = word;
            }
            else
            {
                line = line.Length == 0 ? word : line + " " + word;
            }
        }
        lines.Add(line);
        return string.Join('\n', lines);
    }
}
