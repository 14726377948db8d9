using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace FoldCluster.Storage;

/// <summary>One ordered schema change: `sql/NNNN_name.sql`.</summary>
public sealed record Migration(int Version, string FileName, string Sql)
{
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
}

public sealed record MigrationReport(IReadOnlyList<Migration> Applied, int AlreadyApplied);

/// <summary>A migration failed and was rolled back; nothing of it was applied.</summary>
public sealed class MigrationFailedException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Applies `sql/NNNN_*.sql` in order, each in its own transaction, recording each in `schema_version`.
/// A session-level advisory lock serialises concurrent runners (several nodes or CLI calls at once):
/// the second runner waits, then finds everything applied.
/// </summary>
public static partial class MigrationRunner
{
    /// <summary>Arbitrary but fixed key of the advisory lock ("FC" + 0001).</summary>
    public const long AdvisoryLockKey = 0x4643_0001;

    [GeneratedRegex(@"^(\d{4})_[A-Za-z0-9_\-]+\.sql$")]
    private static partial Regex FileNamePattern();

    /// <summary>The migrations shipped inside this assembly (the repository's `sql/` folder).</summary>
    public static IReadOnlyList<Migration> Embedded()
    {
        var assembly = typeof(MigrationRunner).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("sql/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            migrations.Add(Parse(resource["sql/".Length..], reader.ReadToEnd()));
        }
        return Ordered(migrations);
    }

    public static IReadOnlyList<Migration> FromDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new Core.BadInputException($"migration folder '{directory}' does not exist");
        }
        var migrations = Directory.EnumerateFiles(directory, "*.sql")
            .Select(path => Parse(Path.GetFileName(path), File.ReadAllText(path)))
            .ToList();
        return Ordered(migrations);
    }

    public static Migration Parse(string fileName, string sql)
    {
        var match = FileNamePattern().Match(fileName);
        if (!match.Success)
        {
            throw new Core.BadInputException($"migration file '{fileName}' is not named NNNN_name.sql (four digits, underscore, name)");
        }
        return new Migration(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), fileName, sql);
    }

    private static List<Migration> Ordered(List<Migration> migrations)
    {
        var duplicate = migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new Core.BadInputException(
                $"two migrations share version {duplicate.Key:D4}: {string.Join(", ", duplicate.Select(m => m.FileName))}");
        }
        return [.. migrations.OrderBy(m => m.Version)];
    }

    public static async Task<MigrationReport> MigrateAsync(
        NpgsqlDataSource dataSource,
        IReadOnlyList<Migration> migrations,
        Action<string>? log = null,
        CancellationToken ct = default)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_lock(@key)", new { key = AdvisoryLockKey }, cancellationToken: ct)).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                create table if not exists schema_version (
                    version     integer primary key,
                    name        text not null,
                    checksum    text not null,
                    applied_at  timestamptz not null default now()
                )
                """, cancellationToken: ct)).ConfigureAwait(false);

            var applied = (await connection.QueryAsync<(int Version, string Name, string Checksum)>(
                new CommandDefinition("select version, name, checksum from schema_version", cancellationToken: ct)).ConfigureAwait(false))
                .ToDictionary(r => r.Version);

            var done = new List<Migration>();
            var already = 0;
            foreach (var migration in migrations)
            {
                if (applied.TryGetValue(migration.Version, out var existing))
                {
                    if (existing.Checksum != migration.Checksum)
                    {
                        throw new MigrationFailedException(
                            $"migration {migration.FileName} was changed after it was applied (as {existing.Name}); add a new migration instead of editing an applied one",
                            new InvalidOperationException("checksum mismatch"));
                    }
                    already++;
                    continue;
                }
                await ApplyAsync(connection, migration, ct).ConfigureAwait(false);
                log?.Invoke($"applied {migration.FileName}");
                done.Add(migration);
            }
            return new MigrationReport(done, already);
        }
        finally
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await connection.ExecuteAsync("select pg_advisory_unlock(@key)", new { key = AdvisoryLockKey }).ConfigureAwait(false);
            }
        }
    }

    private static async Task ApplyAsync(NpgsqlConnection connection, Migration migration, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var statements = SqlScript.Split(migration.Sql);
        var current = 0;
        try
        {
            // One statement at a time, so an error's position maps back to the file.
            for (current = 0; current < statements.Count; current++)
            {
                await using var command = new NpgsqlCommand(statements[current].Text, connection, transaction);
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            await connection.ExecuteAsync(new CommandDefinition(
                "insert into schema_version (version, name, checksum) values (@Version, @FileName, @Checksum)",
                migration, transaction, cancellationToken: ct)).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
        }
        catch (PostgresException e)
        {
            await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            var statement = statements[Math.Min(current, statements.Count - 1)];
            var offset = statement.Offset + Math.Max(e.Position - 1, 0);
            var (line, column) = SqlScript.LineAndColumn(migration.Sql, offset);
            throw new MigrationFailedException(
                $"migration {migration.FileName} failed at line {line}, column {column} (statement {current + 1}) and was rolled back: {e.MessageText} (SQLSTATE {e.SqlState})", e);
        }
    }
}
