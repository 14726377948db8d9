using System.Globalization;
using Dapper;
using FoldCluster.Core;
using Npgsql;

namespace FoldCluster.Storage.Sweeps;

/// <summary>
/// The one query behind every <see cref="SweepSummary"/> (`sweep list`, `sweep status`, the reports) and the one
/// wording of "unknown sweep", which lists the sweeps that exist.
/// </summary>
public static class SweepSummaries
{
    /// <summary>Counts per job state, and Finished = succeeded jobs with a stored result; append a where / group by.</summary>
    public const string Select = """
        select s.sweep_id as SweepId, s.name as Name, s.state as State, s.created_at as CreatedAt, s.code_version as CodeVersion,
               count(*) filter (where j.state = 'queued')::int as Queued,
               count(*) filter (where j.state = 'running')::int as Running,
               count(*) filter (where j.state = 'succeeded')::int as Succeeded,
               count(*) filter (where j.state = 'failed')::int as Failed,
               count(*) filter (where j.state = 'cancelled')::int as Cancelled,
               count(r.job_id) filter (where j.state = 'succeeded')::int as Finished
        from sweeps s
        left join jobs j on j.sweep_id = s.sweep_id
        left join results r on r.job_id = j.job_id
        """;

    /// <summary>Every sweep, oldest first.</summary>
    public static async Task<IReadOnlyList<SweepSummary>> ListAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var rows = await connection.QueryAsync<SweepSummary>(new CommandDefinition(
            Select + " group by s.sweep_id order by s.created_at, s.sweep_id", cancellationToken: ct)).ConfigureAwait(false);
        return [.. rows.Select(Utc)];
    }

    /// <summary>The sweep named <paramref name="nameOrNumber"/>, else the one with that number; null when neither exists.</summary>
    public static async Task<SweepSummary?> FindAsync(NpgsqlConnection connection, string nameOrNumber, CancellationToken ct)
    {
        var id = long.TryParse(nameOrNumber, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
        var found = await connection.QuerySingleOrDefaultAsync<SweepSummary>(new CommandDefinition(
            Select + " where s.name = @Name or s.sweep_id = @Id group by s.sweep_id order by (s.name = @Name) desc limit 1",
            new { Name = nameOrNumber, Id = id }, cancellationToken: ct)).ConfigureAwait(false);
        return found is null ? null : Utc(found);
    }

    /// <summary>"no sweep named 'x'; known sweeps: a (3/10 jobs finished), b (...)", naming the most recent twenty.</summary>
    public static async Task<BadInputException> UnknownAsync(NpgsqlConnection connection, string name, CancellationToken ct) =>
        Unknown(name, await ListAsync(connection, ct).ConfigureAwait(false));

    public static BadInputException Unknown(string name, IReadOnlyList<SweepSummary> existing)
    {
        if (existing.Count == 0)
        {
            return new BadInputException($"no sweep named '{name}': the database holds no sweep yet (submit one with `foldcluster sweep submit`)");
        }
        var recent = existing.Reverse().Take(20).Select(s => $"{s.Name} ({s.Finished}/{s.Total} jobs finished)");
        var more = existing.Count > 20 ? $", and {existing.Count - 20} older" : "";
        return new BadInputException($"no sweep named '{name}'; known sweeps: {string.Join(", ", recent)}{more}");
    }

    internal static SweepSummary Utc(SweepSummary s) => s with { CreatedAt = DateTime.SpecifyKind(s.CreatedAt, DateTimeKind.Utc) };
}
