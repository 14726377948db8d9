using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using FoldCluster.Reports;
using FoldCluster.Storage;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Reports;

public sealed class ResultsCompareSettings : DatabaseSettings
{
    [CommandOption("--sweep <SWEEP>")]
    [Description("Sweep name or number.")]
    public string? Sweep { get; init; }

    [CommandOption("-a|--method-a <METHOD>")]
    [Description("First method (differences are a - b), e.g. cmha. `--a` also works (see ReportCommands.NormalizeArguments).")]
    public string? A { get; init; }

    [CommandOption("-b|--method-b <METHOD>")]
    [Description("Second method, e.g. mult. `--b` also works.")]
    public string? B { get; init; }

    [CommandOption("--modalities <SET>")]
    [Description("Modality set (default AVT).")]
    public string? Modalities { get; init; }

    [CommandOption("--np")]
    [Description("Compare the runs without MCWSA pre-training (the NP column) instead of the pre-trained ones.")]
    public bool NotPretrained { get; init; }

    [CommandOption("--dataset <DATASET>")]
    [Description("Only this dataset (default: every dataset, one comparison each).")]
    public string? Dataset { get; init; }

    [CommandOption("--extractor <NAME>")]
    [Description("Video extractor (default: the one both methods ran with, ResNet preferred).")]
    public string? Extractor { get; init; }

    [CommandOption("--split <SPLIT>")]
    [Description("utterance or speaker (default: utterance when present).")]
    public string? Split { get; init; }

    [CommandOption("--profile <NAME>")]
    [Description("Training profile, when the sweep ran several.")]
    public string? Profile { get; init; }

    [CommandOption("--metric <METRIC>")]
    [Description("ua (default), wa, macro_f1 or weighted_f1.")]
    public string? Metric { get; init; }

    [CommandOption("--json")]
    [Description("Print the comparison as JSON on stdout (metric values as fractions).")]
    public bool Json { get; init; }

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Sweep))
        {
            return ValidationResult.Error("--sweep is required (a sweep name or number)");
        }
        if (string.IsNullOrWhiteSpace(A) || string.IsNullOrWhiteSpace(B))
        {
            return ValidationResult.Error("--a and --b are required: the two methods to compare, e.g. -a cmha -b mult");
        }
        return ValidationResult.Success();
    }
}

/// <summary>`foldcluster results compare`: is a gap between two methods more than fold noise?</summary>
public sealed class ResultsCompareCommand : Command<ResultsCompareSettings>
{
    public override int Execute(CommandContext context, ResultsCompareSettings settings, CancellationToken cancellationToken)
    {
        var request = new CompareRequest
        {
            Sweep = settings.Sweep!,
            MethodA = settings.A!,
            MethodB = settings.B!,
            Modalities = ReportConsole.Modalities(settings.Modalities) ?? "AVT",
            Pretrained = !settings.NotPretrained,
            Dataset = settings.Dataset,
            Extractor = settings.Extractor,
            Split = ReportConsole.Split(settings.Split),
            Profile = settings.Profile,
            Metric = (settings.Metric ?? "ua").ToLowerInvariant(),
        };
        using var dataSource = Database.CreateDataSource(settings.ConnectionString());
        var outcome = new MethodComparison(dataSource).CompareAsync(request, cancellationToken).GetAwaiter().GetResult();
        foreach (var message in outcome.Messages)
        {
            Console.Error.WriteLine(message);
        }
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(outcome.Datasets.Select(d => Json(request, d)).ToList(), ReportConsole.Json));
            return 0;
        }
        foreach (var d in outcome.Datasets)
        {
            WriteHuman(request, d);
        }
        return 0;
    }

    private static Dictionary<string, object?> Json(CompareRequest r, DatasetComparison d) => new()
    {
        ["dataset"] = d.Dataset,
        ["split"] = d.Split,
        ["modalities"] = r.Modalities,
        ["pretrained"] = r.Pretrained,
        ["extractor"] = d.Extractor,
        ["profile"] = d.Profile,
        ["metric"] = r.Metric,
        ["a"] = r.MethodA.ToLowerInvariant(),
        ["b"] = r.MethodB.ToLowerInvariant(),
        ["pairs"] = d.Statistics.Pairs,
        ["folds"] = d.Pairs.Select(p => new Dictionary<string, object> { ["fold"] = p.Fold, ["a"] = p.A, ["b"] = p.B }).ToList(),
        ["unpaired_folds"] = d.UnpairedFolds,
        ["mean_a"] = Finite(d.Statistics.MeanA),
        ["mean_b"] = Finite(d.Statistics.MeanB),
        ["mean_difference"] = Finite(d.Statistics.MeanDifference),
        ["std_difference"] = d.Statistics.StdDifference,
        ["t"] = d.Statistics.TStatistic,
        ["t_test_p"] = d.Statistics.TTestP,
        ["wilcoxon_n"] = d.Statistics.WilcoxonN,
        ["wilcoxon_w_plus"] = d.Statistics.WilcoxonWPlus,
        ["wilcoxon_p"] = d.Statistics.WilcoxonP,
    };

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static void WriteHuman(CompareRequest r, DatasetComparison d)
    {
        var a = ReportNames.Method(r.MethodA);
        var b = ReportNames.Method(r.MethodB);
        var metric = r.Metric switch { "ua" => "UA", "wa" => "WA", "macro_f1" => "macro-F1", _ => "weighted-F1" };
        var console = Console.Out;
        console.WriteLine();
        console.WriteLine(
            $"{ReportNames.Dataset(d.Dataset)}: {a} vs {b}, {string.Join('+', r.Modalities.ToCharArray())}{(r.Pretrained ? "" : " (NP)")}, {metric} (%), {ReportNames.Extractor(d.Extractor)}, {d.Split} split, profile {d.Profile}");
        var rows = d.Pairs.Select(p => (IReadOnlyList<string>)[p.Fold.ToString(CultureInfo.InvariantCulture), P(p.A), P(p.B), Signed(p.A - p.B)]).ToList();
        Console.Out.Write(ReportConsole.PlainTable(["fold", a, b, "a - b"], rows));
        var s = d.Statistics;
        if (d.UnpairedFolds.Count > 0)
        {
            console.WriteLine($"folds without a partner (left out): {string.Join(", ", d.UnpairedFolds)}");
        }
        if (s.Pairs == 0)
        {
            console.WriteLine("no fold has results for both methods; nothing to compare");
            return;
        }
        console.WriteLine($"{s.Pairs} paired folds: mean {a} {P(s.MeanA)}, mean {b} {P(s.MeanB)}, mean difference {Signed(s.MeanDifference)} points" +
                          (s.StdDifference is { } sd ? $" (sd {P(sd)})" : ""));
        console.WriteLine(s.TTestP is { } tp
            ? $"paired t-test: t = {s.TStatistic!.Value.ToString("F3", CultureInfo.InvariantCulture)}, df = {s.Pairs - 1}, p = {Pv(tp)}"
            : "paired t-test: undefined (needs at least two pairs whose differences are not all equal)");
        console.WriteLine(s.WilcoxonP is { } wp
            ? $"Wilcoxon signed-rank (exact, zero differences dropped): W+ = {s.WilcoxonWPlus!.Value.ToString("0.#", CultureInfo.InvariantCulture)}, n = {s.WilcoxonN}, p = {Pv(wp)}"
            : "Wilcoxon signed-rank: undefined (every difference is zero)");
    }

    private static string P(double fraction) => (fraction * 100).ToString("F2", CultureInfo.InvariantCulture);

    private static string Signed(double fraction) => (fraction * 100).ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture);

    private static string Pv(double p) => p < 0.0001 ? p.ToString("E2", CultureInfo.InvariantCulture) : p.ToString("F4", CultureInfo.InvariantCulture);
}
