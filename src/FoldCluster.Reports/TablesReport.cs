using System.Globalization;
using FoldCluster.Core;
using FoldCluster.Reports.Figures;
using FoldCluster.Reports.Queries;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Reports.Tables;
using Npgsql;

namespace FoldCluster.Reports;

/// <summary>A confusion-matrix cell chosen by method and modality set (all datasets of the table), e.g. `cmha:AVT`, `mult:AVT:np`.</summary>
public sealed record ConfusionChoice(string Method, string Modalities, bool Pretrained)
{
    public static ConfusionChoice Parse(string text)
    {
        var parts = text.Split(':', StringSplitOptions.TrimEntries);
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || (parts.Length == 3 && !parts[2].Equals("np", StringComparison.OrdinalIgnoreCase)))
        {
            throw new BadInputException($"confusion cell '{text}' is not valid: expected METHOD:MODALITIES[:np], e.g. cmha:AVT or mult:AVT:np");
        }
        return new ConfusionChoice(parts[0].ToLowerInvariant(), ReportNames.ParseModalities(parts[1]), parts.Length == 2);
    }

    public override string ToString() => $"{Method}:{Modalities}{(Pretrained ? "" : ":np")}";
}

/// <summary>What `foldcluster tables` was asked for.</summary>
public sealed record TablesRequest
{
    public required string Sweep { get; init; }

    /// <summary>Output folder; null writes nothing (only --show).</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Any of md, latex, csv.</summary>
    public IReadOnlyList<string> Formats { get; init; } = ["md", "latex", "csv"];

    public string? Split { get; init; }
    public string? Profile { get; init; }
    public bool Figures { get; init; }

    /// <summary>Confusion matrices to draw; null: CMHA and MulT A+V+T (pre-trained) of every dataset, as in Fig. 4.</summary>
    public IReadOnlyList<ConfusionChoice>? Confusion { get; init; }

    /// <summary>Jobs whose training curves to draw; null: the first finished fold of CMHA A+V+T of every dataset.</summary>
    public IReadOnlyList<long>? CurveJobs { get; init; }

    public static readonly IReadOnlyList<string> KnownFormats = ["md", "latex", "csv"];
}

/// <summary>What `foldcluster tables` produced.</summary>
public sealed record TablesOutcome(
    SweepSummary Sweep,
    IReadOnlyList<GeneratedTable> Tables,
    IReadOnlyList<string> WrittenFiles,
    IReadOnlyList<string> Messages,
    string? Split,
    string? Profile)
{
    public bool HasTables => Tables.Count > 0;
}

/// <summary>
/// `foldcluster tables`: reads the cell aggregates (SQL), lays out Tables I-III, draws the figures, and only then writes
/// every file (each through a temporary name), so a failure leaves no half-written set.
/// </summary>
public sealed class TablesReport(NpgsqlDataSource dataSource, PaperTables? paper = null)
{
    private readonly ResultQueries _queries = new(dataSource);
    private readonly PaperTables _paper = paper ?? PaperTables.Embedded;

    public async Task<TablesOutcome> GenerateAsync(TablesRequest request, CancellationToken ct = default)
    {
        if (request.Formats.Count == 0)
        {
            throw new BadInputException("no table format given: expected md, latex, csv (comma-separated)");
        }
        foreach (var format in request.Formats)
        {
            if (!TablesRequest.KnownFormats.Contains(format))
            {
                throw new BadInputException($"table format '{format}' is not known: expected md, latex, csv (comma-separated)");
            }
        }
        if (request.Split is { } requestedSplit && requestedSplit is not ("utterance" or "speaker"))
        {
            throw new BadInputException($"split '{requestedSplit}' is not known: expected utterance or speaker");
        }
        var sweep = await _queries.FindSweepAsync(request.Sweep, ct);
        var messages = new List<string>();
        if (sweep.Finished == 0)
        {
            messages.Add($"sweep '{sweep.Name}' has no finished jobs yet ({StateCounts(sweep)}); no tables written");
            return new TablesOutcome(sweep, [], [], messages, null, null);
        }

        var all = await _queries.AggregateAsync(sweep.SweepId, ResultFilter.None, ct);
        var (split, profile) = ChooseSplitAndProfile(all, request, messages);
        var cells = all.Where(c => c.Split == split && c.Profile == profile).ToList();
        var builder = new PaperTableBuilder(cells, _paper, split, profile);
        var tables = builder.BuildAll();
        if (tables.Count == 0)
        {
            messages.Add($"sweep '{sweep.Name}' has {sweep.Finished} finished jobs, but none in a table cell (A+V, A+T, V+T, A+V+T of a fusion method) of the {split} split; no tables written");
            return new TablesOutcome(sweep, [], [], messages, split, profile);
        }

        var files = new List<(string Name, byte[] Content)>();
        foreach (var table in tables)
        {
            foreach (var format in request.Formats)
            {
                var (extension, text) = format switch
                {
                    "md" => ("md", MarkdownRenderer.Render(table.Layout)),
                    "latex" => ("tex", LatexRenderer.Render(table.Layout)),
                    _ => ("csv", table.Csv),
                };
                files.Add(($"{table.Id}.{extension}", System.Text.Encoding.UTF8.GetBytes(text)));
            }
        }
        if (request.Figures)
        {
            files.AddRange(await FiguresAsync(sweep, cells, builder.Table2Extractor, split, profile, request, messages, ct));
            // Fig. 6 is not a sweep's: it is the newest stored MNIST run (`analysis mnist`), drawn beside every sweep's figures.
            files.AddRange(await Analysis.MnistFigure.GenerateAsync(dataSource, messages, ct));
        }
        var written = request.OutputDirectory is { } directory ? WriteAll(directory, files) : [];
        return new TablesOutcome(sweep, tables, written, messages, split, profile);
    }

    internal static (string Split, string Profile) ChooseSplitAndProfile(IReadOnlyList<CellAggregate> all, TablesRequest request, List<string> messages)
    {
        var splits = all.Select(c => c.Split).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
        string split;
        if (request.Split is { } wanted)
        {
            if (!splits.Contains(wanted))
            {
                throw new BadInputException($"the sweep has no finished jobs on the {wanted} split; it has: {string.Join(", ", splits)}");
            }
            split = wanted;
        }
        else
        {
            // The paper's protocol is the utterance split (DESIGN.md section 6); the other is one --split away.
            split = splits.Contains("utterance") ? "utterance" : splits[0];
            if (splits.Count > 1)
            {
                messages.Add($"the sweep has several splits ({string.Join(", ", splits)}); using the {split} split (choose with --split)");
            }
        }
        var profiles = all.Where(c => c.Split == split).Select(c => c.Profile).Distinct().OrderBy(p => p, StringComparer.Ordinal).ToList();
        if (request.Profile is { } profile)
        {
            if (!profiles.Contains(profile))
            {
                throw new BadInputException($"the sweep has no finished jobs with training profile '{profile}' on the {split} split; it has: {string.Join(", ", profiles)}");
            }
            return (split, profile);
        }
        if (profiles.Count > 1)
        {
            throw new BadInputException($"the sweep ran several training profiles ({string.Join(", ", profiles)}); a table mixes none: choose one with --profile");
        }
        return (split, profiles[0]);
    }

    private async Task<List<(string, byte[])>> FiguresAsync(
        SweepSummary sweep,
        IReadOnlyList<CellAggregate> cells,
        string? extractor,
        string split,
        string profile,
        TablesRequest request,
        List<string> messages,
        CancellationToken ct)
    {
        var figures = new List<(string, byte[])>();
        if (extractor is null)
        {
            return figures;
        }
        var datasets = cells.Select(c => c.Dataset).Distinct().OrderBy(ReportNames.DatasetRank).ThenBy(d => d, StringComparer.Ordinal).ToList();
        var explicitChoice = request.Confusion is not null;
        var choices = request.Confusion ?? [new ConfusionChoice("cmha", "AVT", true), new ConfusionChoice("mult", "AVT", true)];
        foreach (var choice in choices)
        {
            var found = false;
            foreach (var dataset in datasets)
            {
                var cell = cells.FirstOrDefault(c => c.Dataset == dataset && c.Method == choice.Method && c.Modalities == choice.Modalities
                                                     && c.Pretrained == choice.Pretrained && c.Extractor == extractor);
                if (cell is null)
                {
                    continue;
                }
                found = true;
                var key = new CellKey(dataset, split, choice.Method, choice.Modalities, choice.Pretrained, extractor, profile);
                var counts = await _queries.SummedConfusionAsync(sweep.SweepId, key, ct);
                var title = $"{ReportNames.Method(choice.Method)} {Header(choice.Modalities, choice.Pretrained)} on {ReportNames.Dataset(dataset)} ({cell.Folds} folds summed)";
                figures.Add(($"fig4-confusion-{Slug(dataset)}-{choice.Method}-{choice.Modalities.ToLowerInvariant()}{(choice.Pretrained ? "" : "-np")}.png",
                    FigureRenderer.ConfusionMatrix(counts, title)));
            }
            if (!found && explicitChoice)
            {
                messages.Add($"no finished jobs for confusion cell {choice}; no matrix drawn for it");
            }
        }

        var jobs = new List<long>();
        if (request.CurveJobs is { } chosen)
        {
            jobs.AddRange(chosen);
        }
        else
        {
            foreach (var dataset in datasets)
            {
                var key = new CellKey(dataset, split, "cmha", "AVT", true, extractor, profile);
                if (await _queries.FirstJobOfCellAsync(sweep.SweepId, key, ct) is { } job)
                {
                    jobs.Add(job);
                }
            }
        }
        foreach (var jobId in jobs)
        {
            var job = await _queries.FindJobAsync(sweep.SweepId, jobId, ct)
                ?? throw new BadInputException($"job {jobId} is not in sweep '{sweep.Name}'");
            var epochs = await _queries.EpochsAsync(jobId, ct);
            if (epochs.Count == 0)
            {
                messages.Add($"job {jobId} has no epoch metrics; no training curves drawn for it");
                continue;
            }
            var title = $"Job {jobId}: {ReportNames.Method(job.Method)} {Header(job.Modalities, job.Pretrained)}, {ReportNames.Dataset(job.Dataset)} fold {job.Fold} (attempt {job.Attempt})";
            figures.Add(($"curves-job{jobId.ToString(CultureInfo.InvariantCulture)}.png", FigureRenderer.TrainingCurves(epochs, title)));
        }
        return figures;
    }

    private static string Header(string modalities, bool pretrained) =>
        string.Join('+', modalities.ToCharArray()) + (pretrained ? "" : " (NP)");

    private static string Slug(string text) =>
        new string(text.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray());

    public static string StateCounts(SweepSummary s) =>
        $"{s.Total} jobs: {s.Queued} queued, {s.Running} running, {s.Succeeded} succeeded, {s.Failed} failed, {s.Cancelled} cancelled";

    /// <summary>Writes every file through a temporary name; an unwritable folder is bad input (exit 2) and writes nothing.</summary>
    public static IReadOnlyList<string> WriteAll(string directory, IReadOnlyList<(string Name, byte[] Content)> files)
    {
        var full = Path.GetFullPath(directory);
        try
        {
            if (File.Exists(full))
            {
                throw new IOException("it is a file, not a folder");
            }
            Directory.CreateDirectory(full);
            var probe = Path.Combine(full, $".foldcluster-write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new BadInputException($"cannot write to output folder '{directory}': {e.Message.TrimEnd('.')}");
        }
        var written = new List<string>();
        var temporary = new List<string>();
        try
        {
            foreach (var (name, content) in files)
            {
                var path = Path.Combine(full, name + ".tmp");
                File.WriteAllBytes(path, content);
                temporary.Add(path);
            }
            foreach (var path in temporary)
            {
                var final = path[..^".tmp".Length];
                File.Move(path, final, overwrite: true);
                written.Add(final);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (var path in temporary.Where(File.Exists))
            {
                File.Delete(path);
            }
            throw new BadInputException($"cannot write to output folder '{directory}': {e.Message.TrimEnd('.')}");
        }
        return written;
    }
}
