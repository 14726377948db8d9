using System.Globalization;
using System.Text;
using FoldCluster.Core;
using FoldCluster.Core.Analysis;
using FoldCluster.Reports.Figures;
using FoldCluster.Reports.Queries;
using Npgsql;

namespace FoldCluster.Reports.Analysis;

/// <summary>
/// The estimators that need TorchSharp (MINE, DCCA), supplied by the caller: Reports draws and tabulates, the CLI
/// wires the computations in.
/// </summary>
public interface IAnalysisEstimators
{
    /// <summary>MINE's per-step estimates (nats) and their moving average over <c>Window</c> steps.</summary>
    (double[] Raw, double[] Smoothed, int Window) MutualInformation(double[][] x, double[][] y);

    /// <summary>DCCA's training objective per epoch (total correlation) and the total on held-out rows.</summary>
    (double[] Curve, double HeldOutTotal) DeepCanonicalCorrelation(double[][] x, double[][] y);
}

/// <summary>
/// Fig. 5-9 from the stored feature vectors of a sweep (Reports README, "Analysis figures", says which rows each
/// figure uses): each figure a PNG and a CSV of every plotted number.
/// </summary>
public sealed class AnalysisFigures(NpgsqlDataSource dataSource, IAnalysisEstimators estimators)
{
    /// <summary>DCCA epochs are fewer and noisier than MINE steps; their curves are smoothed over this many epochs.</summary>
    public const int DccaSmoothingWindow = 10;

    private static readonly string[] Pairs = ["video-text", "audio-text", "audio-video"];

    private readonly FeatureVectorQueries _queries = new(dataSource);

    /// <summary>
    /// Figures drawn at the same time (each estimator call is single-threaded). Default 1: with two at a time, MINE failed
    /// with libtorch's "Unknown scalar type" in the demo; TorchSharp's implicitly converted Scalars are freed by
    /// finalizers, and a second thread allocating makes a collection during a native call far more likely.
    /// </summary>
    public int Parallelism { get; init; } = DefaultParallelism;

    public const int DefaultParallelism = 1;

    public async Task<IReadOnlyList<(string Name, byte[] Content)>> GenerateAsync(long sweepId, string split, string profile, List<string> messages, CancellationToken ct = default)
    {
        var files = new List<(string, byte[])>();
        var cells = await _queries.CellsAsync(sweepId, split, profile, ct);
        if (cells.Count == 0)
        {
            messages.Add("no stored feature vectors in this sweep (spec field store_features): Fig. 5-9 not drawn");
            return files;
        }
        var work = new List<(string Figure, Func<Task<List<(string, byte[])>>> Draw)>();
        foreach (var datasetCells in cells.GroupBy(c => c.Dataset))
        {
            var extractor = datasetCells.Select(c => c.Extractor).Distinct().OrderBy(e => e.StartsWith("resnet50", StringComparison.Ordinal) ? 0 : 1).ThenBy(e => e, StringComparer.Ordinal).First();
            var pool = datasetCells.Where(c => c.Extractor == extractor && c.Pretrained).ToList();
            if (pool.Count == 0)
            {
                messages.Add($"dataset '{datasetCells.Key}': no pre-trained job stored features; Fig. 5-9 need one");
                continue;
            }
            var modalities = pool.Any(c => c.Modalities == "AVT") ? "AVT" : pool.GroupBy(c => c.Modalities).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
            var methods = pool.Where(c => c.Modalities == modalities).OrderBy(c => MethodOrder(c.Method)).ToList();
            var reference = methods.FirstOrDefault(c => c.Method == "cmha") ?? methods[0];
            var dataset = Slug(datasetCells.Key);
            var where = $"{datasetCells.Key}, {ModalityLabel(modalities)}, fold {reference.Fold} test utterances";
            foreach (var (figure, draw) in new (string, Func<Task<List<(string, byte[])>>>)[]
            {
                ("Fig. 5", () => Figure5Async(dataset, where, methods, ct)),
                ("Fig. 7", () => Figure7Async(dataset, where, reference, ct)),
                ("Fig. 8", () => Figure8Async(dataset, where, reference, ct)),
                ("Fig. 9", () => Figure9Async(dataset, where, methods, ct)),
            })
            {
                work.Add(($"{figure} of dataset '{datasetCells.Key}'", draw));
            }
        }
        // The figures are independent; with Parallelism > 1 they are drawn side by side, their files kept in the order above.
        var drawn = new List<(string, byte[])>[work.Count];
        var failures = new string?[work.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, work.Count), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Parallelism), CancellationToken = ct }, async (i, _) =>
        {
            try
            {
                drawn[i] = await work[i].Draw();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // An estimator that fails on these rows (too few, or a numeric failure inside libtorch) costs
                // its figure, not the tables and the other figures.
                failures[i] = $"{work[i].Figure} not drawn: {e.Message.Split('\n')[0]}";
            }
        });
        messages.AddRange(failures.OfType<string>());
        foreach (var d in drawn.Where(d => d is not null))
        {
            files.AddRange(d);
        }
        return files;
    }

    private async Task<List<(string, byte[])>> Figure5Async(string dataset, string where, IReadOnlyList<StoredCell> methods, CancellationToken ct)
    {
        var files = new List<(string, byte[])>();
        foreach (var cell in methods.Where(c => c.Kinds.Contains(FeatureKinds.FusedStage2)))
        {
            var vectors = await _queries.VectorsAsync(cell.JobId, FeatureKinds.FusedStage2, ct);
            var title = $"Fig. 5: t-SNE of the fused features, {MethodLabel(cell.Method)} ({where})";
            files.AddRange(Scatter($"fig5-{dataset}-{cell.Method}", title, vectors, vectors.Rows));
        }
        return files;
    }

    private async Task<List<(string, byte[])>> Figure7Async(string dataset, string where, StoredCell cell, CancellationToken ct)
    {
        var files = new List<(string, byte[])>();
        var inputs = cell.Kinds.Where(k => k.StartsWith("input.", StringComparison.Ordinal)).ToList();
        if (inputs.Count > 0)
        {
            var blocks = new List<StoredVectors>();
            foreach (var kind in inputs)
            {
                blocks.Add(await _queries.VectorsAsync(cell.JobId, kind, ct));
            }
            files.AddRange(Scatter($"fig7-{dataset}-original", $"Fig. 7: t-SNE of the original features ({string.Join(" + ", inputs.Select(k => k[6..]))}), {MethodLabel(cell.Method)} job ({where})",
                blocks[0], Concatenate(blocks)));
        }
        foreach (var (kind, label, name) in new[] { (FeatureKinds.FusedStage1, "stage-1 (unsupervised) fused features", "stage1"), (FeatureKinds.FusedStage2, "stage-2 (supervised) fused features", "stage2") })
        {
            if (cell.Kinds.Contains(kind))
            {
                var vectors = await _queries.VectorsAsync(cell.JobId, kind, ct);
                files.AddRange(Scatter($"fig7-{dataset}-{name}", $"Fig. 7: t-SNE of the {label}, {MethodLabel(cell.Method)} ({where})", vectors, vectors.Rows));
            }
        }
        return files;
    }

    private async Task<List<(string, byte[])>> Figure8Async(string dataset, string where, StoredCell cell, CancellationToken ct)
    {
        var files = new List<(string, byte[])>();
        foreach (var pair in Pairs)
        {
            var (a, b) = (pair.Split('-')[0], pair.Split('-')[1]);
            if (!new[] { FeatureKinds.Input(a), FeatureKinds.Input(b), FeatureKinds.Encoded(a), FeatureKinds.Encoded(b) }.All(cell.Kinds.Contains))
            {
                continue;
            }
            var original = estimators.MutualInformation(
                (await _queries.VectorsAsync(cell.JobId, FeatureKinds.Input(a), ct)).Rows, (await _queries.VectorsAsync(cell.JobId, FeatureKinds.Input(b), ct)).Rows);
            var transformed = estimators.MutualInformation(
                (await _queries.VectorsAsync(cell.JobId, FeatureKinds.Encoded(a), ct)).Rows, (await _queries.VectorsAsync(cell.JobId, FeatureKinds.Encoded(b), ct)).Rows);
            var title = $"Fig. 8: MINE mutual information of {a} and {b} ({where}, {MethodLabel(cell.Method)} encoders)";
            var caption = $"moving average over {original.Window} steps";
            var png = AnalysisFigureRenderer.Curves(title, caption, "MINE training step", "Estimated MI (nats)",
            [
                ("original features", original.Smoothed, AnalysisFigureRenderer.Green),
                ("transformed features (encoder outputs)", transformed.Smoothed, AnalysisFigureRenderer.Red),
            ]);
            var csv = new StringBuilder("step,original_mi_nats,original_smoothed,transformed_mi_nats,transformed_smoothed\n");
            for (var s = 0; s < original.Raw.Length; s++)
            {
                csv.Append(Invariant($"{s + 1},{original.Raw[s]:R},{original.Smoothed[s]:R},{transformed.Raw[s]:R},{transformed.Smoothed[s]:R}\n"));
            }
            files.Add(($"fig8-{dataset}-{pair}.png", png));
            files.Add(($"fig8-{dataset}-{pair}.csv", Encoding.UTF8.GetBytes(csv.ToString())));
        }
        return files;
    }

    private async Task<List<(string, byte[])>> Figure9Async(string dataset, string where, IReadOnlyList<StoredCell> methods, CancellationToken ct)
    {
        var files = new List<(string, byte[])>();
        foreach (var modality in FeatureKinds.Modalities)
        {
            var input = FeatureKinds.Input(modality);
            var usable = methods.Where(c => c.Kinds.Contains(input) && c.Kinds.Contains(FeatureKinds.FusedStage2)).ToList();
            if (usable.Count == 0)
            {
                continue;
            }
            var series = new List<(string, double[], ScottPlot.Color)>();
            var csv = new StringBuilder("method,epoch,training_correlation,smoothed,held_out_total\n");
            foreach (var (cell, index) in usable.Select((c, i) => (c, i)))
            {
                var fused = await _queries.VectorsAsync(cell.JobId, FeatureKinds.FusedStage2, ct);
                var original = await _queries.VectorsAsync(cell.JobId, input, ct);
                var (curve, heldOut) = estimators.DeepCanonicalCorrelation(fused.Rows, original.Rows);
                var smoothed = MovingAverage.Trailing(curve, DccaSmoothingWindow);
                series.Add(($"{MethodLabel(cell.Method)} (held-out total {heldOut:F2})", smoothed, AnalysisFigureRenderer.MethodColor(index)));
                for (var e = 0; e < curve.Length; e++)
                {
                    csv.Append(Invariant($"{cell.Method},{e + 1},{curve[e]:R},{smoothed[e]:R},{heldOut:R}\n"));
                }
            }
            var title = $"Fig. 9: DCCA correlation of the fused features with the {modality} input ({where})";
            var caption = $"moving average over {DccaSmoothingWindow} epochs; same DCCA network and hyper-parameters for every method";
            files.Add(($"fig9-{dataset}-{modality}.png", AnalysisFigureRenderer.Curves(title, caption, "DCCA training epoch", "Total canonical correlation", series)));
            files.Add(($"fig9-{dataset}-{modality}.csv", Encoding.UTF8.GetBytes(csv.ToString())));
        }
        return files;
    }

    /// <summary>t-SNE (seed 1; perplexity 30, or less for a small test fold) of the rows, drawn by true class; PNG and CSV.</summary>
    private static IEnumerable<(string, byte[])> Scatter(string name, string title, StoredVectors labels, double[][] rows)
    {
        if (rows.Length < 5)
        {
            yield break;
        }
        var perplexity = Math.Min(30, (rows.Length - 1) / 3.0);
        var embedding = Tsne.Embed(rows, new TsneOptions { Perplexity = perplexity, Seed = 1 });
        var csv = new StringBuilder("utterance_id,true_class,tsne_1,tsne_2\n");
        for (var i = 0; i < rows.Length; i++)
        {
            csv.Append(Invariant($"{labels.UtteranceIds[i]},{((Emotion)labels.Labels[i]).Name()},{embedding[i][0]:R},{embedding[i][1]:R}\n"));
        }
        yield return ($"{name}.png", AnalysisFigureRenderer.ClassScatter(title, $"t-SNE, perplexity {perplexity:0.#}, seed 1; {rows.Length} utterances", embedding, labels.Labels));
        yield return ($"{name}.csv", Encoding.UTF8.GetBytes(csv.ToString()));
    }

    /// <summary>Modality blocks side by side, each scaled by 1/sqrt(width) so that every modality weighs alike in distances.</summary>
    private static double[][] Concatenate(IReadOnlyList<StoredVectors> blocks)
    {
        var n = blocks[0].Rows.Length;
        if (blocks.Any(b => b.Rows.Length != n || !b.UtteranceIds.SequenceEqual(blocks[0].UtteranceIds)))
        {
            throw new InvalidOperationException("stored input vectors of one job do not cover the same utterances");
        }
        return Enumerable.Range(0, n).Select(i => blocks.SelectMany(b =>
        {
            var scale = 1.0 / Math.Sqrt(b.Rows[i].Length);
            return b.Rows[i].Select(v => v * scale);
        }).ToArray()).ToArray();
    }

    private static int MethodOrder(string method) => method switch { "concat" => 0, "tfn" => 1, "mult" => 2, "cmha" => 3, _ => 4 };

    private static string MethodLabel(string method) => method switch { "concat" => "Concat", "tfn" => "TFN", "mult" => "MulT", "cmha" => "CMHA", _ => method };

    private static string ModalityLabel(string modalities) => string.Join('+', modalities.ToCharArray());

    private static string Slug(string text) => new(text.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray());

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
