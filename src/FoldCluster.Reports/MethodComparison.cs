using FoldCluster.Core;
using FoldCluster.Reports.Queries;
using FoldCluster.Storage.Sweeps;
using Npgsql;

namespace FoldCluster.Reports;

/// <summary>What `foldcluster results compare` was asked for.</summary>
public sealed record CompareRequest
{
    public required string Sweep { get; init; }
    public required string MethodA { get; init; }
    public required string MethodB { get; init; }
    public string Modalities { get; init; } = "AVT";
    public bool Pretrained { get; init; } = true;
    public string? Dataset { get; init; }
    public string? Extractor { get; init; }
    public string? Split { get; init; }
    public string? Profile { get; init; }
    public string Metric { get; init; } = "ua";
}

/// <summary>One fold of a paired comparison (metric values as fractions).</summary>
public sealed record FoldPair(int Fold, double A, double B);

/// <summary>The paired comparison of two methods on one dataset.</summary>
public sealed record DatasetComparison(
    string Dataset,
    string Split,
    string Extractor,
    string Profile,
    IReadOnlyList<FoldPair> Pairs,
    IReadOnlyList<int> UnpairedFolds,
    PairedComparison Statistics);

public sealed record CompareOutcome(SweepSummary Sweep, CompareRequest Request, IReadOnlyList<DatasetComparison> Datasets, IReadOnlyList<string> Messages);

/// <summary>
/// Paired comparison of two fusion methods over the test folds they share (same dataset, split, modality set,
/// pre-training, extractor and profile): per-fold values from SQL, then a paired t-test and an exact Wilcoxon
/// signed-rank test on the per-fold differences, so a reader can tell a gap in Table II from fold noise.
/// </summary>
public sealed class MethodComparison(NpgsqlDataSource dataSource)
{
    private readonly ResultQueries _queries = new(dataSource);

    public async Task<CompareOutcome> CompareAsync(CompareRequest request, CancellationToken ct = default)
    {
        if (!ResultQueries.Metrics.Contains(request.Metric))
        {
            throw new BadInputException($"metric '{request.Metric}' is not known: expected one of {string.Join(", ", ResultQueries.Metrics)}");
        }
        var sweep = await _queries.FindSweepAsync(request.Sweep, ct);
        var messages = new List<string>();
        var a = request.MethodA.ToLowerInvariant();
        var b = request.MethodB.ToLowerInvariant();
        var all = await _queries.AggregateAsync(sweep.SweepId, new ResultFilter
        {
            Dataset = request.Dataset,
            Modalities = request.Modalities,
            Pretrained = request.Pretrained,
            Extractor = request.Extractor,
        }, ct);
        var relevant = all.Where(c => c.Method == a || c.Method == b).ToList();
        if (relevant.Count == 0)
        {
            messages.Add($"no finished jobs of {a} or {b} match ({Describe(request)}) in sweep '{sweep.Name}'");
            return new CompareOutcome(sweep, request, [], messages);
        }
        var (split, profile) = TablesReport.ChooseSplitAndProfile(relevant, new TablesRequest { Sweep = request.Sweep, Split = request.Split, Profile = request.Profile }, messages);
        var results = new List<DatasetComparison>();
        var datasets = relevant.Select(c => c.Dataset).Distinct().OrderBy(ReportNames.DatasetRank).ThenBy(d => d, StringComparer.Ordinal);
        foreach (var dataset in datasets)
        {
            var candidates = relevant.Where(c => c.Dataset == dataset && c.Split == split && c.Profile == profile).ToList();
            // Both methods must use the same extractor; the paper's ResNet is preferred when several were run.
            var extractor = candidates.Where(c => c.Method == a).Select(c => c.Extractor)
                .Intersect(candidates.Where(c => c.Method == b).Select(c => c.Extractor))
                .OrderBy(ReportNames.ExtractorRank).ThenBy(e => e, StringComparer.Ordinal)
                .FirstOrDefault();
            if (extractor is null)
            {
                var missing = candidates.Any(c => c.Method == a) ? b : a;
                messages.Add($"{ReportNames.Dataset(dataset)}: no finished jobs of {missing} ({Describe(request)}); nothing to pair");
                continue;
            }
            var keyA = new CellKey(dataset, split, a, request.Modalities, request.Pretrained, extractor, profile);
            var valuesA = await _queries.FoldValuesAsync(sweep.SweepId, keyA, request.Metric, ct);
            var valuesB = await _queries.FoldValuesAsync(sweep.SweepId, keyA with { Method = b }, request.Metric, ct);
            var byFoldB = valuesB.ToDictionary(v => v.Fold, v => v.Value);
            var pairs = valuesA.Where(v => byFoldB.ContainsKey(v.Fold)).Select(v => new FoldPair(v.Fold, v.Value, byFoldB[v.Fold])).ToList();
            var unpaired = valuesA.Select(v => v.Fold).Concat(valuesB.Select(v => v.Fold)).Except(pairs.Select(p => p.Fold)).OrderBy(f => f).ToList();
            var statistics = FoldStatistics.Compare(pairs.Select(p => p.A).ToList(), pairs.Select(p => p.B).ToList());
            results.Add(new DatasetComparison(dataset, split, extractor, profile, pairs, unpaired, statistics));
        }
        return new CompareOutcome(sweep, request, results, messages);
    }

    private static string Describe(CompareRequest r) =>
        $"{string.Join('+', r.Modalities.ToCharArray())}{(r.Pretrained ? "" : " NP")}"
        + (r.Dataset is null ? "" : $", dataset {r.Dataset}")
        + (r.Extractor is null ? "" : $", extractor {r.Extractor}");
}
