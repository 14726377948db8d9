using System.Text;
using FoldCluster.Reports;
using static FoldCluster.Dashboard.Html;

namespace FoldCluster.Dashboard.Pages;

/// <summary>
/// /sweeps/{name}: the job grid (dataset x method x modality set x pre-training rows, ten fold cells each) coloured by
/// state, with attempts, a filter form and the job list (attempts and losses per job). Counts and cells update live.
/// </summary>
internal static class SweepPage
{
    public const int PageSize = 200;
    private static readonly string[] ModalityOrder = ["A", "V", "T", "AV", "AT", "VT", "AVT"];

    public static IReadOnlyList<IGrouping<string, GridCell>> Rows(IReadOnlyList<GridCell> cells) =>
        cells.GroupBy(c => c.RowKey)
            .OrderBy(g => ReportNames.DatasetRank(g.First().Dataset)).ThenBy(g => g.First().Dataset, StringComparer.Ordinal)
            .ThenBy(g => g.First().Split, StringComparer.Ordinal)
            .ThenBy(g => ReportNames.MethodRank(g.First().Method)).ThenBy(g => g.First().Method, StringComparer.Ordinal)
            .ThenBy(g => Array.IndexOf(ModalityOrder, g.First().Modalities))
            .ThenByDescending(g => g.First().Pretrained)
            .ThenBy(g => g.First().Extractor, StringComparer.Ordinal).ThenBy(g => g.First().Profile, StringComparer.Ordinal)
            .ToList();

    public static string Render(
        SweepOverview sweep,
        IReadOnlyList<GridCell> grid,
        IReadOnlyList<GridCell> unfiltered,
        IReadOnlyList<JobListRow> jobs,
        int totalJobs,
        JobFilter filter,
        int offset,
        string query,
        DateTime nowUtc)
    {
        var counts = SweepsPage.Counts(sweep, nowUtc);
        var sb = new StringBuilder();
        sb.Append("<h1>Sweep ").Append(E(sweep.Name)).Append(" <small>#").Append(I(sweep.SweepId)).Append(" · ").Append(E(sweep.State)).Append("</small></h1>");
        sb.Append("<div id=\"summary\" class=\"summary\"><table class=\"list compact\"><thead><tr><th class=\"n\">jobs</th>");
        foreach (var state in SweepsPage.States)
        {
            sb.Append("<th class=\"n\">").Append(state).Append("</th>");
        }
        sb.Append("<th>ETA</th><th>Created</th><th>Finished</th></tr></thead><tbody><tr>");
        sb.Append(SweepsPage.CountCells(sweep));
        sb.Append("<td data-text=\"eta\">").Append(E(counts.Eta)).Append("</td><td>").Append(Time(sweep.CreatedAt)).Append("</td>");
        sb.Append("<td data-text=\"finished\">").Append(E(counts.Finished)).Append("</td></tr></tbody></table>");
        sb.Append(Svg.Progress(sweep)).Append("</div>");
        sb.Append("<p><a href=\"/tables?sweep=").Append(U(sweep.Name)).Append("\">Tables II/III and figures</a> · <a href=\"/compare?sweep=")
            .Append(U(sweep.Name)).Append("\">compare two methods</a></p>");

        sb.Append(FilterForm(sweep, unfiltered, filter));
        sb.Append("<h2>Job grid</h2>");
        if (grid.Count == 0)
        {
            sb.Append("<p class=\"muted\">No jobs match the filters.</p>");
        }
        else
        {
            sb.Append("<table class=\"grid\" id=\"grid\"><thead><tr><th>Dataset</th><th>Method</th><th>Modalities</th><th>Pre-training</th><th>Extractor</th><th>Profile</th>");
            for (var fold = 0; fold < 10; fold++)
            {
                sb.Append("<th class=\"fold\">").Append(I(fold)).Append("</th>");
            }
            sb.Append("</tr></thead><tbody>");
            foreach (var row in Rows(grid))
            {
                var first = row.First();
                sb.Append("<tr><td>").Append(E(ReportNames.Dataset(first.Dataset))).Append("</td><td>").Append(E(ReportNames.Method(first.Method)))
                    .Append("</td><td>").Append(E(string.Join('+', first.Modalities.ToCharArray()))).Append("</td><td>").Append(first.Pretrained ? "MCWSA" : "NP")
                    .Append("</td><td>").Append(E(first.Extractor)).Append("</td><td>").Append(E(first.Profile)).Append("</td>");
                var byFold = row.ToDictionary(c => c.Fold);
                for (var fold = 0; fold < 10; fold++)
                {
                    if (!byFold.TryGetValue(fold, out var cell))
                    {
                        sb.Append("<td class=\"cell none\"></td>");
                        continue;
                    }
                    var live = Cell(cell);
                    sb.Append("<td class=\"cell ").Append(StateClass(live.S)).Append("\" data-cell=\"").Append(E(live.K)).Append("\" title=\"").Append(E(live.H))
                        .Append("\" style=\"--done:").Append(N(live.D, "F1")).Append("%\"><a href=\"/jobs/").Append(I(cell.FirstJob)).Append("\">").Append(E(live.T)).Append("</a></td>");
                }
                sb.Append("</tr>");
            }
            sb.Append("</tbody></table>");
            sb.Append("<p class=\"legend\">");
            foreach (var state in SweepsPage.States)
            {
                sb.Append("<span><i class=\"").Append(StateClass(state)).Append("\"></i>").Append(state).Append("</span>");
            }
            sb.Append("<span>cell text: attempts (a), running epoch (e), or finished/jobs with several seeds</span></p>");
        }

        sb.Append("<h2>Jobs <small>").Append(I(totalJobs)).Append(" matching; running and failed first; as loaded (counts and grid above are live)</small></h2>");
        sb.Append("<table class=\"list\" id=\"jobs\"><thead><tr><th>Job</th><th>Dataset</th><th>Method</th><th>Modalities</th><th>Fold</th><th>Seed</th><th>Extractor</th>")
            .Append("<th>State</th><th class=\"n\">Attempts</th><th class=\"n\">Losses</th><th>Worker / slot</th><th>Stage / epoch</th><th class=\"n\">UA (%)</th><th>Error</th></tr></thead><tbody>");
        foreach (var j in jobs)
        {
            sb.Append("<tr data-job=\"").Append(I(j.JobId)).Append("\"><td><a href=\"/jobs/").Append(I(j.JobId)).Append("\">").Append(I(j.JobId)).Append("</a></td><td>")
                .Append(E(ReportNames.Dataset(j.Dataset))).Append("</td><td>").Append(E(ReportNames.Method(j.Method))).Append("</td><td>")
                .Append(E(string.Join('+', j.Modalities.ToCharArray()))).Append(j.Pretrained ? "" : " (NP)").Append("</td><td>").Append(I(j.Fold)).Append("</td><td>")
                .Append(I(j.Seed)).Append("</td><td>").Append(E(j.Extractor)).Append("</td><td><span class=\"badge ").Append(StateClass(j.State)).Append("\">").Append(E(j.State))
                .Append("</span></td><td class=\"n\">").Append(I(j.Attempt)).Append("</td><td class=\"n\">").Append(I(j.Losses)).Append("</td><td>")
                .Append(E(j.Worker is null ? "–" : $"{j.Worker} {j.Slot}")).Append("</td><td>")
                .Append(j.State == "running" && j.Stage is { } st ? $"{st} / {j.Epoch}" : "–").Append("</td><td class=\"n\">")
                .Append(j.Ua is { } ua ? N(ua * 100, "F1") : "–").Append("</td><td class=\"error\">").Append(E(j.Error)).Append("</td></tr>");
        }
        sb.Append("</tbody></table>");
        if (totalJobs > offset + jobs.Count || offset > 0)
        {
            sb.Append("<p class=\"pager\">");
            if (offset > 0)
            {
                sb.Append("<a href=\"?").Append(WithOffset(query, Math.Max(0, offset - PageSize))).Append("\">← previous</a> ");
            }
            sb.Append("jobs ").Append(I(offset + 1)).Append('–').Append(I(offset + jobs.Count)).Append(" of ").Append(I(totalJobs));
            if (totalJobs > offset + jobs.Count)
            {
                sb.Append(" <a href=\"?").Append(WithOffset(query, offset + PageSize)).Append("\">next →</a>");
            }
            sb.Append("</p>");
        }
        var eventsUrl = $"/sweeps/{U(sweep.Name)}/events{(query.Length == 0 ? "" : "?" + query)}";
        return Html.Page($"Sweep {sweep.Name}", "Sweeps", sb.ToString(), $"fcSweep({System.Text.Json.JsonSerializer.Serialize(eventsUrl)});");
    }

    /// <summary>One grid cell as it is drawn and sent live: key, state, text, tooltip.</summary>
    public static LiveCell Cell(GridCell c)
    {
        var text = c.Jobs > 1
            ? $"{c.Succeeded}/{c.Jobs}"
            : c.State == "running" && c.Epoch is { } epoch ? $"e{epoch}" : $"a{c.Attempts}";
        var title = $"fold {c.Fold}: {c.Jobs} job(s), {c.Queued} queued, {c.Running} running, {c.Succeeded} succeeded, {c.Failed} failed, {c.Cancelled} cancelled; {c.Attempts} attempt(s)";
        return new LiveCell(c.Key, c.State, text, title, c.Jobs == 0 ? 0 : Math.Round(100.0 * c.Succeeded / c.Jobs, 1));
    }

    private static string FilterForm(SweepOverview sweep, IReadOnlyList<GridCell> all, JobFilter filter)
    {
        var sb = new StringBuilder("<form class=\"filters\" method=\"get\" action=\"/sweeps/").Append(U(sweep.Name)).Append("\">");
        void Select(string name, string label, IEnumerable<(string Value, string Text)> options, string? current)
        {
            sb.Append("<label>").Append(label).Append(" <select name=\"").Append(name).Append("\"><option value=\"\">any</option>");
            foreach (var (value, text) in options)
            {
                sb.Append("<option value=\"").Append(E(value)).Append('"').Append(value == current ? " selected" : "").Append('>').Append(E(text)).Append("</option>");
            }
            sb.Append("</select></label> ");
        }
        Select("dataset", "Dataset", all.Select(c => c.Dataset).Distinct().Order(StringComparer.Ordinal).Select(d => (d, ReportNames.Dataset(d))), filter.Dataset);
        Select("method", "Method", all.Select(c => c.Method).Distinct().OrderBy(ReportNames.MethodRank).Select(m => (m, ReportNames.Method(m))), filter.Method);
        Select("modalities", "Modalities", all.Select(c => c.Modalities).Distinct().OrderBy(m => Array.IndexOf(ModalityOrder, m)).Select(m => (m, string.Join('+', m.ToCharArray()))), filter.Modalities);
        Select("pretraining", "Pre-training", [("mcwsa", "MCWSA"), ("np", "NP")], filter.Pretrained switch { true => "mcwsa", false => "np", _ => null });
        Select("state", "State (job list)", SweepsPage.States.Select(s => (s, s)), filter.State);
        sb.Append("<button type=\"submit\">Filter</button> <a href=\"/sweeps/").Append(U(sweep.Name)).Append("\">clear</a></form>");
        return sb.ToString();
    }

    private static string WithOffset(string query, int offset)
    {
        var parts = query.Split('&', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith("offset=", StringComparison.Ordinal)).ToList();
        parts.Add("offset=" + I(offset));
        return E(string.Join('&', parts));
    }
}

/// <summary>A grid cell in the live feed: k = key, s = state, t = text, h = tooltip, d = percent of its jobs succeeded.</summary>
internal sealed record LiveCell(string K, string S, string T, string H, double D);
