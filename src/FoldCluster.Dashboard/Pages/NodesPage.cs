using System.Text;
using FoldCluster.Reports;
using FoldCluster.Storage.Nodes;
using static FoldCluster.Dashboard.Html;

namespace FoldCluster.Dashboard.Pages;

/// <summary>/nodes: the workers whose heartbeat the database saw in the last minutes, each slot with its running job and epoch.</summary>
internal static class NodesPage
{
    public static string Render(IReadOnlyList<WorkerHeartbeat> workers, IReadOnlyList<SlotJob> running, TimeSpan window, DateTime nowUtc)
    {
        var sb = new StringBuilder("<h1>Nodes <small>workers seen in the last ").Append(I((long)window.TotalMinutes)).Append(" minutes</small></h1>");
        if (workers.Count == 0)
        {
            sb.Append("<p class=\"muted\">No worker has written a heartbeat in that time. Start one with <code>foldcluster node start --roles coordinator,worker</code>.</p>");
            return Html.Page("Nodes", "Nodes", sb.ToString(), refreshSeconds: 5);
        }
        var bySlot = running.ToLookup(r => (r.Worker, r.Slot));
        sb.Append("<table class=\"list\" id=\"nodes\"><thead><tr><th>Node</th><th>Host</th><th>Roles</th><th>Worker id</th><th>Up since</th><th>Last seen</th><th>Slot</th><th>Job</th><th>Sweep</th><th>Cell</th><th>Stage / epoch</th><th>Running for</th></tr></thead><tbody>");
        foreach (var w in workers)
        {
            var age = nowUtc - DateTime.SpecifyKind(w.LastSeenAt, DateTimeKind.Utc);
            var stale = age > TimeSpan.FromSeconds(30);
            var slots = w.Slots.Length == 0 ? [""] : w.Slots;
            for (var i = 0; i < slots.Length; i++)
            {
                sb.Append("<tr data-worker=\"").Append(E(w.Worker)).Append("\" data-slot=\"").Append(E(slots[i])).Append('"').Append(stale ? " class=\"stale\"" : "").Append('>');
                if (i == 0)
                {
                    var span = slots.Length > 1 ? $" rowspan=\"{slots.Length}\"" : "";
                    sb.Append("<td").Append(span).Append('>').Append(E(w.NodeName)).Append("</td><td").Append(span).Append('>').Append(E(w.Host)).Append("</td><td").Append(span).Append('>')
                        .Append(E(w.Roles)).Append("</td><td").Append(span).Append("><code>").Append(E(w.Worker)).Append("</code></td><td").Append(span).Append('>').Append(Time(w.StartedAt))
                        .Append("</td><td").Append(span).Append('>').Append(Duration(age)).Append(" ago").Append(stale ? " (silent)" : "").Append("</td>");
                }
                sb.Append("<td>").Append(E(slots[i])).Append("</td>");
                var job = bySlot[(w.Worker, slots[i])].FirstOrDefault();
                if (job is null)
                {
                    sb.Append("<td colspan=\"5\" class=\"muted\">idle</td></tr>");
                    continue;
                }
                sb.Append("<td><a href=\"/jobs/").Append(I(job.JobId)).Append("\">").Append(I(job.JobId)).Append("</a> (attempt ").Append(I(job.Attempt)).Append(")</td><td><a href=\"/sweeps/")
                    .Append(U(job.SweepName)).Append("\">").Append(E(job.SweepName)).Append("</a></td><td>").Append(E(ReportNames.Method(job.Method))).Append(' ')
                    .Append(E(string.Join('+', job.Modalities.ToCharArray()))).Append(" fold ").Append(I(job.Fold)).Append("</td><td>")
                    .Append(job.Stage is { } st ? $"{st} / {job.Epoch?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "–"}{(job.EpochsPlanned is { } p ? " of " + I(p) : "")}" : "starting")
                    .Append("</td><td>").Append(job.StartedAt is { } s ? Duration(nowUtc - DateTime.SpecifyKind(s, DateTimeKind.Utc)) : "–").Append("</td></tr>");
            }
        }
        sb.Append("</tbody></table>");
        return Html.Page("Nodes", "Nodes", sb.ToString(), refreshSeconds: 5);
    }
}
