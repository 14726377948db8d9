using System.Text;
using FoldCluster.Core;
using FoldCluster.Reports;
using FoldCluster.Reports.Queries;
using static FoldCluster.Dashboard.Html;

namespace FoldCluster.Dashboard.Pages;

/// <summary>/jobs/{id}: the job's key, attempts with workers and errors, both stages' epoch curves, its confusion matrix.</summary>
internal static class JobPage
{
    private static readonly string[] ClassNames = ["angry", "happy", "sad", "neutral"];

    public static string Render(JobDetail job, IReadOnlyList<AttemptRow> attempts, JobResultDetail? result, IReadOnlyList<EpochRow> epochs)
    {
        var sb = new StringBuilder();
        sb.Append("<h1>Job ").Append(I(job.JobId)).Append(" <span class=\"badge ").Append(StateClass(job.State)).Append("\" id=\"job-state\">").Append(E(job.State)).Append("</span></h1>");
        sb.Append("<p class=\"key\"><code>").Append(E(job.JobKey)).Append("</code></p>");
        sb.Append("<table class=\"kv\"><tbody>");
        void Row(string k, string v) => sb.Append("<tr><th>").Append(k).Append("</th><td>").Append(v).Append("</td></tr>");
        Row("Sweep", $"<a href=\"/sweeps/{U(job.SweepName)}\">{E(job.SweepName)}</a>");
        Row("Dataset / split / fold", $"{E(ReportNames.Dataset(job.Dataset))} / {E(job.Split)} / {I(job.Fold)}");
        Row("Method / modalities", $"{E(ReportNames.Method(job.Method))} / {E(string.Join('+', job.Modalities.ToCharArray()))}{(job.Pretrained ? "" : " (NP: no MCWSA pre-training)")}");
        Row("Extractor / seed / profile", $"{E(job.Extractor)} / {I(job.Seed)} / {E(job.Profile)}");
        Row("Attempt", $"{I(job.Attempt)} of at most {I(job.MaxAttempts)}");
        if (job.State == "running")
        {
            Row("Running on", $"{E(job.Worker)} {E(job.Slot)}, stage {(job.Stage is { } s ? I(s) : "–")}, epoch {(job.Epoch is { } e ? I(e) : "–")}{(job.EpochsPlanned is { } p ? " of " + I(p) : "")}");
        }
        Row("Created / started / finished", $"{Time(job.CreatedAt)} / {Time(job.StartedAt)} / {Time(job.FinishedAt)}");
        if (job.Error is { Length: > 0 } error)
        {
            Row("Error", $"<span class=\"error\">{E(error)}</span>");
        }
        sb.Append("</tbody></table>");

        sb.Append("<h2>Attempts</h2>");
        if (attempts.Count == 0)
        {
            sb.Append("<p class=\"muted\">Not handed out yet.</p>");
        }
        else
        {
            sb.Append("<table class=\"list\" id=\"attempts\"><thead><tr><th class=\"n\">#</th><th>Worker</th><th>Slot</th><th>Started</th><th>Ended</th><th>Outcome</th><th>Error</th></tr></thead><tbody>");
            foreach (var a in attempts)
            {
                sb.Append("<tr><td class=\"n\">").Append(I(a.Attempt)).Append("</td><td>").Append(E(a.Worker)).Append("</td><td>").Append(E(a.Slot)).Append("</td><td>")
                    .Append(Time(a.StartedAt)).Append("</td><td>").Append(Time(a.EndedAt)).Append("</td><td>").Append(E(a.Outcome ?? "running")).Append("</td><td class=\"error\">")
                    .Append(E(a.Error)).Append("</td></tr>");
            }
            sb.Append("</tbody></table>");
        }

        if (result is not null)
        {
            sb.Append("<h2>Result <small>attempt ").Append(I(result.Attempt)).Append(", stored ").Append(Time(result.StoredAt)).Append("</small></h2>");
            sb.Append("<table class=\"list compact\" id=\"metrics\"><thead><tr><th class=\"n\">UA (%)</th><th class=\"n\">WA (%)</th><th class=\"n\">macro-F1 (%)</th><th class=\"n\">weighted-F1 (%)</th><th class=\"n\">best epoch</th><th class=\"n\">seconds</th></tr></thead><tbody><tr>");
            foreach (var v in new[] { result.Ua, result.Wa, result.MacroF1, result.WeightedF1 })
            {
                sb.Append("<td class=\"n\" data-value=\"").Append(R(v)).Append("\">").Append(N(v * 100, "F2")).Append("</td>");
            }
            sb.Append("<td class=\"n\">").Append(I(result.BestEpoch)).Append("</td><td class=\"n\">").Append(N(result.Seconds, "F1")).Append("</td></tr></tbody></table>");
        }

        sb.Append("<h2>Epochs <small>").Append(result is null ? "current attempt" : "attempt that stored the result").Append("</small></h2>");
        sb.Append(Svg.EpochCurves(epochs));
        if (epochs.Count > 0)
        {
            sb.Append("<details><summary>Stored values</summary><table class=\"list compact\" id=\"epochs\"><thead><tr><th class=\"n\">stage</th><th class=\"n\">epoch</th><th class=\"n\">training loss</th><th class=\"n\">validation loss</th><th class=\"n\">validation UA (%)</th></tr></thead><tbody>");
            foreach (var e in epochs)
            {
                sb.Append("<tr><td class=\"n\">").Append(I(e.Stage)).Append("</td><td class=\"n\">").Append(I(e.Epoch)).Append("</td><td class=\"n\">").Append(N(e.TrainLoss, "G6"))
                    .Append("</td><td class=\"n\">").Append(e.ValLoss is { } vl ? N(vl, "G6") : "–").Append("</td><td class=\"n\">").Append(e.ValUa is { } ua ? N(ua * 100, "F2") : "–").Append("</td></tr>");
            }
            sb.Append("</tbody></table></details>");
        }

        if (result is { Confusion.Length: 16 } r)
        {
            sb.Append("<h2>Confusion matrix <small>test fold; rows: true class, columns: predicted; row %</small></h2>");
            sb.Append("<table class=\"confusion\" id=\"confusion\"><thead><tr><th></th>");
            foreach (var name in ClassNames)
            {
                sb.Append("<th>").Append(name).Append("</th>");
            }
            sb.Append("</tr></thead><tbody>");
            for (var t = 0; t < Emotions.Count; t++)
            {
                var rowTotal = Enumerable.Range(0, Emotions.Count).Sum(p => r.Confusion[t * Emotions.Count + p]);
                sb.Append("<tr><th>").Append(ClassNames[t]).Append("</th>");
                for (var p = 0; p < Emotions.Count; p++)
                {
                    var n = r.Confusion[t * Emotions.Count + p];
                    var share = rowTotal == 0 ? 0 : (double)n / rowTotal;
                    var alpha = N(0.08 + 0.85 * share, "F2");
                    sb.Append("<td style=\"background:rgba(37,99,235,").Append(alpha).Append(");color:").Append(share > 0.5 ? "#fff" : "#111").Append("\" data-count=\"").Append(I(n)).Append("\">")
                        .Append(I(n)).Append("<small>").Append(N(share * 100, "F0")).Append(" %</small></td>");
                }
                sb.Append("</tr>");
            }
            sb.Append("</tbody></table>");
        }
        var live = job.State is "queued" or "running" ? 5 : (int?)null;
        return Html.Page($"Job {job.JobId}", "Sweeps", sb.ToString(), refreshSeconds: live);
    }
}
