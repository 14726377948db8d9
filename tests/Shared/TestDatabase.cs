using FoldCluster.Storage;
using Npgsql;

namespace FoldCluster.Tests.Shared;

/// <summary>
/// A fresh, migrated database on the test PostgreSQL server, dropped on dispose.
/// Server: $FOLDCLUSTER_TEST_DB (a connection string with rights to create databases), else $FOLDCLUSTER_DB,
/// else the embedded database of `foldcluster db up` (scripts/test.sh starts it). No server: the test fails
/// with a message saying how to start one (these tests need the real server; there is no fake).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable, IDisposable
{
    private readonly string _adminConnectionString;

    private TestDatabase(string adminConnectionString, string name, string connectionString)
    {
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = connectionString;
        DataSource = Database.CreateDataSource(connectionString, "foldcluster-tests");
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public static string AdminConnectionString()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("FOLDCLUSTER_TEST_DB");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return fromEnvironment;
        }
        return ConnectionResolver.Resolve(null);
    }

    /// <param name="migrate">Apply the project's migrations (default); false gives an empty database.</param>
    public static async Task<TestDatabase> CreateAsync(bool migrate = true)
    {
        var admin = AdminConnectionString();
        var name = "fc_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var adminSource = Database.CreateDataSource(admin, "foldcluster-tests"))
        {
            try
            {
                await using var connection = await Database.OpenAsync(adminSource);
                await using var command = new NpgsqlCommand($"create database {name}", connection);
                await command.ExecuteNonQueryAsync();
            }
            catch (DatabaseUnreachableException e)
            {
                throw new InvalidOperationException(
                    $"{e.Message}. These tests need a real PostgreSQL server: run scripts/test.sh, or `foldcluster db up`, or set FOLDCLUSTER_TEST_DB.", e);
            }
        }
        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        var database = new TestDatabase(admin, name, builder.ConnectionString);
        if (migrate)
        {
            await MigrationRunner.MigrateAsync(database.DataSource, MigrationRunner.Embedded());
        }
        return database;
    }

    public static TestDatabase Create(bool migrate = true) => CreateAsync(migrate).GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var adminSource = Database.CreateDataSource(_adminConnectionString, "foldcluster-tests");
        await using var connection = await adminSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand($"drop database if exists {Name} with (force)", connection);
        // An autovacuum worker in the database has no role, and PostgreSQL 15 refuses to terminate it for a role that
        // is not a superuser (42501); it ends within moments, so the drop is tried again for a while.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await command.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
