using System.Text;
using static FoldCluster.Dashboard.Html;

namespace FoldCluster.Dashboard.Pages;

/// <summary>/sweeps: every sweep with its counts per state, a progress bar, ETA, created and finished times (live).</summary>
internal static class SweepsPage
{
    public static readonly string[] States = ["queued", "running", "succeeded", "failed", "cancelled"];

    public static string Render(IReadOnlyList<SweepOverview> sweeps, DateTime nowUtc)
    {
        var sb = new StringBuilder("<h1>Sweeps</h1>");
        if (sweeps.Count == 0)
        {
            sb.Append("<p class=\"muted\">No sweeps yet. Submit one with <code>foldcluster sweep submit --preset smoke</code>.</p>");
            return Html.Page("Sweeps", "Sweeps", sb.ToString());
        }
        sb.Append("<table class=\"list\" id=\"sweeps\"><thead><tr><th>#</th><th>Sweep</th><th>State</th><th class=\"n\">Jobs</th>");
        foreach (var state in States)
        {
            sb.Append("<th class=\"n\">").Append(state).Append("</th>");
        }
        sb.Append("<th>Progress</th><th>ETA</th><th>Created</th><th>Finished</th><th></th></tr></thead><tbody>");
        foreach (var s in sweeps)
        {
            var live = Counts(s, nowUtc);
            sb.Append("<tr data-sweep=\"").Append(E(s.Name)).Append("\"><td>").Append(I(s.SweepId)).Append("</td>");
            sb.Append("<td><a href=\"/sweeps/").Append(U(s.Name)).Append("\">").Append(E(s.Name)).Append("</a></td>");
            sb.Append("<td>").Append(E(s.State)).Append("</td>");
            sb.Append(CountCells(s));
            sb.Append("<td>").Append(Svg.Progress(s)).Append("</td>");
            sb.Append("<td data-text=\"eta\">").Append(E(live.Eta)).Append("</td>");
            sb.Append("<td>").Append(Time(s.CreatedAt)).Append("</td>");
            sb.Append("<td data-text=\"finished\">").Append(E(live.Finished)).Append("</td>");
            sb.Append("<td><a href=\"/tables?sweep=").Append(U(s.Name)).Append("\">tables</a></td></tr>");
        }
        sb.Append("</tbody></table>");
        return Html.Page("Sweeps", "Sweeps", sb.ToString(), "fcSweeps('/sweeps/events');");
    }

    public static string CountCells(SweepOverview s)
    {
        var sb = new StringBuilder();
        sb.Append("<td class=\"n\" data-count=\"jobs\">").Append(I(s.Jobs)).Append("</td>");
        foreach (var (state, n) in PerState(s))
        {
            sb.Append("<td class=\"n ").Append(StateClass(state)).Append("-text").Append(n == 0 ? " zero" : "").Append("\" data-count=\"").Append(state).Append("\">").Append(I(n)).Append("</td>");
        }
        return sb.ToString();
    }

    public static IEnumerable<(string State, int N)> PerState(SweepOverview s) =>
        [("queued", s.Queued), ("running", s.Running), ("succeeded", s.Succeeded), ("failed", s.Failed), ("cancelled", s.Cancelled)];

    /// <summary>What the live pages send for one sweep: counts, bar widths, ETA and finish time as shown.</summary>
    public static LiveCounts Counts(SweepOverview s, DateTime nowUtc) => new(
        s.Name,
        s.Jobs,
        s.Queued,
        s.Running,
        s.Succeeded,
        s.Failed,
        s.Cancelled,
        PerState(s).ToDictionary(p => p.State, p => s.Jobs == 0 ? 0 : Math.Round(100.0 * p.N / s.Jobs, 2)),
        s.Eta(nowUtc) is { } eta ? Duration(eta) : s.Open == 0 ? "done" : "–",
        s.FinishedAt is { } f ? Time(f) : "–");
}

/// <summary>One sweep's counts as the live pages send them (JSON, camel-case).</summary>
internal sealed record LiveCounts(
    string Name,
    int Jobs,
    int Queued,
    int Running,
    int Succeeded,
    int Failed,
    int Cancelled,
    IReadOnlyDictionary<string, double> Widths,
    string Eta,
    string Finished);
