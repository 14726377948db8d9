using System.ComponentModel;
using System.Globalization;
using FoldCluster.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Reports;

public sealed class BenchTablesSettings : DatabaseSettings
{
    [CommandOption("--jobs <N>")]
    [Description("Number of finished jobs to seed (default 100000).")]
    public int Jobs { get; init; } = 100_000;

    [CommandOption("--json")]
    [Description("Last stdout line: {\"jobs\": N, \"tables_seconds\": x, ...}.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Jobs is >= 1 and <= 10_000_000 ? ValidationResult.Success() : ValidationResult.Error($"--jobs {Jobs} is out of range: expected 1 to 10000000");
}

/// <summary>
/// `foldcluster bench tables`: times `tables` (all three tables, all formats, written to a temporary folder) over a
/// temporary database seeded with N finished jobs. Target: under 2 s for 100,000. The server needs create-database rights.
/// </summary>
public sealed class BenchTablesCommand : Command<BenchTablesSettings>
{
    public const double TargetSeconds = 2.0;

    public override int Execute(CommandContext context, BenchTablesSettings settings, CancellationToken cancellationToken)
    {
        var result = TablesBenchmark.RunAsync(settings.ConnectionString(), settings.Jobs, line => Console.Error.WriteLine(line), cancellationToken)
            .GetAwaiter().GetResult();
        var verdict = result.TablesSeconds < TargetSeconds ? "met" : "MISSED";
        Console.Error.WriteLine(
            $"tables over {result.Jobs} job results: {result.TablesSeconds:F3} s (first run), {result.WarmTablesSeconds:F3} s (second run); {result.FilesWritten} files; target < {TargetSeconds:F0} s {verdict}");
        if (settings.Json)
        {
            var c = CultureInfo.InvariantCulture;
            Console.Out.WriteLine(string.Create(c,
                $"{{\"jobs\": {result.Jobs}, \"tables_seconds\": {Math.Round(result.TablesSeconds, 4)}, \"warm_tables_seconds\": {Math.Round(result.WarmTablesSeconds, 4)}, \"seed_seconds\": {Math.Round(result.SeedSeconds, 3)}, \"files\": {result.FilesWritten}, \"target_seconds\": {TargetSeconds}}}"));
        }
        return 0;
    }
}
