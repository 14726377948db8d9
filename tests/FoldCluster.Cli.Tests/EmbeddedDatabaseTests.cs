using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Dapper;
using FoldCluster.Storage;
using FoldCluster.Tests.Shared;
using Npgsql;

namespace FoldCluster.Cli.Tests;

/// <summary>
/// `foldcluster db up` on a state folder of its own (a real PostgreSQL server per test, stopped and removed at the end):
/// passworded, private, on a free port when the default one is taken.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class EmbeddedDatabaseTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("foldcluster-db-test-");

    private string State => Path.Combine(_root.FullName, "state");

    private Dictionary<string, string?> Environment(int? port) => new()
    {
        ["FOLDCLUSTER_STATE"] = State,
        [EmbeddedPostgres.PortVariable] = port?.ToString(CultureInfo.InvariantCulture),
        [ConnectionResolver.EnvironmentVariable] = null,
    };

    private Task<CliResult> Db(int? port, params string[] args) =>
        CliProcess.RunAsync(["db", .. args], Environment(port), TimeSpan.FromMinutes(3));

    [Fact]
    public async Task A_fresh_db_up_is_passworded_private_and_keeps_the_password_out_of_its_output()
    {
        // An existing state folder readable by everyone is made private too.
        Directory.CreateDirectory(State);
        File.SetUnixFileMode(State, (UnixFileMode)0b111_101_101);
        var port = FreePort();

        var up = await Db(port, "up");
        Assert.True(up.ExitCode == 0, up.StandardError);
        Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(State));
        var passwordFile = Path.Combine(State, "pgpass");
        Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(passwordFile));
        var password = File.ReadAllText(passwordFile).Trim().Split(':')[^1];
        Assert.Equal(64, password.Length);

        var connectionString = up.StandardOutput.Trim();
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        Assert.Equal(port, builder.Port);
        Assert.Equal(passwordFile, builder.Passfile);
        Assert.Null(builder.Password);
        Assert.DoesNotContain(password, up.StandardOutput + up.StandardError, StringComparison.Ordinal);

        // The printed connection string logs in as the project's role, which is no superuser.
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            var (user, super) = await connection.QuerySingleAsync<(string, bool)>(
                "select current_user::text, rolsuper from pg_roles where rolname = current_user");
            Assert.Equal("foldcluster", user);
            Assert.False(super);
        }

        // Without the password, with a wrong one, and as the superuser even with the right one: refused on 127.0.0.1.
        var emptyPasswordFile = Path.Combine(_root.FullName, "empty-pgpass");
        File.WriteAllText(emptyPasswordFile, "");
        var bare = $"Host=127.0.0.1;Port={port};Username=foldcluster;Database=foldcluster;Passfile={emptyPasswordFile};Timeout=10;Pooling=false";
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => OpenAsync(bare));
        var wrong = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(bare + ";Password=" + new string('0', 64)));
        Assert.Equal("28P01", wrong.SqlState); // invalid_password
        var superuser = await Assert.ThrowsAsync<PostgresException>(() =>
            OpenAsync($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Password={password};Timeout=10;Pooling=false"));
        Assert.Equal("28000", superuser.SqlState); // no pg_hba.conf entry

        var migrate = await Db(port, "migrate");
        Assert.True(migrate.ExitCode == 0, migrate.StandardError);
        Assert.Contains("applied", migrate.StandardError, StringComparison.Ordinal);

        // Again: the same database, already running.
        var again = await Db(port, "up");
        Assert.True(again.ExitCode == 0, again.StandardError);
        Assert.Equal(connectionString, again.StandardOutput.Trim());
        Assert.Contains("already running", again.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_default_port_taken_db_up_picks_a_free_one_remembers_it_and_says_which()
    {
        // Hold 54329 unless another program already does: either way it is taken while db up runs.
        using var holder = TryListen(EmbeddedPostgres.DefaultPort);
        Assert.False(IsFree(EmbeddedPostgres.DefaultPort));

        var up = await Db(null, "up");
        Assert.True(up.ExitCode == 0, up.StandardError);
        var port = new NpgsqlConnectionStringBuilder(up.StandardOutput.Trim()).Port;
        Assert.NotEqual(EmbeddedPostgres.DefaultPort, port);
        Assert.Contains($"port {EmbeddedPostgres.DefaultPort} on 127.0.0.1 is in use by another program; the embedded database uses port {port}",
            up.StandardError, StringComparison.Ordinal);
        using (var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(State, "db.json"))))
        {
            Assert.Equal(port, settings.RootElement.GetProperty("port").GetInt32());
        }

        // Running, and after a restart: the same port and the same data.
        var again = await Db(null, "up");
        Assert.Equal(up.StandardOutput, again.StandardOutput);
        await using (var connection = new NpgsqlConnection(up.StandardOutput.Trim()))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync("create table kept (x int); insert into kept values (7)");
        }
        NpgsqlConnection.ClearAllPools();
        Assert.Equal(0, (await Db(null, "down")).ExitCode);
        var restarted = await Db(null, "up");
        Assert.True(restarted.ExitCode == 0, restarted.StandardError);
        Assert.Equal(up.StandardOutput, restarted.StandardOutput);
        await using (var connection = new NpgsqlConnection(restarted.StandardOutput.Trim()))
        {
            await connection.OpenAsync();
            Assert.Equal(7, await connection.ExecuteScalarAsync<int>("select x from kept"));
        }
    }

    [Fact]
    public async Task A_forced_port_that_is_taken_is_refused_with_exit_code_2()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var up = await Db(port, "up");
        Assert.Equal(2, up.ExitCode);
        Assert.Contains($"port {port} on 127.0.0.1 is in use by another program", up.StandardError, StringComparison.Ordinal);
        Assert.Equal("", up.StandardOutput.Trim());
    }

    [Fact]
    public async Task A_database_of_an_older_version_with_trust_authentication_is_refused_with_what_to_do()
    {
        var port = FreePort();
        var up = await Db(port, "up");
        Assert.True(up.ExitCode == 0, up.StandardError);
        Assert.Equal(0, (await Db(port, "down")).ExitCode);
        // What `initdb --auth=trust` of the older versions left.
        var data = new DirectoryInfo(Path.Combine(State, "pg")).ResolveLinkTarget(true)?.FullName ?? Path.Combine(State, "pg");
        File.WriteAllText(Path.Combine(data, "pg_hba.conf"), "local all all trust\nhost all all 127.0.0.1/32 trust\n");

        var refused = await Db(port, "up");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("created by an older FoldCluster with trust authentication", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("foldcluster db down", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("pg_dump", refused.StandardError, StringComparison.Ordinal);
        Assert.Equal("", refused.StandardOutput.Trim());
    }

    private static async Task OpenAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsFree(int port) => TryListen(port) is { } l && Stop(l);

    private static bool Stop(TcpListener listener)
    {
        listener.Stop();
        listener.Dispose();
        return true;
    }

    private static TcpListener? TryListen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return listener;
        }
        catch (SocketException)
        {
            listener.Dispose();
            return null;
        }
    }

    public void Dispose()
    {
        var data = new DirectoryInfo(Path.Combine(State, "pg"));
        if (data.Exists || data.LinkTarget is not null)
        {
            Db(null, "down").GetAwaiter().GetResult();
            var target = data.LinkTarget is null ? null : data.ResolveLinkTarget(true)?.FullName;
            if (target is not null && Directory.Exists(target))
            {
                Directory.Delete(Path.GetDirectoryName(target)!, recursive: true);
            }
        }
        NpgsqlConnection.ClearAllPools();
        _root.Delete(recursive: true);
    }
}
