using System.Globalization;

namespace FoldCluster.Reports.Tables;

/// <summary>A column group: a header over one or more sub-columns (e.g. "A+V" over "UA (%)" and "F1 (%)").</summary>
public sealed record ColumnGroup(string Header, IReadOnlyList<string> SubHeaders);

/// <summary>
/// A table row. <see cref="IsPaper"/> marks a row that repeats the paper's printed value for the measured row above
/// it; <see cref="StartsSection"/> draws a rule above the row (a new dataset or extractor block).
/// </summary>
public sealed record TableRow(IReadOnlyList<string> Stub, IReadOnlyList<string> Cells, bool IsPaper = false, bool StartsSection = false);

/// <summary>A rendered-independent table: the same model becomes Markdown, LaTeX and the terminal view.</summary>
public sealed record ReportTable(
    string Id,
    string Title,
    string Caption,
    IReadOnlyList<string> StubHeaders,
    IReadOnlyList<ColumnGroup> Groups,
    IReadOnlyList<TableRow> Rows,
    IReadOnlyList<string> Notes)
{
    public int CellColumns => Groups.Sum(g => Math.Max(1, g.SubHeaders.Count));

    /// <summary>Flat headers, one per column ("A+V UA (%)"), for formats without spanning headers.</summary>
    public IReadOnlyList<string> FlatHeaders =>
        StubHeaders.Concat(Groups.SelectMany(g => g.SubHeaders.Count == 0
            ? [g.Header]
            : g.SubHeaders.Select(s => $"{g.Header} {s}"))).ToList();
}

/// <summary>How numbers read in the tables (DESIGN.md section 10: each cell is the mean and std over folds).</summary>
public static class CellText
{
    /// <summary>The protocol's number of test folds (DESIGN.md section 6).</summary>
    public const int FoldsPerCell = 10;

    public const string Missing = "–";

    /// <summary>
    /// "84.1 ± 1.2" (percent, one decimal); with fewer than ten folds "84.1 ± 1.2 (7/10)"; with one fold, where
    /// no standard deviation exists, "84.1 (1/10)".
    /// </summary>
    public static string MeanStd(double meanFraction, double? stdFraction, int folds)
    {
        var text = Percent(meanFraction);
        if (stdFraction is { } std)
        {
            text += " ± " + Percent(std);
        }
        if (folds < FoldsPerCell)
        {
            text += $" ({folds.ToString(CultureInfo.InvariantCulture)}/{FoldsPerCell.ToString(CultureInfo.InvariantCulture)})";
        }
        return text;
    }

    public static string Percent(double fraction) => (fraction * 100).ToString("F1", CultureInfo.InvariantCulture);

    public static string PaperPercent(double percent) => percent.ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>CSV numbers: percent with two decimals; empty when absent.</summary>
    public static string CsvPercent(double? fraction) =>
        fraction is { } f ? (f * 100).ToString("F2", CultureInfo.InvariantCulture) : "";
}
