using System.Globalization;
using System.Text;
using System.Text.Json;
using FoldCluster.Storage.Sweeps;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FoldCluster.Cli.Commands;

/// <summary>The three forms of a sweep's status: plain text, one JSON object, and the live terminal view.</summary>
internal static class SweepStatusView
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
    };

    public static string Duration(TimeSpan? span)
    {
        if (span is not { } t)
        {
            return "unknown";
        }
        if (t.TotalHours >= 1)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}h{t.Minutes:D2}m");
        }
        return t.TotalMinutes >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{t.Minutes}m{t.Seconds:D2}s")
            : string.Create(CultureInfo.InvariantCulture, $"{Math.Max(t.Seconds, 0)}s");
    }

    private static string Progress(RunningJobStatus r) => r.Stage is null
        ? "starting"
        : string.Create(CultureInfo.InvariantCulture,
            $"stage {r.Stage} epoch {r.Epoch}{(r.EpochsPlanned is { } planned ? "/" + planned.ToString(CultureInfo.InvariantCulture) : "")}");

    private static string Counts(SweepSummary s) => string.Create(CultureInfo.InvariantCulture,
        $"{s.Succeeded}/{s.Total} succeeded, {s.Running} running, {s.Queued} queued, {s.Failed} failed, {s.Cancelled} cancelled");

    /// <summary>One line for logs and non-terminal progress.</summary>
    public static string Line(SweepStatus status) => string.Create(CultureInfo.InvariantCulture,
        $"[{status.Now:HH:mm:ss}] {status.Sweep.Name}: {Counts(status.Sweep)}; ETA {Duration(status.Eta)}");

    public static string Text(SweepStatus status)
    {
        var s = status.Sweep;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"sweep {s.Name} ({s.State}), created {s.CreatedAt:yyyy-MM-dd HH:mm:ss}Z, code {s.CodeVersion}");
        text.AppendLine(CultureInfo.InvariantCulture, $"jobs: {s.Total} total, {s.Queued} queued, {s.Running} running, {s.Succeeded} succeeded, {s.Failed} failed, {s.Cancelled} cancelled");
        text.AppendLine(status.Workers.Count == 0
            ? "busy slots: none"
            : "busy slots: " + string.Join("; ", status.Workers.Select(w => $"{w.Worker}: {string.Join(", ", w.BusySlots)}")));
        foreach (var r in status.Running)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  running  {r.Worker} {r.Slot}  {r.Key}  attempt {r.Attempt}  {Progress(r)}  {Duration(status.Now - r.StartedAt)}  {Budgets(r.Failures, r.MaxAttempts, r.Losses, r.MaxLosses)}");
        }
        foreach (var f in status.Failed)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  failed   job {f.JobId} {f.Key} (attempt {f.Attempt}, {Budgets(f.Failures, f.MaxAttempts, f.Losses, f.MaxLosses)}): {f.Error}");
        }
        text.Append(CultureInfo.InvariantCulture, $"ETA: {Duration(status.Eta)}");
        if (status.MeanJobSeconds is { } mean && !s.IsFinished)
        {
            text.Append(CultureInfo.InvariantCulture, $" (mean job {Duration(TimeSpan.FromSeconds(mean))}, {Math.Max(status.Running.Count, 1)} busy slot(s))");
        }
        return text.AppendLine().ToString();
    }

    /// <summary>What a job spent of its two budgets: failures of the work (max_attempts) and losses around it (max_losses).</summary>
    private static string Budgets(int failures, int maxAttempts, int losses, int maxLosses) =>
        string.Create(CultureInfo.InvariantCulture, $"failures {failures}/{maxAttempts}, losses {losses}/{maxLosses}");

    public static string JsonObject(SweepStatus status)
    {
        var s = status.Sweep;
        return JsonSerializer.Serialize(new
        {
            name = s.Name,
            state = s.State,
            created_at = s.CreatedAt,
            code_version = s.CodeVersion,
            finished = s.IsFinished,
            jobs = new { total = s.Total, queued = s.Queued, running = s.Running, succeeded = s.Succeeded, failed = s.Failed, cancelled = s.Cancelled },
            workers = status.Workers.Select(w => new { worker = w.Worker, busy_slots = w.BusySlots }),
            running = status.Running.Select(r => new
            {
                job_id = r.JobId,
                key = r.Key,
                attempt = r.Attempt,
                worker = r.Worker,
                slot = r.Slot,
                stage = r.Stage,
                epoch = r.Epoch,
                epochs_planned = r.EpochsPlanned,
                started_at = r.StartedAt,
                elapsed_seconds = Math.Round((status.Now - r.StartedAt).TotalSeconds, 1),
                failures = r.Failures,
                max_attempts = r.MaxAttempts,
                losses = r.Losses,
                max_losses = r.MaxLosses,
            }),
            failed = status.Failed.Select(f => new
            {
                job_id = f.JobId, key = f.Key, attempt = f.Attempt, error = f.Error,
                failures = f.Failures, max_attempts = f.MaxAttempts, losses = f.Losses, max_losses = f.MaxLosses,
            }),
            mean_job_seconds = status.MeanJobSeconds is { } m ? Math.Round(m, 2) : (double?)null,
            eta_seconds = status.Eta is { } eta ? Math.Round(eta.TotalSeconds, 1) : (double?)null,
        }, Json);
    }

    /// <summary>The live view: a bar of the job states, the busy slots with their jobs' epochs, and the ETA.</summary>
    public static IRenderable Live(SweepStatus status)
    {
        var s = status.Sweep;
        var done = s.Succeeded + s.Failed + s.Cancelled;
        var chart = new BreakdownChart().Width(60).HideTagValues()
            .AddItem("succeeded", s.Succeeded, Color.Green)
            .AddItem("failed", s.Failed, Color.Red)
            .AddItem("cancelled", s.Cancelled, Color.Grey)
            .AddItem("running", s.Running, Color.Yellow)
            .AddItem("queued", s.Queued, Color.Blue);
        var header = new Markup(string.Create(CultureInfo.InvariantCulture,
            $"[bold]{Markup.Escape(s.Name)}[/] ({Markup.Escape(s.State)})  {done}/{s.Total} done: {s.Succeeded} succeeded, {s.Failed} failed, {s.Cancelled} cancelled; {s.Running} running, {s.Queued} queued   ETA [bold]{Duration(status.Eta)}[/]"));
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("worker").AddColumn("slot").AddColumn("job").AddColumn("progress").AddColumn("elapsed");
        foreach (var r in status.Running)
        {
            table.AddRow(
                Markup.Escape(r.Worker), Markup.Escape(r.Slot), Markup.Escape(r.Key), Markup.Escape(Progress(r)),
                Duration(status.Now - r.StartedAt));
        }
        if (status.Running.Count == 0)
        {
            table.AddRow("-", "-", "no job running", "", "");
        }
        return new Rows(header, chart, table);
    }
}
