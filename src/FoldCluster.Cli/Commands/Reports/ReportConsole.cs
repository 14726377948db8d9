using System.Globalization;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Reports;
using Spectre.Console;

namespace FoldCluster.Cli.Commands.Reports;

/// <summary>Output helpers shared by the report verbs: human tables on stdout, JSON and CSV for machines.</summary>
internal static class ReportConsole
{
    /// <summary>A console on stdout for human-readable results (Spectre's own console goes to stderr).</summary>
    public static IAnsiConsole Stdout() => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string Number(double? value) => value?.ToString("R", CultureInfo.InvariantCulture) ?? "";

    public static string ParseFormat(string? format, params string[] allowed)
    {
        var value = (format ?? allowed[0]).Trim().ToLowerInvariant();
        if (!allowed.Contains(value))
        {
            throw new BadInputException($"--format '{format}' is not known: expected {string.Join(", ", allowed)}");
        }
        return value;
    }

    public static string? Modalities(string? text) => text is null ? null : ReportNames.ParseModalities(text);

    public static string? Split(string? split) => split switch
    {
        null => null,
        "utterance" or "speaker" => split,
        _ => throw new BadInputException($"--split '{split}' is not known: expected utterance or speaker"),
    };
}
