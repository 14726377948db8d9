using System.Net;
using System.Net.Sockets;
using FoldCluster.Storage;

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

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
