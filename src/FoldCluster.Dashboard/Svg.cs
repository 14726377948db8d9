using System.Globalization;
using System.Text;
using FoldCluster.Reports.Queries;
using static FoldCluster.Dashboard.Html;

namespace FoldCluster.Dashboard;

/// <summary>Charts drawn on the server as inline SVG (no script library, nothing fetched from elsewhere).</summary>
internal static class Svg
{
    private const int Width = 900;
    private const int Height = 340;
    private const int Left = 60;
    private const int Right = 60;
    private const int Top = 20;
    private const int Bottom = 40;

    private static readonly (string Series, string Label, string Colour)[] Series =
    [
        ("train_loss", "training loss", "#2563eb"),
        ("val_loss", "validation loss", "#f59e0b"),
        ("val_ua", "validation UA (%)", "#16a34a"),
    ];

    /// <summary>
    /// Both stages on one epoch axis (stage 1 then stage 2, split by a dashed line): losses on the left axis, validation
    /// UA (%) on the right. Every point carries its stored value (data-value, round-trip) so what is drawn can be checked.
    /// </summary>
    public static string EpochCurves(IReadOnlyList<EpochRow> epochs)
    {
        if (epochs.Count == 0)
        {
            return "<p class=\"muted\">No epochs stored for this job yet.</p>";
        }
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        var losses = epochs.Select(e => e.TrainLoss).Concat(epochs.Where(e => e.ValLoss is not null).Select(e => e.ValLoss!.Value)).ToList();
        var lossMax = Math.Max(1e-9, losses.Max()) * 1.05;
        var lossMin = Math.Min(0, losses.Min());
        double X(int index) => Left + (epochs.Count == 1 ? plotW / 2.0 : plotW * index / (double)(epochs.Count - 1));
        double YLoss(double v) => Top + plotH * (1 - (v - lossMin) / (lossMax - lossMin));
        double YUa(double fraction) => Top + plotH * (1 - fraction);

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" id=\"epoch-curves\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"per-epoch losses and validation UA\">");
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" class=\"plot\"/>");
        for (var i = 0; i <= 4; i++)
        {
            var y = Top + plotH * i / 4.0;
            var loss = lossMax - (lossMax - lossMin) * i / 4.0;
            var ua = 100 - 25 * i;
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{y:F1}\" y2=\"{y:F1}\" class=\"grid\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{y + 4:F1}\" class=\"axis\" text-anchor=\"end\">{loss:G3}</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - Right + 6}\" y=\"{y + 4:F1}\" class=\"axis\">{ua}</text>");
        }
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"14\" y=\"{Top + plotH / 2}\" class=\"axis\" transform=\"rotate(-90 14 {Top + plotH / 2})\" text-anchor=\"middle\">loss</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - 12}\" y=\"{Top + plotH / 2}\" class=\"axis\" transform=\"rotate(90 {Width - 12} {Top + plotH / 2})\" text-anchor=\"middle\">validation UA (%)</text>");
        var split = epochs.ToList().FindIndex(e => e.Stage == 2);
        if (split > 0)
        {
            var x = (X(split - 1) + X(split)) / 2;
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:F1}\" x2=\"{x:F1}\" y1=\"{Top}\" y2=\"{Top + plotH}\" class=\"stage-split\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x - 6:F1}\" y=\"{Top + 14}\" class=\"axis\" text-anchor=\"end\">stage 1</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 6:F1}\" y=\"{Top + 14}\" class=\"axis\">stage 2</text>");
        }
        for (var i = 0; i < epochs.Count; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(i):F1}\" y=\"{Height - Bottom + 16}\" class=\"axis\" text-anchor=\"middle\">{epochs[i].Epoch}</text>");
        }
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + plotW / 2}\" y=\"{Height - 6}\" class=\"axis\" text-anchor=\"middle\">epoch (per stage)</text>");

        foreach (var (series, label, colour) in Series)
        {
            var points = new List<(int Index, double Value, double Y)>();
            for (var i = 0; i < epochs.Count; i++)
            {
                var e = epochs[i];
                double? v = series switch { "train_loss" => e.TrainLoss, "val_loss" => e.ValLoss, _ => e.ValUa };
                if (v is { } value)
                {
                    points.Add((i, value, series == "val_ua" ? YUa(value) : YLoss(value)));
                }
            }
            if (points.Count == 0)
            {
                continue;
            }
            // One polyline per stage, so the curve does not pretend stage 2 continues stage 1.
            foreach (var stage in new[] { 1, 2 })
            {
                var own = points.Where(p => epochs[p.Index].Stage == stage).ToList();
                if (own.Count > 1)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{string.Join(' ', own.Select(p => $"{X(p.Index).ToString("F1", CultureInfo.InvariantCulture)},{p.Y.ToString("F1", CultureInfo.InvariantCulture)}"))}\"/>");
                }
            }
            foreach (var (index, value, y) in points)
            {
                var e = epochs[index];
                var shown = series == "val_ua" ? N(value * 100, "F1") + " %" : N(value, "G4");
                sb.Append(CultureInfo.InvariantCulture,
                    $"<circle cx=\"{X(index):F1}\" cy=\"{y:F1}\" r=\"3.5\" fill=\"{colour}\" class=\"point\" data-series=\"{series}\" data-stage=\"{e.Stage}\" data-epoch=\"{e.Epoch}\" data-value=\"{R(value)}\"><title>stage {e.Stage} epoch {e.Epoch}: {E(label)} {shown}</title></circle>");
            }
        }
        sb.Append("</svg>");
        sb.Append("<p class=\"legend\">");
        foreach (var (_, label, colour) in Series)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<span><i style=\"background:{colour}\"></i>{E(label)}</span>");
        }
        sb.Append("</p>");
        return sb.ToString();
    }

    /// <summary>A stacked bar of job states (widths in percent of all jobs).</summary>
    public static string Progress(SweepOverview s)
    {
        var sb = new StringBuilder("<div class=\"bar\" data-bar>");
        foreach (var (state, n) in new[] { ("succeeded", s.Succeeded), ("failed", s.Failed), ("cancelled", s.Cancelled), ("running", s.Running), ("queued", s.Queued) })
        {
            var width = s.Jobs == 0 ? 0 : 100.0 * n / s.Jobs;
            sb.Append(CultureInfo.InvariantCulture, $"<span class=\"{StateClass(state)}\" data-seg=\"{state}\" style=\"width:{width:F2}%\"></span>");
        }
        return sb.Append("</div>").ToString();
    }
}
