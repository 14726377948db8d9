using System.Text;
using FoldCluster.Reports.Tables;
using static FoldCluster.Dashboard.Html;

namespace FoldCluster.Dashboard.Pages;

/// <summary>/tables?sweep=S: Tables I-III as `foldcluster tables` builds them, with downloads, and every figure Reports draws.</summary>
internal static class TablesPage
{
    public static string Chooser(IReadOnlyList<SweepOverview> sweeps, string page, string title)
    {
        var sb = new StringBuilder("<h1>").Append(E(title)).Append("</h1>");
        if (sweeps.Count == 0)
        {
            sb.Append("<p class=\"muted\">No sweeps yet.</p>");
        }
        else
        {
            sb.Append("<p>Choose a sweep:</p><ul class=\"choices\">");
            foreach (var s in sweeps)
            {
                sb.Append("<li><a href=\"/").Append(page).Append("?sweep=").Append(U(s.Name)).Append("\">").Append(E(s.Name)).Append("</a> <span class=\"muted\">")
                    .Append(I(s.Succeeded)).Append('/').Append(I(s.Jobs)).Append(" jobs succeeded</span></li>");
            }
            sb.Append("</ul>");
        }
        return Html.Page(title, page == "tables" ? "Tables" : "Compare", sb.ToString());
    }

    public static string Render(SweepOverview sweep, TablesRendering rendering)
    {
        var outcome = rendering.Outcome;
        var sb = new StringBuilder();
        sb.Append("<h1>Tables · ").Append(E(sweep.Name)).Append("</h1>");
        sb.Append("<p class=\"muted\">As <code>foldcluster tables --sweep ").Append(E(sweep.Name)).Append(" --figures</code> builds them from the database");
        if (outcome.Split is { } split)
        {
            sb.Append("; ").Append(E(split)).Append(" split, profile ").Append(E(outcome.Profile));
        }
        sb.Append(". Rendered ").Append(Time(rendering.RenderedAtUtc)).Append(", redrawn when a result is stored.</p>");
        foreach (var message in outcome.Messages)
        {
            sb.Append("<p class=\"note\">").Append(E(message)).Append("</p>");
        }
        foreach (var table in outcome.Tables)
        {
            sb.Append("<section class=\"table\" id=\"").Append(E(table.Id)).Append("\">");
            sb.Append(Table(table.Layout));
            sb.Append("<p class=\"downloads\">Download: ");
            foreach (var (extension, label) in new[] { ("csv", "CSV"), ("tex", "LaTeX"), ("md", "Markdown") })
            {
                var name = $"{table.Id}.{extension}";
                if (rendering.Files.ContainsKey(name))
                {
                    sb.Append("<a download href=\"/tables/file?sweep=").Append(U(sweep.Name)).Append(Query(outcome)).Append("&name=").Append(U(name)).Append("\">").Append(label).Append("</a> ");
                }
            }
            sb.Append("</p></section>");
        }
        var figures = rendering.Files.Keys.Where(k => k.EndsWith(".png", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (figures.Count > 0)
        {
            sb.Append("<h2>Figures</h2><div class=\"figures\">");
            foreach (var name in figures)
            {
                var src = $"/tables/file?sweep={U(sweep.Name)}{Query(outcome)}&name={U(name)}";
                sb.Append("<figure><a href=\"").Append(E(src)).Append("\"><img loading=\"lazy\" src=\"").Append(E(src)).Append("\" alt=\"").Append(E(name)).Append("\"></a><figcaption>")
                    .Append(E(name)).Append("</figcaption></figure>");
            }
            sb.Append("</div>");
        }
        return Html.Page($"Tables {sweep.Name}", "Tables", sb.ToString());
    }

    private static string Query(Reports.TablesOutcome outcome) =>
        (outcome.Split is { } s ? "&split=" + U(s) : "") + (outcome.Profile is { } p ? "&profile=" + U(p) : "");

    /// <summary>A report table as HTML: spanning group headers, stub columns, "(paper)" rows in italics.</summary>
    public static string Table(ReportTable t)
    {
        var sb = new StringBuilder();
        sb.Append("<h2>").Append(E(t.Title)).Append("</h2><p class=\"caption\">").Append(E(t.Caption)).Append("</p>");
        sb.Append("<table class=\"report\" data-table=\"").Append(E(t.Id)).Append("\"><thead><tr>");
        var hasSub = t.Groups.Any(g => g.SubHeaders.Count > 0);
        foreach (var stub in t.StubHeaders)
        {
            sb.Append("<th").Append(hasSub ? " rowspan=\"2\"" : "").Append('>').Append(E(stub)).Append("</th>");
        }
        foreach (var g in t.Groups)
        {
            sb.Append("<th class=\"group\"").Append(g.SubHeaders.Count > 1 ? $" colspan=\"{g.SubHeaders.Count}\"" : "").Append(hasSub && g.SubHeaders.Count == 0 ? " rowspan=\"2\"" : "")
                .Append('>').Append(E(g.Header)).Append("</th>");
        }
        sb.Append("</tr>");
        if (hasSub)
        {
            sb.Append("<tr>");
            foreach (var g in t.Groups)
            {
                foreach (var s in g.SubHeaders)
                {
                    sb.Append("<th>").Append(E(s)).Append("</th>");
                }
            }
            sb.Append("</tr>");
        }
        sb.Append("</thead><tbody>");
        var flat = t.FlatHeaders.Skip(t.StubHeaders.Count).ToList();
        foreach (var row in t.Rows)
        {
            sb.Append("<tr class=\"").Append(row.IsPaper ? "paper" : "measured").Append(row.StartsSection ? " section" : "").Append("\" data-stub=\"").Append(E(string.Join(" | ", row.Stub))).Append("\">");
            foreach (var stub in row.Stub)
            {
                sb.Append("<th>").Append(E(stub)).Append("</th>");
            }
            for (var i = 0; i < row.Cells.Count; i++)
            {
                sb.Append("<td data-column=\"").Append(E(i < flat.Count ? flat[i] : "")).Append("\">").Append(E(row.Cells[i])).Append("</td>");
            }
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
        if (t.Notes.Count > 0)
        {
            sb.Append("<ul class=\"notes\">");
            foreach (var note in t.Notes)
            {
                sb.Append("<li>").Append(E(note)).Append("</li>");
            }
            sb.Append("</ul>");
        }
        return sb.ToString();
    }
}
