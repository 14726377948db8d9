using System.Security.Cryptography;
using Dapper;
using FoldCluster.Storage;
using Npgsql;

namespace FoldCluster.Cluster.Tests.MultiHost;

/// <summary>
/// A PostgreSQL server on the lab's database host: run as the `postgres` OS user (initdb refuses root), listening on
/// the host's address with scram password authentication for the nodes. The test itself talks to it through the
/// server's Unix socket (a file, so it works from outside the namespaces and while the network is cut).
/// </summary>
public sealed class LabPostgres : IDisposable
{
    public const int Port = 5432;
    public const string Role = "foldcluster";

    private readonly NetworkLab _lab;
    private readonly DirectoryInfo _dir;
    private readonly string _bin = EmbeddedPostgres.FindBinaries();
    private readonly Action<string>? _echo;
    private LabProcess? _server;

    public LabPostgres(NetworkLab lab, Action<string>? echo = null)
    {
        _lab = lab;
        _echo = echo;
        _dir = Directory.CreateTempSubdirectory("fclab-pg-");
        // The postgres user must reach its data and socket folders inside this root-owned temporary folder.
        SetMode(_dir.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        Password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        Directory.CreateDirectory(DataDirectory);
        Directory.CreateDirectory(SocketDirectory);
        var passwordFile = Path.Combine(_dir.FullName, "pw");
        File.WriteAllText(passwordFile, Password + "\n");
        NetworkLab.Run("chown", "-R", "postgres:postgres", _dir.FullName);
        SetMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        AsPostgres(Path.Combine(_bin, "initdb"), "-D", DataDirectory, "-U", "postgres", "--auth-local=trust",
            "--auth-host=scram-sha-256", $"--pwfile={passwordFile}", "-E", "UTF8", "--no-instructions");
        File.Delete(passwordFile);
        File.AppendAllText(Path.Combine(DataDirectory, "pg_hba.conf"), "host all all 10.213.1.0/24 scram-sha-256\n");
        Start();
        using var admin = Database.CreateDataSource(AdminConnectionString("postgres"), "fclab-admin");
        using var connection = admin.OpenConnection();
        connection.Execute($"create role {Role} login password '{Password}'");
    }

    /// <summary>The nodes' password (goes to them through the environment only).</summary>
    public string Password { get; }

    private string DataDirectory => Path.Combine(_dir.FullName, "data");

    private string SocketDirectory => Path.Combine(_dir.FullName, "sock");

    /// <summary>For the test process: the Unix socket, trusted.</summary>
    public string AdminConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = SocketDirectory, Port = Port, Username = "postgres", Database = database, Pooling = false }.ConnectionString;

    /// <summary>For the test process, as the nodes' role: the Unix socket.</summary>
    public string LocalConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = SocketDirectory, Port = Port, Username = Role, Database = database }.ConnectionString;

    /// <summary>For the nodes: over the database bridge, with the password.</summary>
    public string NodeConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = NetworkLab.DatabaseAddress, Port = Port, Username = Role, Password = Password, Database = database, Timeout = 5 }.ConnectionString;

    /// <summary>A fresh database with the project's migrations applied.</summary>
    public async Task CreateDatabaseAsync(string name)
    {
        await using (var admin = Database.CreateDataSource(AdminConnectionString("postgres"), "fclab-admin"))
        await using (var connection = await admin.OpenConnectionAsync())
        {
            await connection.ExecuteAsync($"create database {name} owner {Role}");
        }
        await using var source = Database.CreateDataSource(LocalConnectionString(name), "fclab-migrate");
        await MigrationRunner.MigrateAsync(source, MigrationRunner.Embedded());
    }

    public void Start()
    {
        _server = LabProcess.Start("postgres", _lab.DatabaseHost, "setpriv",
        [
            "--reuid=postgres", "--regid=postgres", "--init-groups", "--",
            Path.Combine(_bin, "postgres"), "-D", DataDirectory, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", $"listen_addresses={NetworkLab.DatabaseAddress}", "-c", $"unix_socket_directories={SocketDirectory}",
            "-c", "fsync=off", "-c", "max_connections=200",
        ], echo: _echo);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!_server.Lines.Any(l => l.Contains("ready to accept connections", StringComparison.Ordinal)))
        {
            if (_server.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"the lab's PostgreSQL did not start:\n{string.Join('\n', _server.Lines.TakeLast(20))}");
            }
            Thread.Sleep(100);
        }
    }

    /// <summary>SIGKILL the postmaster (its backends notice and exit), as a crashed server.</summary>
    public void Kill()
    {
        _server?.Kill();
        _server = null;
        // Backends exit on their own once the postmaster is gone; a restart waits for the shared memory to be free.
        Thread.Sleep(1000);
    }

    /// <summary>Starts it again after <see cref="Kill"/> (crash recovery replays the WAL).</summary>
    public void Restart()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Start();
                return;
            }
            catch (InvalidOperationException) when (attempt < 10)
            {
                Thread.Sleep(1000);
            }
        }
    }

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private void AsPostgres(string program, params string[] args) =>
        NetworkLab.Run("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", program, .. args]);

    public void Dispose()
    {
        _server?.Dispose();
        try
        {
            _dir.Delete(recursive: true);
        }
        catch (IOException)
        {
            // a file still held by a dying server; the system cleans its temporary folder
        }
    }
}
