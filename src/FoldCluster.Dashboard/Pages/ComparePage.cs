using System.Globalization;
using System.Text;
using FoldCluster.Reports;
using static FoldCluster.Dashboard.Html;

namespace FoldCluster.Dashboard.Pages;

/// <summary>/compare?sweep=S&amp;a=M&amp;b=M: two methods of a sweep paired per fold, as `results compare` prints them.</summary>
internal static class ComparePage
{
    private static readonly string[] Metrics = ["ua", "wa", "macro_f1", "weighted_f1"];
    private static readonly string[] ModalitySets = ["AV", "AT", "VT", "AVT"];

    public static string Render(SweepOverview sweep, IReadOnlyList<string> methods, CompareRequest? request, CompareOutcome? outcome)
    {
        var sb = new StringBuilder();
        sb.Append("<h1>Compare · ").Append(E(sweep.Name)).Append("</h1>");
        sb.Append("<form class=\"filters\" method=\"get\" action=\"/compare\"><input type=\"hidden\" name=\"sweep\" value=\"").Append(E(sweep.Name)).Append("\">");
        void Select(string name, string label, IEnumerable<(string Value, string Text)> options, string? current)
        {
            sb.Append("<label>").Append(label).Append(" <select name=\"").Append(name).Append("\">");
            foreach (var (value, text) in options)
            {
                sb.Append("<option value=\"").Append(E(value)).Append('"').Append(value == current ? " selected" : "").Append('>').Append(E(text)).Append("</option>");
            }
            sb.Append("</select></label> ");
        }
        var ordered = methods.OrderBy(ReportNames.MethodRank).ToList();
        Select("a", "a", ordered.Select(m => (m, ReportNames.Method(m))), request?.MethodA ?? ordered.LastOrDefault());
        Select("b", "b", ordered.Select(m => (m, ReportNames.Method(m))), request?.MethodB ?? ordered.FirstOrDefault());
        Select("modalities", "Modalities", ModalitySets.Select(m => (m, string.Join('+', m.ToCharArray()))), request?.Modalities ?? "AVT");
        Select("metric", "Metric", Metrics.Select(m => (m, MetricName(m))), request?.Metric ?? "ua");
        sb.Append("<label><input type=\"checkbox\" name=\"np\" value=\"1\"").Append(request is { Pretrained: false } ? " checked" : "").Append("> NP (no pre-training)</label> ");
        sb.Append("<button type=\"submit\">Compare</button></form>");
        if (request is null || outcome is null)
        {
            sb.Append("<p class=\"muted\">Choose two methods. Folds present for both are paired (seeds of a fold averaged); differences are a − b.</p>");
            return Html.Page($"Compare {sweep.Name}", "Compare", sb.ToString());
        }
        foreach (var message in outcome.Messages)
        {
            sb.Append("<p class=\"note\">").Append(E(message)).Append("</p>");
        }
        var a = ReportNames.Method(request.MethodA);
        var b = ReportNames.Method(request.MethodB);
        foreach (var d in outcome.Datasets)
        {
            var s = d.Statistics;
            sb.Append("<section class=\"comparison\" data-dataset=\"").Append(E(d.Dataset)).Append("\">");
            sb.Append("<h2>").Append(E(ReportNames.Dataset(d.Dataset))).Append(": ").Append(E(a)).Append(" vs ").Append(E(b)).Append(", ")
                .Append(E(string.Join('+', request.Modalities.ToCharArray()))).Append(request.Pretrained ? "" : " (NP)").Append(", ").Append(MetricName(request.Metric)).Append(" (%)</h2>");
            sb.Append("<p class=\"muted\">").Append(E(ReportNames.Extractor(d.Extractor))).Append(", ").Append(E(d.Split)).Append(" split, profile ").Append(E(d.Profile)).Append("</p>");
            sb.Append("<table class=\"list compact\"><thead><tr><th class=\"n\">fold</th><th class=\"n\">").Append(E(a)).Append("</th><th class=\"n\">").Append(E(b)).Append("</th><th class=\"n\">a − b</th></tr></thead><tbody>");
            foreach (var p in d.Pairs)
            {
                sb.Append("<tr><td class=\"n\">").Append(I(p.Fold)).Append("</td><td class=\"n\">").Append(P(p.A)).Append("</td><td class=\"n\">").Append(P(p.B))
                    .Append("</td><td class=\"n\">").Append(Signed(p.A - p.B)).Append("</td></tr>");
            }
            sb.Append("</tbody></table>");
            if (d.UnpairedFolds.Count > 0)
            {
                sb.Append("<p>folds without a partner (left out): ").Append(E(string.Join(", ", d.UnpairedFolds))).Append("</p>");
            }
            if (s.Pairs == 0)
            {
                sb.Append("<p>no fold has results for both methods; nothing to compare</p></section>");
                continue;
            }
            sb.Append("<ul class=\"stats\">");
            sb.Append("<li>").Append(I(s.Pairs)).Append(" paired folds: mean ").Append(E(a)).Append(' ').Append(P(s.MeanA)).Append(", mean ").Append(E(b)).Append(' ').Append(P(s.MeanB))
                .Append(", mean difference <b data-stat=\"mean-difference\" data-value=\"").Append(R(s.MeanDifference)).Append("\">").Append(Signed(s.MeanDifference)).Append("</b> points")
                .Append(s.StdDifference is { } sd ? $" (sd {P(sd)})" : "").Append("</li>");
            sb.Append("<li>");
            if (s.TTestP is { } tp)
            {
                sb.Append("paired t-test: t = ").Append(s.TStatistic!.Value.ToString("F3", CultureInfo.InvariantCulture)).Append(", df = ").Append(I(s.Pairs - 1))
                    .Append(", p = <b data-stat=\"t-test-p\" data-value=\"").Append(R(tp)).Append("\">").Append(Pv(tp)).Append("</b>");
            }
            else
            {
                sb.Append("paired t-test: undefined (needs at least two pairs whose differences are not all equal)");
            }
            sb.Append("</li><li>");
            if (s.WilcoxonP is { } wp)
            {
                sb.Append("Wilcoxon signed-rank (exact, zero differences dropped): W+ = ").Append(s.WilcoxonWPlus!.Value.ToString("0.#", CultureInfo.InvariantCulture))
                    .Append(", n = ").Append(I(s.WilcoxonN)).Append(", p = <b data-stat=\"wilcoxon-p\" data-value=\"").Append(R(wp)).Append("\">").Append(Pv(wp)).Append("</b>");
            }
            else
            {
                sb.Append("Wilcoxon signed-rank: undefined (every difference is zero)");
            }
            sb.Append("</li></ul></section>");
        }
        return Html.Page($"Compare {sweep.Name}", "Compare", sb.ToString());
    }

    public static string MetricName(string metric) => metric switch { "ua" => "UA", "wa" => "WA", "macro_f1" => "macro-F1", _ => "weighted-F1" };

    // The same number formats as `results compare` prints, so the page and the terminal read alike.
    private static string P(double fraction) => (fraction * 100).ToString("F2", CultureInfo.InvariantCulture);

    private static string Signed(double fraction) => (fraction * 100).ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture);

    public static string Pv(double p) => p < 0.0001 ? p.ToString("E2", CultureInfo.InvariantCulture) : p.ToString("F4", CultureInfo.InvariantCulture);
}
