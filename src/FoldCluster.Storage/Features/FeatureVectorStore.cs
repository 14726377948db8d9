using FoldCluster.Core;
using Npgsql;
using NpgsqlTypes;

namespace FoldCluster.Storage.Features;

/// <summary>
/// The stored time-pooled vectors of test utterances (table feature_vectors, sql/0004). Written by the result's
/// transaction only (<see cref="Jobs.JobStore.StoreResultAsync"/>), so a stale attempt stores none.
/// </summary>
public static class FeatureVectorStore
{
    /// <summary>Binary COPY of a job's vectors on the caller's connection (inside its transaction).</summary>
    internal static async Task WriteAsync(NpgsqlConnection connection, long jobId, IReadOnlyList<FeatureVector> vectors, CancellationToken ct)
    {
        if (vectors.Count == 0)
        {
            return;
        }
        await using var import = await connection.BeginBinaryImportAsync(
            "copy feature_vectors (job_id, utterance_id, kind, vec) from stdin (format binary)", ct).ConfigureAwait(false);
        foreach (var v in vectors)
        {
            await import.StartRowAsync(ct).ConfigureAwait(false);
            await import.WriteAsync(jobId, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
            await import.WriteAsync(v.UtteranceId, NpgsqlDbType.Text, ct).ConfigureAwait(false);
            await import.WriteAsync(v.Kind, NpgsqlDbType.Text, ct).ConfigureAwait(false);
            await import.WriteAsync(v.Values, NpgsqlDbType.Array | NpgsqlDbType.Real, ct).ConfigureAwait(false);
        }
        await import.CompleteAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Checks the vectors before the transaction opens: known kinds, finite values, one width per kind.</summary>
    internal static void Check(IReadOnlyList<FeatureVector> vectors)
    {
        var widths = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<(string, string)>();
        foreach (var v in vectors)
        {
            if (!IsKnownKind(v.Kind))
            {
                throw new ArgumentException($"feature vector kind '{v.Kind}' is not known: expected fused.stage1, fused.stage2, input.<modality> or encoded.<modality>");
            }
            if (v.Values.Length == 0 || v.Values.Any(x => !float.IsFinite(x)))
            {
                throw new ArgumentException($"feature vector {v.Kind} of utterance '{v.UtteranceId}' is empty or holds a value that is not finite");
            }
            if (widths.TryGetValue(v.Kind, out var width) ? width != v.Values.Length : !widths.TryAdd(v.Kind, v.Values.Length))
            {
                throw new ArgumentException($"feature vectors {v.Kind} have {v.Values.Length} and {width} values: expected one width per kind");
            }
            if (!seen.Add((v.Kind, v.UtteranceId)))
            {
                throw new ArgumentException($"feature vector {v.Kind} of utterance '{v.UtteranceId}' is given twice");
            }
        }
    }

    private static bool IsKnownKind(string kind) =>
        kind is FeatureKinds.FusedStage1 or FeatureKinds.FusedStage2
        || FeatureKinds.Modalities.Any(m => kind == FeatureKinds.Input(m) || kind == FeatureKinds.Encoded(m));
}
