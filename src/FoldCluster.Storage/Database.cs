using System.Net.Sockets;
using Npgsql;

namespace FoldCluster.Storage;

/// <summary>Thrown when the database cannot be reached; the message names host, port and cause in one line.</summary>
public sealed class DatabaseUnreachableException(string message, Exception inner) : Exception(message, inner);

/// <summary>One <see cref="NpgsqlDataSource"/> per process; connections are opened per unit of work.</summary>
public static class Database
{
    public static NpgsqlDataSource CreateDataSource(string connectionString, string applicationName = "foldcluster")
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = applicationName,
        };
        if (builder.Timeout == 15)
        {
            builder.Timeout = 5; // fail fast with a clear message instead of hanging on a dead host
        }
        if (builder.MaxPoolSize == 100)
        {
            // Npgsql's default (100) per process: eight nodes of 32 slots, storing results at once, would open more
            // sessions than a server allows (PostgreSQL's default max_connections is 100). Statements are short; a
            // slot waits a moment for a pooled session instead. "Maximum Pool Size" in the connection string wins.
            builder.MaxPoolSize = DefaultMaxPoolSize;
        }
        if (!connectionString.Contains("auto prepare", StringComparison.OrdinalIgnoreCase))
        {
            // The job store's statements run thousands of times a second at hundreds of slots: prepared once per
            // session, the server skips their parse and plan (measured: 15 % more assignments/s at 256 slots).
            // "Max Auto Prepare=0" in the connection string turns it off (for example behind a transaction pooler).
            builder.MaxAutoPrepare = 32;
            builder.AutoPrepareMinUsages = 2;
        }
        if (!connectionString.Contains("reset on close", StringComparison.OrdinalIgnoreCase))
        {
            // A pooled session is reset before its next use by default: six statements (RESET ALL, CLOSE ALL, ...) on
            // every open, more than the job store's own statements at hundreds of slots (measured: 47,000 resets for
            // 20,000 jobs). Nothing here leaves session state behind: settings are `set local`, advisory locks are
            // transaction-scoped or unlocked in a finally block, and prepared statements are meant to stay.
            // "No Reset On Close=false" in the connection string turns the reset back on.
            builder.NoResetOnClose = true;
        }
        builder.Options = WithSessionGuards(builder.Options);
        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    /// <summary>Sessions one process keeps at most unless its connection string says otherwise.</summary>
    public const int DefaultMaxPoolSize = 16;

    /// <summary>
    /// Server-side guards for a client that vanishes (its host cut off, its process killed) in the middle of a
    /// transaction: the server would otherwise keep that session "idle in transaction" for hours, holding the row locks
    /// of the job it was writing, so every later write of that job times out. Unanswered keepalives end the session
    /// after about 25 s, and a transaction left idle for 30 s is aborted. Settings already given in Options win.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, string Value)> SessionGuards =
    [
        ("idle_in_transaction_session_timeout", "30s"),
        ("tcp_keepalives_idle", "10"),
        ("tcp_keepalives_interval", "5"),
        ("tcp_keepalives_count", "3"),
    ];

    private static string WithSessionGuards(string? options)
    {
        var given = options ?? "";
        var added = SessionGuards
            .Where(g => !given.Contains(g.Name, StringComparison.Ordinal))
            .Select(g => $"-c {g.Name}={g.Value}");
        return string.Join(' ', new[] { given.Trim() }.Where(o => o.Length > 0).Concat(added));
    }

    /// <summary>Opens a connection, turning connection failures into one clear line naming host and port.</summary>
    public static async Task<NpgsqlConnection> OpenAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        try
        {
            return await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            throw Unreachable(dataSource.ConnectionString, e);
        }
    }

    public static NpgsqlConnection Open(NpgsqlDataSource dataSource)
    {
        try
        {
            return dataSource.OpenConnection();
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            throw Unreachable(dataSource.ConnectionString, e);
        }
    }

    /// <summary>True for failures where retrying later may succeed (server down, restarting, network).</summary>
    public static bool IsConnectionFailure(Exception e) => e switch
    {
        DatabaseUnreachableException => true,
        NpgsqlException { InnerException: SocketException or TimeoutException or IOException } => true,
        // 53300: the server has no session left (too many clients); it frees as others finish.
        PostgresException pg => pg.SqlState is "57P01" or "57P02" or "57P03" or "25P03" or "57P05" or "53300" or "08000" or "08003" or "08006" or "08001" or "08004",
        NpgsqlException n when n.Message.Contains("Exception while connecting", StringComparison.Ordinal)
                            || n.Message.Contains("Exception while reading from stream", StringComparison.Ordinal)
                            || n.Message.Contains("Exception while writing to stream", StringComparison.Ordinal) => true,
        SocketException or TimeoutException => true,
        _ => false,
    };

    private static DatabaseUnreachableException Unreachable(string connectionString, Exception e)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var cause = Innermost(e).Message.TrimEnd('.');
        var db = string.IsNullOrEmpty(builder.Database) ? "" : $", database {builder.Database}";
        return new DatabaseUnreachableException(
            $"cannot reach PostgreSQL at {builder.Host}:{builder.Port}{db}: {cause}", e);
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e;
    }
}
