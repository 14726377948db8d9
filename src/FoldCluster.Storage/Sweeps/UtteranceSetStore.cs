using System.Text.Json;
using Dapper;
using Npgsql;

namespace FoldCluster.Storage.Sweeps;

/// <summary>
/// One dataset's utterance set of a sweep as planned at submit: the utterances (of <paramref name="Labelled"/> in the
/// four classes) that have every modality in <paramref name="Modalities"/>, and those left out, by reason.
/// </summary>
public sealed record PlannedUtteranceSet(
    string Dataset, string Extractor, string Modalities, int Utterances, int Labelled, IReadOnlyDictionary<string, int> LeftOut);

/// <summary>The `sweep_utterance_sets` rows (sql/0005): the stored plan of which utterances a sweep's jobs share.</summary>
public sealed class UtteranceSetStore(NpgsqlDataSource dataSource)
{
    public async Task RecordAsync(long sweepId, IReadOnlyList<PlannedUtteranceSet> sets, CancellationToken ct = default)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        foreach (var s in sets)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                insert into sweep_utterance_sets (sweep_id, dataset, extractor, modalities, utterances, labelled, left_out)
                values (@sweepId, @Dataset, @Extractor, @Modalities, @Utterances, @Labelled, @leftOut::jsonb)
                on conflict (sweep_id, dataset, extractor) do update
                set modalities = excluded.modalities, utterances = excluded.utterances, labelled = excluded.labelled,
                    left_out = excluded.left_out, planned_at = now()
                """, new { sweepId, s.Dataset, s.Extractor, s.Modalities, s.Utterances, s.Labelled, leftOut = JsonSerializer.Serialize(s.LeftOut) },
                cancellationToken: ct)).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<PlannedUtteranceSet>> ListAsync(long sweepId, CancellationToken ct = default)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string Dataset, string Extractor, string Modalities, int Utterances, int Labelled, string LeftOut)>(
            new CommandDefinition("""
                select dataset, extractor, modalities, utterances, labelled, left_out::text
                from sweep_utterance_sets where sweep_id = @sweepId order by dataset, extractor
                """, new { sweepId }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => new PlannedUtteranceSet(r.Dataset, r.Extractor, r.Modalities, r.Utterances, r.Labelled,
            JsonSerializer.Deserialize<Dictionary<string, int>>(r.LeftOut) ?? [])).ToList();
    }
}
