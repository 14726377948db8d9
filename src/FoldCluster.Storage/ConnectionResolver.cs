using Npgsql;

namespace FoldCluster.Storage;

/// <summary>
/// Where the result database is: `--db CONN`, else $FOLDCLUSTER_DB, else the embedded default that
/// `foldcluster db up` started (its connection string is recorded in the state folder).
/// </summary>
public static class ConnectionResolver
{
    public const string EnvironmentVariable = "FOLDCLUSTER_DB";

    public static string Resolve(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            return Validate(option, "--db");
        }
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Validate(fromEnvironment, EnvironmentVariable);
        }
        return EmbeddedPostgres.FromStateDirectory(StatePaths.StateDirectory()).ConnectionString;
    }

    /// <summary>The connection string with any password removed, for logs and messages.</summary>
    public static string Redact(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (!string.IsNullOrEmpty(builder.Password))
            {
                builder.Password = "***";
            }
            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return "(unparseable connection string)";
        }
    }

    private static string Validate(string connectionString, string source)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
            return connectionString;
        }
        catch (ArgumentException e)
        {
            throw new Core.BadInputException(
                $"{source} is not a valid PostgreSQL connection string ({e.Message}); expected for example 'Host=127.0.0.1;Port=5432;Username=foldcluster;Database=foldcluster'");
        }
    }
}
