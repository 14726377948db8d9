using System.Globalization;

namespace FoldCluster.Reports;

/// <summary>One number printed in the paper's Tables I-III (UA in percent; F1 as a fraction, as printed).</summary>
public sealed record PaperValue(
    string Table,
    string Dataset,
    string ModelOrMethod,
    string? Extractor,
    string? Modalities,
    bool? Pretrained,
    double UaPercent,
    double? F1);

/// <summary>
/// The paper's own numbers (Tables I-III), carried in the assembly from Data/paper-tables.csv so that a generated
/// table can show the paper's value beside the measured one.
/// </summary>
public sealed class PaperTables
{
    private readonly IReadOnlyList<PaperValue> _values;

    private PaperTables(IReadOnlyList<PaperValue> values) => _values = values;

    public IReadOnlyList<PaperValue> Values => _values;

    private static readonly Lazy<PaperTables> EmbeddedInstance = new(LoadEmbedded);

    public static PaperTables Embedded => EmbeddedInstance.Value;

    /// <summary>Table I literature rows in the order printed (one entry per model; datasets keyed by DatasetKey).</summary>
    public IReadOnlyList<(string Model, IReadOnlyDictionary<string, double> UaByDataset)> LiteratureRows()
    {
        var rows = new List<(string, IReadOnlyDictionary<string, double>)>();
        foreach (var group in _values.Where(v => v.Table == "I").GroupBy(v => v.ModelOrMethod))
        {
            rows.Add((group.Key, group.ToDictionary(v => ReportNames.DatasetKey(v.Dataset), v => v.UaPercent)));
        }
        return rows;
    }

    /// <summary>The paper's Table II / III value for a cell, or null when the paper has none.</summary>
    public PaperValue? Find(string table, string dataset, string method, string extractorFamily, string modalities, bool pretrained)
    {
        var key = ReportNames.DatasetKey(dataset);
        return _values.FirstOrDefault(v =>
            v.Table == table
            && ReportNames.DatasetKey(v.Dataset) == key
            && string.Equals(v.ModelOrMethod, method, StringComparison.OrdinalIgnoreCase)
            && v.Extractor == extractorFamily
            && v.Modalities == modalities
            && v.Pretrained == pretrained);
    }

    public static PaperTables Parse(TextReader reader)
    {
        var header = reader.ReadLine();
        const string expected = "table,dataset,model_or_method,extractor,modalities,pretrained,ua_percent,f1";
        if (header?.Trim() != expected)
        {
            throw new InvalidDataException($"paper-tables.csv: header is '{header}', expected '{expected}'");
        }
        var values = new List<PaperValue>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            var f = line.Split(',');
            if (f.Length != 8)
            {
                throw new InvalidDataException($"paper-tables.csv line {lineNumber}: {f.Length} fields, expected 8");
            }
            values.Add(new PaperValue(
                f[0],
                f[1],
                f[2],
                Empty(f[3]),
                Empty(f[4]),
                Empty(f[5]) is { } p ? bool.Parse(p) : null,
                double.Parse(f[6], CultureInfo.InvariantCulture),
                Empty(f[7]) is { } f1 ? double.Parse(f1, CultureInfo.InvariantCulture) : null));
        }
        return new PaperTables(values);
    }

    private static string? Empty(string field) => field.Length == 0 ? null : field;

    private static PaperTables LoadEmbedded()
    {
        using var stream = typeof(PaperTables).Assembly.GetManifestResourceStream("paper-tables.csv")
            ?? throw new InvalidOperationException("paper-tables.csv is not embedded in FoldCluster.Reports");
        using var reader = new StreamReader(stream);
        return Parse(reader);
    }
}
