using System.Net;
using System.Net.Sockets;
using Dapper;
using FoldCluster.Storage;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Storage.Tests;

public class ConnectionTests
{
    [Fact]
    public async Task Unreachable_server_is_reported_with_host_and_port()
    {
        var port = UnusedPort();
        await using var dataSource = Database.CreateDataSource($"Host=127.0.0.1;Port={port};Username=nobody;Database=none");
        var error = await Assert.ThrowsAsync<DatabaseUnreachableException>(() => Database.OpenAsync(dataSource));
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("refused", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\n", error.Message);
    }

    [Fact]
    public void Password_is_redacted()
    {
        var redacted = ConnectionResolver.Redact("Host=db;Username=u;Password=secret123;Database=d");
        Assert.DoesNotContain("secret123", redacted);
        Assert.Contains("Host=db", redacted);
    }

    [Fact]
    public void Explicit_option_wins_over_environment()
    {
        var resolved = ConnectionResolver.Resolve("Host=example;Port=6000;Username=x;Database=y");
        Assert.Equal("Host=example;Port=6000;Username=x;Database=y", resolved);
    }

    [Fact]
    public void Malformed_connection_string_is_bad_input()
    {
        var error = Assert.Throws<Core.BadInputException>(() => ConnectionResolver.Resolve("Hots=x;;=="));
        Assert.Contains("--db", error.Message);
    }

    [Fact]
    public void Embedded_default_uses_the_recorded_port()
    {
        var dir = Directory.CreateTempSubdirectory("fc-state-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "db.json"), "{\"port\": 61234}");
            var server = EmbeddedPostgres.FromStateDirectory(dir.FullName);
            Assert.Equal(61234, server.Port);
            Assert.Equal("Host=127.0.0.1;Port=61234;Username=foldcluster;Database=foldcluster", server.ConnectionString); // before the first db up
            File.WriteAllText(Path.Combine(dir.FullName, "pgpass"), "127.0.0.1:*:*:foldcluster:" + new string('0', 64) + "\n");
            Assert.Equal($"Host=127.0.0.1;Port=61234;Username=foldcluster;Database=foldcluster;Passfile={Path.Combine(dir.FullName, "pgpass")}",
                server.ConnectionString);
            // db up: $FOLDCLUSTER_PG_PORT forces its port over the recorded one; without it the recorded one is reused.
            var forced = Environment.GetEnvironmentVariable(EmbeddedPostgres.PortVariable);
            Assert.Equal(string.IsNullOrWhiteSpace(forced) ? 61234 : int.Parse(forced, System.Globalization.CultureInfo.InvariantCulture),
                EmbeddedPostgres.ForStart(dir.FullName).Port);
            Assert.Equal(61235, EmbeddedPostgres.ForStart(dir.FullName, 61235).Port);
            Assert.True(EmbeddedPostgres.ForStart(dir.FullName, 61235).PortForced);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Sessions_carry_the_guards_against_vanished_clients()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        await using var connection = await Database.OpenAsync(db.DataSource);
        foreach (var (name, value) in Database.SessionGuards)
        {
            Assert.Equal(value, await connection.ExecuteScalarAsync<string>($"show {name}"));
        }
    }

    [Fact]
    public async Task A_process_keeps_at_most_the_default_pool_of_sessions_and_a_further_open_waits_for_one()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        await using var pool = Database.CreateDataSource(db.ConnectionString, "pool-test");
        var open = new List<Npgsql.NpgsqlConnection>();
        for (var i = 0; i < Database.DefaultMaxPoolSize; i++)
        {
            open.Add(await Database.OpenAsync(pool));
        }
        var waiting = Database.OpenAsync(pool);
        await Task.Delay(500);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(Database.DefaultMaxPoolSize, await open[0].ExecuteScalarAsync<int>(
            "select count(*)::int from pg_stat_activity where application_name = 'pool-test'"));

        await open[^1].DisposeAsync();
        await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(System.Data.ConnectionState.Open, next.State);
        foreach (var c in open.Take(open.Count - 1))
        {
            await c.DisposeAsync();
        }

        // A pool size in the connection string wins.
        await using var wide = Database.CreateDataSource(db.ConnectionString + ";Maximum Pool Size=40", "pool-test-wide");
        Assert.Equal(40, new Npgsql.NpgsqlConnectionStringBuilder(wide.ConnectionString).MaxPoolSize);
    }

    [Fact]
    public void A_server_out_of_sessions_is_a_failure_worth_retrying()
    {
        var full = new Npgsql.PostgresException("sorry, too many clients already", "FATAL", "FATAL", "53300");
        Assert.True(Database.IsConnectionFailure(full));
        Assert.False(Database.IsConnectionFailure(new Npgsql.PostgresException("duplicate key", "ERROR", "ERROR", "23505")));
    }

    [Fact]
    public async Task A_transaction_left_idle_is_aborted_and_its_row_lock_released()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        // A shorter idle timeout given by the user wins over the default guard.
        var shortTimeout = new Npgsql.NpgsqlConnectionStringBuilder(db.ConnectionString) { Options = "-c idle_in_transaction_session_timeout=1s" };
        await using var impatient = Database.CreateDataSource(shortTimeout.ConnectionString, "foldcluster-tests-idle");
        await using (var setup = await Database.OpenAsync(db.DataSource))
        {
            await setup.ExecuteAsync("create table guarded (id int primary key); insert into guarded values (1)");
        }
        await using var holder = await Database.OpenAsync(impatient);
        Assert.Equal("1s", await holder.ExecuteScalarAsync<string>("show idle_in_transaction_session_timeout"));
        Assert.Equal("10", await holder.ExecuteScalarAsync<string>("show tcp_keepalives_idle"));
        var tx = await holder.BeginTransactionAsync(); // never committed: the server aborts it
        await holder.ExecuteAsync("select id from guarded where id = 1 for update", transaction: tx);
        // The holder goes quiet, as a client cut off mid-transaction does. Another session waits at most a few seconds.
        await using var other = await Database.OpenAsync(db.DataSource);
        var started = DateTime.UtcNow;
        var locked = await other.ExecuteScalarAsync<int>("set lock_timeout = '20s'; select id from guarded where id = 1 for update");
        Assert.Equal(1, locked);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), $"lock released after {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
        // The quiet client learns on its next statement that its session is gone, as a retryable connection failure.
        var error = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => holder.ExecuteAsync("select 1", transaction: tx));
        Assert.Equal("25P03", error.SqlState);
        Assert.True(Database.IsConnectionFailure(error));
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
