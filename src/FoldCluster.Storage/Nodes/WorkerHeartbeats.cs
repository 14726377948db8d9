using Dapper;
using Npgsql;

namespace FoldCluster.Storage.Nodes;

/// <summary>One worker node as its last heartbeat described it.</summary>
public sealed record WorkerHeartbeat
{
    public string Worker { get; init; } = "";
    public string NodeName { get; init; } = "";
    public string Host { get; init; } = "";
    public string Roles { get; init; } = "";
    public string[] Slots { get; init; } = [];
    public DateTime StartedAt { get; init; }
    public DateTime LastSeenAt { get; init; }
}

/// <summary>
/// The worker_heartbeats table (sql/0008): nodes upsert their row periodically; readers (the dashboard's nodes page)
/// list the workers seen within a window. The database clock stamps every beat, so hosts with skewed clocks agree.
/// </summary>
public sealed class WorkerHeartbeats(NpgsqlDataSource dataSource)
{
    public async Task BeatAsync(string worker, string nodeName, string host, string roles, IReadOnlyList<string> slots, DateTime startedAtUtc, CancellationToken ct = default)
    {
        const string sql = """
            insert into worker_heartbeats (worker, node_name, host, roles, slots, started_at, last_seen_at)
            values (@Worker, @NodeName, @Host, @Roles, @Slots, @StartedAt, now())
            on conflict (worker) do update
               set node_name = excluded.node_name, host = excluded.host, roles = excluded.roles,
                   slots = excluded.slots, last_seen_at = now()
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        await connection.ExecuteAsync(new CommandDefinition(sql, new
        {
            Worker = worker,
            NodeName = nodeName,
            Host = host,
            Roles = roles,
            Slots = slots.ToArray(),
            StartedAt = DateTime.SpecifyKind(startedAtUtc, DateTimeKind.Utc),
        }, cancellationToken: ct));
    }

    /// <summary>Workers whose last beat is at most <paramref name="window"/> old, newest first.</summary>
    public async Task<IReadOnlyList<WorkerHeartbeat>> SeenWithinAsync(TimeSpan window, CancellationToken ct = default)
    {
        const string sql = """
            select worker as Worker, node_name as NodeName, host as Host, roles as Roles, slots as Slots,
                   started_at as StartedAt, last_seen_at as LastSeenAt
            from worker_heartbeats
            where last_seen_at >= now() - @Window
            order by node_name, worker
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<WorkerHeartbeat>(new CommandDefinition(sql, new { Window = window }, cancellationToken: ct))).AsList();
    }
}
