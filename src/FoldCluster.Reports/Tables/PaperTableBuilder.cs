using FoldCluster.Reports.Queries;

namespace FoldCluster.Reports.Tables;

/// <summary>One generated table in every format: the layout (Markdown, LaTeX, terminal) and its CSV.</summary>
public sealed record GeneratedTable(ReportTable Layout, string Csv)
{
    public string Id => Layout.Id;
}

/// <summary>
/// Lays out the paper's Tables I-III (DESIGN.md section 10) from the cell aggregates of one split and profile.
/// Each measured cell reads "mean ± std" over the test folds (percent); a cell with fewer than ten folds shows the count.
/// Below each measured row whose cell the paper also reports, a "(paper)" row repeats the paper's printed value,
/// so the reproduction gap is visible. A table is produced only when the sweep has data for it.
/// </summary>
public sealed class PaperTableBuilder
{
    public const string Table2CsvHeader = "dataset,method,modalities,pretrained,ua_mean,ua_std,f1_mean,f1_std,folds";
    public const string Table3CsvHeader = "extractor,dataset,modalities,pretrained,ua_mean,ua_std,folds";
    public const string Table1CsvHeader = "model,source,dataset,ua_mean,ua_std,folds";

    private readonly IReadOnlyList<CellAggregate> _cells;
    private readonly PaperTables _paper;
    private readonly string _split;
    private readonly string _profile;

    /// <param name="cells">Aggregates of one split and one profile.</param>
    public PaperTableBuilder(IReadOnlyList<CellAggregate> cells, PaperTables paper, string split, string profile)
    {
        _cells = cells;
        _paper = paper;
        _split = split;
        _profile = profile;
        Table2Extractor = cells
            .Where(c => IsTableColumn(c))
            .Select(c => c.Extractor)
            .Distinct()
            .OrderBy(ReportNames.ExtractorRank)
            .ThenBy(e => e, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    /// <summary>The extractor Tables I and II use: the paper's ResNet when present (paper Section IV-E), else the best-ranked.</summary>
    public string? Table2Extractor { get; }

    public IReadOnlyList<GeneratedTable> BuildAll()
    {
        var tables = new List<GeneratedTable>();
        if (BuildTable1() is { } t1)
        {
            tables.Add(t1);
        }
        if (BuildTable2() is { } t2)
        {
            tables.Add(t2);
        }
        if (BuildTable3() is { } t3)
        {
            tables.Add(t3);
        }
        return tables;
    }

    private static bool IsTableColumn(CellAggregate c) =>
        ReportNames.ModalityColumns.Any(m => m.Modalities == c.Modalities && m.Pretrained == c.Pretrained);

    private CellAggregate? Cell(string dataset, string method, string extractor, string modalities, bool pretrained) =>
        _cells.FirstOrDefault(c => c.Dataset == dataset && c.Method == method && c.Extractor == extractor
                                   && c.Modalities == modalities && c.Pretrained == pretrained);

    private IReadOnlyList<string> Datasets(IEnumerable<CellAggregate> cells) =>
        cells.Select(c => c.Dataset).Distinct()
            .OrderBy(ReportNames.DatasetRank).ThenBy(d => d, StringComparer.Ordinal).ToList();

    private string CommonNotes(bool randomWeights)
    {
        var notes = $"Training profile: {_profile}.";
        if (randomWeights)
        {
            notes += " The video extractor ran with random weights (no pretrained weight file was supplied), so columns with video are not comparable with the paper's ImageNet-pretrained features.";
        }
        return notes;
    }

    private string SeedNote(IEnumerable<CellAggregate> cells) =>
        cells.Any(c => c.Runs > c.Folds) ? " Where a fold ran with several seeds, the seeds are averaged before the fold statistics." : "";

    /// <summary>
    /// A footnote naming the cells whose results come from more than one runtime (device, CPU instruction sets) or build
    /// (code, TorchSharp, libtorch): results of one seed differ between them, so such a cell is not one machine's number.
    /// </summary>
    private static IEnumerable<string> RuntimeNote(IEnumerable<CellAggregate> cells)
    {
        var mixed = cells.Where(c => c.Machines > 1 || c.Versions > 1).ToList();
        if (mixed.Count == 0)
        {
            yield break;
        }
        static string Name(CellAggregate c) =>
            $"{ReportNames.Dataset(c.Dataset)} {ReportNames.Method(c.Method)} {string.Join('+', c.Modalities.ToCharArray())}{(c.Pretrained ? "" : " (NP)")}"
            + $" ({string.Join(", ", new[] { c.Machines > 1 ? $"{c.Machines} devices or CPU instruction sets" : null, c.Versions > 1 ? $"{c.Versions} code or library versions" : null }.OfType<string>())})";
        yield return "Mixed runtimes: these cells combine results computed on different machines or builds, whose numbers for one seed differ: "
            + string.Join("; ", mixed.Select(Name)) + ". `foldcluster results query --format json` shows each result's provenance.";
    }

    private const string Spread =
        "mean ± sample standard deviation (n − 1) over the ten test folds; a cell with fewer than ten finished folds shows how many, e.g. (7/10)";

    /// <summary>Table I: the paper's literature rows as printed, then this system's CMHA A+V+T (pre-trained) row.</summary>
    public GeneratedTable? BuildTable1()
    {
        if (Table2Extractor is not { } extractor)
        {
            return null;
        }
        var measured = _cells.Where(c => c.Method == "cmha" && c.Modalities == "AVT" && c.Pretrained && c.Extractor == extractor).ToList();
        if (measured.Count == 0)
        {
            return null;
        }
        var literature = _paper.LiteratureRows();
        var datasetKeys = new List<string> { "IEMOCAP", "MSPIMPROV" };
        foreach (var d in Datasets(measured).Select(ReportNames.DatasetKey))
        {
            if (!datasetKeys.Contains(d))
            {
                datasetKeys.Add(d);
            }
        }
        string DisplayOf(string key) =>
            measured.FirstOrDefault(c => ReportNames.DatasetKey(c.Dataset) == key) is { } c
                ? ReportNames.Dataset(c.Dataset)
                : ReportNames.Dataset(key == "MSPIMPROV" ? "MSP-IMPROV" : key);
        var groups = datasetKeys.Select(k => new ColumnGroup(DisplayOf(k), [])).ToList();
        var rows = new List<TableRow>();
        var csv = new List<IReadOnlyList<string>>();
        foreach (var (model, ua) in literature)
        {
            rows.Add(new TableRow([model], datasetKeys.Select(k => ua.TryGetValue(k, out var v) ? CellText.PaperPercent(v) : CellText.Missing).ToList()));
            foreach (var k in datasetKeys.Where(ua.ContainsKey))
            {
                csv.Add([model, "paper", DisplayOf(k), ua[k].ToString("F2", System.Globalization.CultureInfo.InvariantCulture), "", ""]);
            }
        }
        const string ours = "MCWSA-CMHA (this system)";
        var cells = datasetKeys.Select(k => measured.FirstOrDefault(c => ReportNames.DatasetKey(c.Dataset) == k)).ToList();
        rows.Add(new TableRow([ours], cells.Select(c => c is null ? CellText.Missing : CellText.MeanStd(c.UaMean, c.UaStd, c.Folds)).ToList(), StartsSection: true));
        foreach (var c in cells.OfType<CellAggregate>())
        {
            csv.Add([ours, "measured", ReportNames.Dataset(c.Dataset), CellText.CsvPercent(c.UaMean), CellText.CsvPercent(c.UaStd), Folds(c)]);
        }
        var caption =
            $"Unweighted accuracy (UA, %) of previous works as printed in the paper's Table I, and of MCWSA-CMHA (A+V+T, pre-trained) as measured by this system on the {ReportNames.Split(_split)}: {Spread}. Video features: {ReportNames.Extractor(extractor)}.";
        var layout = new ReportTable("table1", "Table I", caption, ["Model"], groups, rows,
            ["–: no value (not reported in the paper, or no finished job)." + SeedNote(measured) + " " + CommonNotes(ReportNames.HasRandomWeights(extractor)), .. RuntimeNote(measured)]);
        return new GeneratedTable(layout, Csv.Render(Table1CsvHeader.Split(','), csv));
    }

    /// <summary>Table II: rows dataset x method, column groups A+V, A+T, V+T, A+V+T (NP), A+V+T with UA (%) and F1 (%).</summary>
    public GeneratedTable? BuildTable2()
    {
        if (Table2Extractor is not { } extractor)
        {
            return null;
        }
        var cells = _cells.Where(c => c.Extractor == extractor && IsTableColumn(c)).ToList();
        var family = ReportNames.ExtractorFamily(extractor);
        var groups = ReportNames.ModalityColumns.Select(m => new ColumnGroup(m.Header, ["UA (%)", "F1 (%)"])).ToList();
        var rows = new List<TableRow>();
        var csv = new List<IReadOnlyList<string>>();
        foreach (var dataset in Datasets(cells))
        {
            var methods = cells.Where(c => c.Dataset == dataset).Select(c => c.Method).Distinct()
                .OrderBy(ReportNames.MethodRank).ThenBy(m => m, StringComparer.Ordinal).ToList();
            var first = true;
            foreach (var method in methods)
            {
                var measured = new List<string>();
                var paper = new List<string>();
                var anyPaper = false;
                foreach (var (modalities, pretrained, _) in ReportNames.ModalityColumns)
                {
                    var cell = Cell(dataset, method, extractor, modalities, pretrained);
                    if (cell is null)
                    {
                        measured.AddRange([CellText.Missing, CellText.Missing]);
                    }
                    else
                    {
                        measured.Add(CellText.MeanStd(cell.UaMean, cell.UaStd, cell.Folds));
                        measured.Add(CellText.MeanStd(cell.MacroF1Mean, cell.MacroF1Std, cell.Folds));
                        csv.Add([ReportNames.Dataset(dataset), method, modalities, pretrained ? "true" : "false",
                            CellText.CsvPercent(cell.UaMean), CellText.CsvPercent(cell.UaStd),
                            CellText.CsvPercent(cell.MacroF1Mean), CellText.CsvPercent(cell.MacroF1Std), Folds(cell)]);
                    }
                    var printed = family == "resnet" ? _paper.Find("II", dataset, method, "resnet", modalities, pretrained) : null;
                    anyPaper |= printed is not null;
                    paper.Add(printed is null ? CellText.Missing : CellText.PaperPercent(printed.UaPercent));
                    paper.Add(printed?.F1 is { } f1 ? CellText.Percent(f1) : CellText.Missing);
                }
                rows.Add(new TableRow([first ? ReportNames.Dataset(dataset) : "", ReportNames.Method(method)], measured, StartsSection: first));
                if (anyPaper)
                {
                    rows.Add(new TableRow(["", ReportNames.Method(method) + " (paper)"], paper, IsPaper: true));
                }
                first = false;
            }
        }
        if (rows.Count == 0)
        {
            return null;
        }
        var caption =
            $"Unweighted accuracy (UA, %) and macro-F1 (F1, %) of the fusion methods on the test folds of the {ReportNames.Split(_split)}: {Spread}. Video features: {ReportNames.Extractor(extractor)}. Rows marked (paper) repeat the paper's Table II (its F1 × 100).";
        var layout = new ReportTable("table2", "Table II", caption, ["Dataset", "Method"], groups, rows,
            ["NP: the MCWSA model is not pre-trained (paper Table II). –: no finished job for this cell (TFN runs only with A+V+T, as in the paper)." + SeedNote(cells) + " " + CommonNotes(ReportNames.HasRandomWeights(extractor)), .. RuntimeNote(cells)]);
        return new GeneratedTable(layout, Csv.Render(Table2CsvHeader.Split(','), csv));
    }

    /// <summary>
    /// Table III: CMHA UA per (extractor, dataset) and modality set. Produced only when CMHA ran with at least two
    /// extractors (with one it would repeat Table II's CMHA rows).
    /// </summary>
    public GeneratedTable? BuildTable3()
    {
        var cells = _cells.Where(c => c.Method == "cmha" && IsTableColumn(c)).ToList();
        var extractors = cells.Select(c => c.Extractor).Distinct()
            .OrderBy(ReportNames.ExtractorRank).ThenBy(e => e, StringComparer.Ordinal).ToList();
        if (extractors.Count < 2)
        {
            return null;
        }
        var groups = ReportNames.ModalityColumns.Select(m => new ColumnGroup(m.Header, [])).ToList();
        var rows = new List<TableRow>();
        var csv = new List<IReadOnlyList<string>>();
        foreach (var extractor in extractors)
        {
            var family = ReportNames.ExtractorFamily(extractor);
            var first = true;
            foreach (var dataset in Datasets(cells.Where(c => c.Extractor == extractor)))
            {
                var measured = new List<string>();
                var paper = new List<string>();
                var anyPaper = false;
                foreach (var (modalities, pretrained, _) in ReportNames.ModalityColumns)
                {
                    var cell = Cell(dataset, "cmha", extractor, modalities, pretrained);
                    measured.Add(cell is null ? CellText.Missing : CellText.MeanStd(cell.UaMean, cell.UaStd, cell.Folds));
                    if (cell is not null)
                    {
                        csv.Add([extractor, ReportNames.Dataset(dataset), modalities, pretrained ? "true" : "false",
                            CellText.CsvPercent(cell.UaMean), CellText.CsvPercent(cell.UaStd), Folds(cell)]);
                    }
                    var printed = family is null ? null : _paper.Find("III", dataset, "cmha", family, modalities, pretrained);
                    anyPaper |= printed is not null;
                    paper.Add(printed is null ? CellText.Missing : CellText.PaperPercent(printed.UaPercent));
                }
                rows.Add(new TableRow([first ? ReportNames.Extractor(extractor) : "", ReportNames.Dataset(dataset)], measured, StartsSection: first));
                if (anyPaper)
                {
                    rows.Add(new TableRow(["", ReportNames.Dataset(dataset) + " (paper)"], paper, IsPaper: true));
                }
                first = false;
            }
        }
        var random = extractors.Any(ReportNames.HasRandomWeights);
        var caption =
            $"Unweighted accuracy (UA, %) of CMHA with video features from different extractors on the test folds of the {ReportNames.Split(_split)}: {Spread}. Rows marked (paper) repeat the paper's Table III (ResNet, VGG-Face).";
        var layout = new ReportTable("table3", "Table III", caption, ["Extractor", "Dataset"], groups, rows,
            ["NP: the MCWSA model is not pre-trained. –: no finished job for this cell." + SeedNote(cells) + " " + CommonNotes(random), .. RuntimeNote(cells)]);
        return new GeneratedTable(layout, Csv.Render(Table3CsvHeader.Split(','), csv));
    }

    private static string Folds(CellAggregate c) => c.Folds.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
