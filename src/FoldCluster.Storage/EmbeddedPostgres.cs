using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace FoldCluster.Storage;

/// <summary>
/// The embedded default database: a private PostgreSQL cluster with its data directory in the project-local state
/// folder (`.foldcluster/pg`), listening on 127.0.0.1 only, trust authentication for the local `foldcluster` role.
/// When run as root, the server runs as the `postgres` system user (initdb refuses root); if that user cannot reach
/// the state folder, the data directory lives under that user's home and `.foldcluster/pg` links to it.
/// </summary>
public sealed class EmbeddedPostgres
{
    public const int DefaultPort = 54329;
    public const string PortVariable = "FOLDCLUSTER_PG_PORT";
    public const string User = "foldcluster";
    public const string DatabaseName = "foldcluster";

    private readonly string _stateDirectory;

    private EmbeddedPostgres(string stateDirectory, int port)
    {
        _stateDirectory = stateDirectory;
        Port = port;
    }

    public int Port { get; }

    public string DataDirectory => Path.Combine(_stateDirectory, "pg");

    private string SettingsFile => Path.Combine(_stateDirectory, "db.json");

    public string ConnectionString => ConnectionStringFor(DatabaseName);

    public string ConnectionStringFor(string database) =>
        $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username={User};Database={database}";

    /// <summary>The embedded server of a state folder: the port it was last started on, else $FOLDCLUSTER_PG_PORT, else 54329.</summary>
    public static EmbeddedPostgres FromStateDirectory(string stateDirectory, int? port = null)
    {
        var chosen = port ?? ReadRecordedPort(Path.Combine(stateDirectory, "db.json")) ?? PortFromEnvironment() ?? DefaultPort;
        return new EmbeddedPostgres(stateDirectory, chosen);
    }

    private static int? PortFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(PortVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new Core.BadInputException($"{PortVariable}='{text}' is not a TCP port (expected 1-65535)");
        }
        return port;
    }

    private static int? ReadRecordedPort(string file)
    {
        if (!File.Exists(file))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            return doc.RootElement.TryGetProperty("port", out var p) ? p.GetInt32() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Starts the server (initialising it the first time), or reuses it when it is already running.</summary>
    /// <returns>True when it was started now, false when it was already running.</returns>
    public bool Up(Action<string> log)
    {
        var bin = FindBinaries();
        Directory.CreateDirectory(_stateDirectory);
        var runAsPostgres = IsRoot();
        var data = PrepareDataDirectory(runAsPostgres, log);

        if (!File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            log($"initialising a PostgreSQL cluster in {DataDirectory}");
            Run(bin, "initdb", runAsPostgres,
                ["-D", data, "-U", User, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], TimeSpan.FromMinutes(2));
        }

        var running = ServerPort(bin, data, runAsPostgres);
        if (running is not null)
        {
            if (running != Port)
            {
                log($"the embedded server is already running on port {running}; reusing it (stop it with `foldcluster db down` to change the port)");
            }
            Record(running.Value);
            EnsureDatabase(running.Value);
            return false;
        }

        if (!PortIsFree(Port))
        {
            throw new Core.BadInputException(
                $"port {Port} on 127.0.0.1 is in use by another program; choose another port with `foldcluster db up --port N` or {PortVariable}");
        }

        // Settings that the project owns live in their own file, rewritten on every start.
        File.WriteAllText(Path.Combine(data, "foldcluster.conf"), string.Join('\n',
            "listen_addresses = '127.0.0.1'",
            $"port = {Port.ToString(CultureInfo.InvariantCulture)}",
            "unix_socket_directories = ''",
            "max_connections = 300",
            "shared_buffers = '128MB'",
            "log_min_messages = warning",
            "") );
        var conf = Path.Combine(data, "postgresql.conf");
        if (!File.ReadAllText(conf).Contains("include_if_exists = 'foldcluster.conf'", StringComparison.Ordinal))
        {
            File.AppendAllText(conf, "\ninclude_if_exists = 'foldcluster.conf'\n");
        }
        if (runAsPostgres)
        {
            Chown(Path.Combine(data, "foldcluster.conf"));
        }

        log($"starting PostgreSQL on 127.0.0.1:{Port}");
        Run(bin, "pg_ctl", runAsPostgres,
            ["start", "-D", data, "-l", Path.Combine(data, "server.log"), "-w", "-t", "60", "-s"], TimeSpan.FromSeconds(90));
        Record(Port);
        EnsureDatabase(Port);
        return true;
    }

    /// <summary>Stops the server if it runs. Returns false when it was not running.</summary>
    public bool Down(Action<string> log)
    {
        var bin = FindBinaries();
        var data = ResolveDataDirectory();
        if (data is null || !File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            log($"no embedded database in {DataDirectory}");
            return false;
        }
        var runAsPostgres = IsRoot();
        if (ServerPort(bin, data, runAsPostgres) is null)
        {
            log("the embedded database is not running");
            return false;
        }
        Run(bin, "pg_ctl", runAsPostgres, ["stop", "-D", data, "-m", "fast", "-w", "-t", "60", "-s"], TimeSpan.FromSeconds(90));
        log("stopped the embedded database");
        return true;
    }

    private void Record(int port)
    {
        File.WriteAllText(SettingsFile, JsonSerializer.Serialize(new { port, user = User, database = DatabaseName }) + "\n");
    }

    private void EnsureDatabase(int port)
    {
        var admin = $"Host=127.0.0.1;Port={port.ToString(CultureInfo.InvariantCulture)};Username={User};Database=postgres;Timeout=10";
        using var dataSource = Database.CreateDataSource(admin);
        using var connection = Database.Open(dataSource);
        var exists = connection.ExecuteScalar<bool>("select exists (select 1 from pg_database where datname = @name)", new { name = DatabaseName });
        if (!exists)
        {
            try
            {
                connection.Execute($"create database {DatabaseName}");
            }
            catch (PostgresException e) when (e.SqlState == "42P04")
            {
                // created concurrently by another `db up`
            }
        }
    }

    private static bool PortIsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The port of the server running on this data directory, or null when none runs.</summary>
    private static int? ServerPort(string bin, string data, bool runAsPostgres)
    {
        var pidFile = Path.Combine(data, "postmaster.pid");
        var status = RunCaptured(bin, "pg_ctl", runAsPostgres, ["status", "-D", data], TimeSpan.FromSeconds(30));
        if (status.ExitCode != 0 || !File.Exists(pidFile))
        {
            return null;
        }
        // postmaster.pid line 4 holds the port.
        var lines = File.ReadAllLines(pidFile);
        return lines.Length >= 4 && int.TryParse(lines[3].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) ? port : null;
    }

    private string? ResolveDataDirectory()
    {
        var info = new DirectoryInfo(DataDirectory);
        if (info.LinkTarget is not null)
        {
            return info.ResolveLinkTarget(true)?.FullName;
        }
        return info.Exists ? info.FullName : null;
    }

    private string PrepareDataDirectory(bool runAsPostgres, Action<string> log)
    {
        var existing = ResolveDataDirectory();
        if (existing is not null)
        {
            return existing;
        }
        if (!runAsPostgres)
        {
            Directory.CreateDirectory(DataDirectory);
            return DataDirectory;
        }
        // As root the server runs as `postgres`, which must be able to reach the data directory.
        if (CanPostgresTraverse(_stateDirectory))
        {
            Directory.CreateDirectory(DataDirectory);
            Chown(DataDirectory);
            return DataDirectory;
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(_stateDirectory))))[..12];
        var elsewhere = Path.Combine(PostgresHome(), "foldcluster", hash, "pg");
        Directory.CreateDirectory(elsewhere);
        Chown(Path.GetDirectoryName(elsewhere)!);
        Chown(elsewhere);
        Directory.CreateSymbolicLink(DataDirectory, elsewhere);
        log($"the postgres user cannot reach {_stateDirectory}; the data directory is {elsewhere} (linked from {DataDirectory})");
        return elsewhere;
    }

    private static string PostgresHome()
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var parts = line.Split(':');
            if (parts.Length >= 6 && parts[0] == "postgres")
            {
                return parts[5];
            }
        }
        throw new Core.BadInputException("running as root needs the `postgres` system user (from Debian's postgresql package); it does not exist");
    }

    private static bool CanPostgresTraverse(string directory)
    {
        var full = Path.GetFullPath(directory);
        Directory.CreateDirectory(full);
        var result = RunProcess("runuser", ["-u", "postgres", "--", "test", "-x", full, "-a", "-r", full], TimeSpan.FromSeconds(10));
        return result.ExitCode == 0;
    }

    private static void Chown(string path)
    {
        var result = RunProcess("chown", ["-R", "postgres:postgres", path], TimeSpan.FromSeconds(30));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"chown postgres {path} failed: {result.Output.Trim()}");
        }
    }

    private static bool IsRoot() => OperatingSystem.IsLinux() && Environment.UserName == "root";

    /// <summary>PostgreSQL server binaries: $FOLDCLUSTER_PG_BIN, else the newest /usr/lib/postgresql/N/bin, else PATH.</summary>
    public static string FindBinaries()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("FOLDCLUSTER_PG_BIN");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return fromEnvironment;
        }
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.EnumerateDirectories(debianRoot)
                .Select(d => (Dir: d, Ok: int.TryParse(Path.GetFileName(d), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v), V: v))
                .Where(x => x.Ok && File.Exists(Path.Combine(x.Dir, "bin", "pg_ctl")))
                .OrderByDescending(x => x.V)
                .FirstOrDefault();
            if (newest.Dir is not null)
            {
                return Path.Combine(newest.Dir, "bin");
            }
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            if (File.Exists(Path.Combine(dir, "pg_ctl")))
            {
                return dir;
            }
        }
        throw new Core.BadInputException(
            "PostgreSQL server binaries (pg_ctl, initdb) were not found in /usr/lib/postgresql/*/bin or on PATH; install Debian's `postgresql` package or set FOLDCLUSTER_PG_BIN");
    }

    private static void Run(string bin, string tool, bool asPostgres, string[] args, TimeSpan timeout)
    {
        var result = RunCaptured(bin, tool, asPostgres, args, timeout);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {args.FirstOrDefault()} failed (exit {result.ExitCode}): {LastLines(result.Output, 6)}");
        }
    }

    private static (int ExitCode, string Output) RunCaptured(string bin, string tool, bool asPostgres, string[] args, TimeSpan timeout)
    {
        var exe = Path.Combine(bin, tool);
        return asPostgres
            ? RunProcess("runuser", ["-u", "postgres", "--", exe, .. args], timeout)
            : RunProcess(exe, args, timeout);
    }

    private static (int ExitCode, string Output) RunProcess(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {timeout.TotalSeconds:F0} s");
        }
        process.WaitForExit();
        return (process.ExitCode, output.ToString());
    }

    private static string LastLines(string text, int count) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(count));
}
