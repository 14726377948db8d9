using Dapper;
using Npgsql;

namespace FoldCluster.Reports.Queries;

/// <summary>A cell of a sweep whose stored vectors the figures can use (one job: the first storing fold).</summary>
public sealed record StoredCell(long JobId, string Dataset, string Extractor, string Method, string Modalities, bool Pretrained, int Fold, string[] Kinds);

/// <summary>Stored vectors of one job and kind, with each test utterance's true class (from its prediction row).</summary>
public sealed record StoredVectors(string[] UtteranceIds, int[] Labels, double[][] Rows);

/// <summary>Reads the stored time-pooled vectors (table feature_vectors) for the analysis figures.</summary>
public sealed class FeatureVectorQueries(NpgsqlDataSource dataSource)
{
    /// <summary>Per (dataset, extractor, method, modalities, pre-training) of the split and profile: the job of the lowest storing fold and its kinds.</summary>
    public async Task<IReadOnlyList<StoredCell>> CellsAsync(long sweepId, string split, string profile, CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(long JobId, string Dataset, string Extractor, string Method, string Modalities, bool Pretrained, int Fold, string[] Kinds)>(
            new CommandDefinition("""
                select distinct on (j.dataset, j.extractor, j.method, j.modalities, j.pretrained)
                       j.job_id, j.dataset, j.extractor, j.method, j.modalities, j.pretrained, j.fold,
                       array(select distinct f.kind from feature_vectors f where f.job_id = j.job_id order by 1) as kinds
                from jobs j
                where j.sweep_id = @sweepId and j.split = @split and j.profile = @profile and j.state = 'succeeded'
                  and exists (select 1 from feature_vectors f where f.job_id = j.job_id)
                order by j.dataset, j.extractor, j.method, j.modalities, j.pretrained, j.fold, j.seed, j.job_id
                """, new { sweepId, split, profile }, cancellationToken: ct));
        return rows.Select(r => new StoredCell(r.JobId, r.Dataset, r.Extractor, r.Method, r.Modalities, r.Pretrained, r.Fold, r.Kinds)).ToList();
    }

    public async Task<StoredVectors> VectorsAsync(long jobId, string kind, CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = (await connection.QueryAsync<(string UtteranceId, short Label, float[] Vec)>(new CommandDefinition("""
            select f.utterance_id, p.true_label, f.vec
            from feature_vectors f join predictions p on p.job_id = f.job_id and p.utterance_id = f.utterance_id
            where f.job_id = @jobId and f.kind = @kind
            order by f.utterance_id
            """, new { jobId, kind }, cancellationToken: ct))).ToList();
        return new StoredVectors(
            rows.Select(r => r.UtteranceId).ToArray(),
            rows.Select(r => (int)r.Label).ToArray(),
            rows.Select(r => r.Vec.Select(v => (double)v).ToArray()).ToArray());
    }
}
