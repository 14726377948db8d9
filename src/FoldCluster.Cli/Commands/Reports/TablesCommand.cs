using System.ComponentModel;
using System.Globalization;
using FoldCluster.Core;
using FoldCluster.Reports;
using FoldCluster.Reports.Tables;
using FoldCluster.Storage;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Reports;

public sealed class TablesSettings : DatabaseSettings
{
    [CommandOption("--sweep <SWEEP>")]
    [Description("Sweep name or number.")]
    public string? Sweep { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Folder for table1/2/3.{md,tex,csv} and the figures (created if missing).")]
    public string? Out { get; init; }

    [CommandOption("--format <LIST>")]
    [Description("Comma-separated formats among md, latex, csv (default: all three).")]
    public string? Format { get; init; }

    [CommandOption("--split <SPLIT>")]
    [Description("utterance or speaker (default: utterance, the paper's, when the sweep has it).")]
    public string? Split { get; init; }

    [CommandOption("--profile <NAME>")]
    [Description("Training profile to tabulate, when the sweep ran several.")]
    public string? Profile { get; init; }

    [CommandOption("--figures")]
    [Description("Also draw Fig. 4-style confusion matrices (PNG), per-job training curves and, from stored feature vectors, Fig. 5-9 (each with a CSV).")]
    public bool Figures { get; init; }

    [CommandOption("--confusion <CELL>")]
    [Description("Confusion matrix to draw, METHOD:MODALITIES[[:np]] (repeatable; default cmha:AVT and mult:AVT, per dataset). Implies --figures.")]
    public string[]? Confusion { get; init; }

    [CommandOption("--curves <JOBS>")]
    [Description("Comma-separated job ids whose training curves to draw (default: the first finished fold of CMHA A+V+T per dataset). Implies --figures.")]
    public string? Curves { get; init; }

    [CommandOption("--show <TABLES>")]
    [Description("Print tables to the terminal: table1, table2, table3 or all (comma-separated).")]
    public string? Show { get; init; }

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Sweep))
        {
            return ValidationResult.Error("--sweep is required (a sweep name or number)");
        }
        if (Out is null && Show is null)
        {
            return ValidationResult.Error("give --out DIR to write the tables, --show table2 to print them, or both");
        }
        return ValidationResult.Success();
    }
}

/// <summary>`foldcluster tables`: the paper's Tables I-III and figures from one sweep (DESIGN.md section 10).</summary>
public sealed class TablesCommand : Command<TablesSettings>
{
    private static readonly string[] TableIds = ["table1", "table2", "table3"];

    public override int Execute(CommandContext context, TablesSettings settings, CancellationToken cancellationToken)
    {
        var formats = (settings.Format ?? "md,latex,csv").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(f => f.ToLowerInvariant() switch { "markdown" => "md", "tex" => "latex", var x => x }).Distinct().ToList();
        var show = ParseShow(settings.Show);
        var request = new TablesRequest
        {
            Sweep = settings.Sweep!,
            OutputDirectory = settings.Out,
            Formats = formats,
            Split = ReportConsole.Split(settings.Split),
            Profile = settings.Profile,
            Figures = settings.Out is not null && (settings.Figures || settings.Confusion is not null || settings.Curves is not null),
            Confusion = settings.Confusion?.Select(ConfusionChoice.Parse).ToList(),
            CurveJobs = settings.Curves is null ? null : ParseJobs(settings.Curves),
        };
        using var dataSource = Database.CreateDataSource(settings.ConnectionString());
        var outcome = new TablesReport(dataSource).GenerateAsync(request, cancellationToken).GetAwaiter().GetResult();
        foreach (var message in outcome.Messages)
        {
            Console.Error.WriteLine(message);
        }
        if (request.Figures && outcome.Split is { } split && outcome.Profile is { } profile)
        {
            // Fig. 5-9 from the stored feature vectors; MINE and DCCA need TorchSharp, which Reports does not reference.
            AnalysisCommands.ConfigureThreads(null);
            var messages = new List<string>();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var figures = new FoldCluster.Reports.Analysis.AnalysisFigures(dataSource, new Analysis.TorchAnalysisEstimators(cancellationToken))
                .GenerateAsync(outcome.Sweep.SweepId, split, profile, messages, cancellationToken).GetAwaiter().GetResult();
            messages.ForEach(Console.Error.WriteLine);
            foreach (var file in TablesReport.WriteAll(settings.Out!, figures))
            {
                Console.Error.WriteLine($"wrote {file}");
            }
            Console.Error.WriteLine($"analysis figures (Fig. 5-9): {figures.Count / 2} in {clock.Elapsed.TotalSeconds:F0} s");
        }
        foreach (var file in outcome.WrittenFiles)
        {
            Console.Error.WriteLine($"wrote {file}");
        }
        foreach (var id in show)
        {
            var table = outcome.Tables.FirstOrDefault(t => t.Id == id);
            if (table is null)
            {
                if (outcome.HasTables)
                {
                    Console.Error.WriteLine($"{id}: the sweep has no data for it");
                }
                continue;
            }
            var stdout = ReportConsole.Stdout();
            stdout.WriteLine();
            stdout.Write(new Text($"{table.Layout.Title}. {table.Layout.Caption}", new Style(decoration: Decoration.Bold)));
            stdout.WriteLine();
            stdout.WriteLine();
            Console.Out.Write(MarkdownRenderer.Grid(table.Layout));
            foreach (var note in table.Layout.Notes)
            {
                Console.Out.WriteLine();
                Console.Out.WriteLine(note);
            }
        }
        return 0;
    }

    private static IReadOnlyList<string> ParseShow(string? show)
    {
        if (show is null)
        {
            return [];
        }
        var ids = new List<string>();
        foreach (var item in show.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToLowerInvariant()))
        {
            var id = item switch
            {
                "all" => null,
                "1" or "i" or "table1" => "table1",
                "2" or "ii" or "table2" => "table2",
                "3" or "iii" or "table3" => "table3",
                _ => throw new BadInputException($"--show '{item}' is not known: expected table1, table2, table3 or all"),
            };
            ids.AddRange(id is null ? TableIds : [id]);
        }
        return ids.Distinct().ToList();
    }

    private static List<long> ParseJobs(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
                ? id
                : throw new BadInputException($"--curves '{s}' is not a job id: expected comma-separated positive numbers"))
            .ToList();
}
