using System.Globalization;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Reports;
using Spectre.Console;

namespace FoldCluster.Cli.Commands.Reports;

/// <summary>Output shared by the report verbs: human tables on stdout, JSON and CSV for machines.</summary>
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

    /// <summary>
    /// A plain aligned text table (header, rule, rows); unlike a console widget it never wraps cells, so wide
    /// results stay readable when piped or redirected.
    /// </summary>
    public static string PlainTable(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var widths = headers.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new System.Text.StringBuilder();
        void Line(IReadOnlyList<string> cells) =>
            text.Append(string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd()).Append('\n');
        Line(headers);
        Line(widths.Select(w => new string('-', w)).ToList());
        foreach (var row in rows)
        {
            Line(row);
        }
        return text.ToString();
    }

    public static string? Modalities(string? text) => text is null ? null : ReportNames.ParseModalities(text);

    public static string? Split(string? split) => split switch
    {
        null => null,
        "utterance" or "speaker" => split,
        _ => throw new BadInputException($"--split '{split}' is not known: expected utterance or speaker"),
    };
}
