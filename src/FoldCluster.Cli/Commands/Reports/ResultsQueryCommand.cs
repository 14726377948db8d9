using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Reports.Queries;
using FoldCluster.Storage;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Reports;

public sealed class ResultsQuerySettings : DatabaseSettings
{
    [CommandOption("--sweep <SWEEP>")]
    [Description("Sweep name or number.")]
    public string? Sweep { get; init; }

    [CommandOption("--dataset <DATASET>")]
    [Description("Only this dataset (e.g. iemocap, msp-improv).")]
    public string? Dataset { get; init; }

    [CommandOption("--split <SPLIT>")]
    [Description("Only this split: utterance or speaker.")]
    public string? Split { get; init; }

    [CommandOption("--method <METHOD>")]
    [Description("Only this fusion method: concat, tfn, mult, cmha.")]
    public string? Method { get; init; }

    [CommandOption("--modalities <SET>")]
    [Description("Only this modality set: AV, AT, VT, AVT (A+V+T also accepted).")]
    public string? Modalities { get; init; }

    [CommandOption("--extractor <NAME>")]
    [Description("Only this video extractor (e.g. resnet50, resnet50-random, vggface).")]
    public string? Extractor { get; init; }

    [CommandOption("--fold <K>")]
    [Description("Only test fold K (0-9).")]
    public int? Fold { get; init; }

    [CommandOption("--state <STATE>")]
    [Description("Only jobs in this state: queued, running, succeeded, failed, cancelled (ignored with --aggregate, which counts finished jobs only).")]
    public string? State { get; init; }

    [CommandOption("--aggregate")]
    [Description("One row per table cell: mean and sample std over folds, number of folds present (finished jobs only).")]
    public bool Aggregate { get; init; }

    [CommandOption("--format <FORMAT>")]
    [Description("table (default), csv or json. UA, WA and F1 are fractions in [[0, 1]] in csv and json.")]
    public string? Format { get; init; }

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Sweep))
        {
            return ValidationResult.Error("--sweep is required (a sweep name or number)");
        }
        if (Fold is < 0 or > 9)
        {
            return ValidationResult.Error($"--fold {Fold} is out of range: expected 0 to 9");
        }
        if (State is not null && !ResultQueries.States.Contains(State))
        {
            return ValidationResult.Error($"--state '{State}' is not known: expected one of {string.Join(", ", ResultQueries.States)}");
        }
        return ValidationResult.Success();
    }
}

/// <summary>`foldcluster results query`: per-job rows or per-cell aggregates of one sweep.</summary>
public sealed class ResultsQueryCommand : Command<ResultsQuerySettings>
{
    public override int Execute(CommandContext context, ResultsQuerySettings settings, CancellationToken cancellationToken)
    {
        var format = ReportConsole.ParseFormat(settings.Format, "table", "csv", "json");
        var filter = new ResultFilter
        {
            Dataset = settings.Dataset,
            Split = ReportConsole.Split(settings.Split),
            Method = settings.Method,
            Modalities = ReportConsole.Modalities(settings.Modalities),
            Extractor = settings.Extractor,
            Fold = settings.Fold,
            State = settings.State,
        };
        using var dataSource = Database.CreateDataSource(settings.ConnectionString());
        var queries = new ResultQueries(dataSource);
        var sweep = queries.FindSweepAsync(settings.Sweep!, cancellationToken).GetAwaiter().GetResult();
        if (settings.Aggregate)
        {
            if (settings.State is not null and not "succeeded")
            {
                Console.Error.WriteLine($"note: --aggregate counts finished (succeeded) jobs only; --state {settings.State} is ignored");
            }
            var cells = queries.AggregateAsync(sweep.SweepId, filter, cancellationToken).GetAwaiter().GetResult();
            if (cells.Count == 0)
            {
                Console.Error.WriteLine($"no finished jobs in sweep '{sweep.Name}' match the filter; empty result");
            }
            WriteAggregates(cells, format);
        }
        else
        {
            var rows = queries.QueryJobsAsync(sweep.SweepId, filter, cancellationToken).GetAwaiter().GetResult();
            if (rows.Count == 0)
            {
                Console.Error.WriteLine(filter.IsEmpty
                    ? $"sweep '{sweep.Name}' has no jobs; empty result"
                    : $"no jobs in sweep '{sweep.Name}' match the filter; empty result");
            }
            WriteJobs(rows, format);
        }
        return 0;
    }

    private static readonly string[] JobColumns =
    [
        "job_id", "dataset", "split", "fold", "method", "modalities", "pretrained", "extractor", "seed", "profile",
        "state", "attempts", "failures", "losses", "ua", "wa", "macro_f1", "weighted_f1", "best_epoch", "seconds",
    ];

    /// <summary>Where and how each result was computed (sql/0005); in csv and json only, the terminal table stays narrow.</summary>
    private static readonly string[] ProvenanceColumns =
    [
        "code_version", "torchsharp_version", "libtorch_version", "device", "device_name", "cpu_model", "cpu_isa",
        "threads", "worker_host", "feature_cache_key", "utterance_modalities", "utterances", "left_out",
    ];

    private static readonly string[] CellColumns =
    [
        "dataset", "split", "method", "modalities", "pretrained", "extractor", "profile", "folds", "runs",
        "ua_mean", "ua_std", "wa_mean", "wa_std", "macro_f1_mean", "macro_f1_std", "weighted_f1_mean", "weighted_f1_std",
        "machines", "versions",
    ];

    private static object?[] Values(JobResultRow r) =>
    [
        r.JobId, r.Dataset, r.Split, r.Fold, r.Method, r.Modalities, r.Pretrained, r.Extractor, r.Seed, r.Profile,
        r.State, r.Attempts, r.Failures, r.Losses, r.Ua, r.Wa, r.MacroF1, r.WeightedF1, r.BestEpoch, r.Seconds,
    ];

    private static object?[] ProvenanceValues(JobResultRow r) =>
    [
        r.CodeVersion, r.TorchSharpVersion, r.LibtorchVersion, r.Device, r.DeviceName, r.CpuModel, r.CpuIsa,
        r.Threads, r.WorkerHost, r.FeatureCacheKey, r.UtteranceModalities, r.Utterances,
        r.LeftOut is null ? null : JsonDocument.Parse(r.LeftOut).RootElement.Clone(),
    ];

    private static object?[] Values(CellAggregate c) =>
    [
        c.Dataset, c.Split, c.Method, c.Modalities, c.Pretrained, c.Extractor, c.Profile, c.Folds, c.Runs,
        c.UaMean, c.UaStd, c.WaMean, c.WaStd, c.MacroF1Mean, c.MacroF1Std, c.WeightedF1Mean, c.WeightedF1Std,
        c.Machines, c.Versions,
    ];

    private static void WriteJobs(IReadOnlyList<JobResultRow> rows, string format)
    {
        if (format == "table")
        {
            Write(JobColumns, rows.Select(Values).ToList(), format);
            return;
        }
        Write([.. JobColumns, .. ProvenanceColumns], rows.Select(r => (object?[])[.. Values(r), .. ProvenanceValues(r)]).ToList(), format);
    }

    private static void WriteAggregates(IReadOnlyList<CellAggregate> cells, string format) =>
        Write(CellColumns, cells.Select(Values).ToList(), format);

    private static void Write(string[] columns, IReadOnlyList<object?[]> rows, string format)
    {
        switch (format)
        {
            case "json":
                var objects = rows.Select(r => columns.Zip(r).ToDictionary(p => p.First, p => p.Second)).ToList();
                Console.Out.WriteLine(JsonSerializer.Serialize(objects, ReportConsole.Json));
                break;
            case "csv":
                Console.Out.Write(FoldCluster.Reports.Tables.Csv.Render(columns, rows.Select(r => (IReadOnlyList<string>)r.Select(Text).ToList())));
                break;
            default:
                if (rows.Count == 0)
                {
                    return;
                }
                Console.Out.Write(ReportConsole.PlainTable(columns, rows.Select(r => (IReadOnlyList<string>)r.Select(Human).ToList()).ToList()));
                break;
        }
    }

    private static string Text(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        double d => ReportConsole.Number(d),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Terminal view: metrics rounded to four places so the table stays narrow.</summary>
    private static string Human(object? value) => value switch
    {
        null => "–",
        double d => d.ToString("0.####", CultureInfo.InvariantCulture),
        _ => Text(value),
    };
}
