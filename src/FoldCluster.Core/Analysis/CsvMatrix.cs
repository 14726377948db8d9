using System.Globalization;
using System.Text;

namespace FoldCluster.Core.Analysis;

/// <summary>
/// Numeric matrices as CSV: one sample per row, comma-separated invariant-culture numbers; a first line that is not
/// numeric is taken as a header. Blank lines are skipped.
/// </summary>
public static class CsvMatrix
{
    public static (double[][] Rows, string[]? Header) Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new BadInputException($"matrix file '{path}' does not exist: expected a CSV file, one sample per row");
        }
        var rows = new List<double[]>();
        string[]? header = null;
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var cells = line.Split(',');
            var values = new double[cells.Length];
            var numeric = true;
            for (var c = 0; c < cells.Length; c++)
            {
                if (!double.TryParse(cells[c].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[c]))
                {
                    numeric = false;
                    if (rows.Count > 0 || header is not null)
                    {
                        throw new BadInputException($"{path}:{lineNumber}: column {c + 1} holds '{cells[c].Trim()}': expected a number");
                    }
                    break;
                }
            }
            if (!numeric)
            {
                header = cells.Select(h => h.Trim()).ToArray();
                continue;
            }
            if (rows.Count > 0 && values.Length != rows[0].Length)
            {
                throw new BadInputException($"{path}:{lineNumber}: {values.Length} columns: expected {rows[0].Length} like the first row");
            }
            rows.Add(values);
        }
        if (rows.Count == 0)
        {
            throw new BadInputException($"matrix file '{path}' has no numeric rows: expected one sample per row");
        }
        if (header is not null && header.Length != rows[0].Length)
        {
            throw new BadInputException($"{path}: the header names {header.Length} columns but the rows have {rows[0].Length}");
        }
        return (rows.ToArray(), header);
    }

    public static void Write(string path, IReadOnlyList<double[]> rows, IReadOnlyList<string> header)
    {
        var text = new StringBuilder();
        text.AppendLine(string.Join(',', header));
        foreach (var row in rows)
        {
            text.AppendLine(string.Join(',', row.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        }
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        File.WriteAllText(path, text.ToString());
    }
}
