using System.Globalization;
using System.Net;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using FoldCluster.Core.Processes;
using Npgsql;

namespace FoldCluster.Storage;

/// <summary>
/// The embedded default database: a private PostgreSQL cluster with its data directory in the project-local state
/// folder (`.foldcluster/pg`), listening on 127.0.0.1 only. The project's role `foldcluster` owns the database and
/// logs in over TCP with scram-sha-256 and a generated password kept in `.foldcluster/pgpass` (0600; connection
/// strings name it with `Passfile=`, never the password itself). The bootstrap superuser `postgres` is reachable only
/// through the server's Unix socket in the data directory, by peer authentication for the OS user that runs
/// `db up`. When run as root, the server runs as the `postgres` system user (initdb refuses root); if that user
/// cannot reach the state folder, the data directory lives under that user's home and `.foldcluster/pg` links to it.
/// </summary>
public sealed class EmbeddedPostgres
{
    public const int DefaultPort = 54329;
    public const string PortVariable = "FOLDCLUSTER_PG_PORT";
    public const string User = "foldcluster";
    public const string DatabaseName = "foldcluster";
    public const string Superuser = "postgres";
    public const string PasswordFileName = "pgpass";

    /// <summary>The first line of the pg_hba.conf this version writes; its absence marks a cluster of an older version.</summary>
    private const string HbaHeader = "# FoldCluster embedded database: scram-sha-256 for the project's role over TCP, peer for the superuser over the socket";


    private readonly string _stateDirectory;

    private EmbeddedPostgres(string stateDirectory, int port, bool portForced)
    {
        _stateDirectory = stateDirectory;
        Port = port;
        PortForced = portForced;
    }

    public int Port { get; private set; }

    /// <summary>True when `--port` or $FOLDCLUSTER_PG_PORT asked for the port: then a taken port is an error, not a reason to pick another.</summary>
    public bool PortForced { get; }

    /// <summary>The file (pgpass format, 0600) that holds the project role's password.</summary>
    public string PasswordFile => Path.Combine(_stateDirectory, PasswordFileName);

    public string DataDirectory => Path.Combine(_stateDirectory, "pg");

    private string SettingsFile => Path.Combine(_stateDirectory, "db.json");

    public string ConnectionString => ConnectionStringFor(DatabaseName);

    /// <summary>
    /// The connection string of the project's role: the password is named by its file (`Passfile=`), never included.
    /// Before the first `db up` there is no such file (and no server): then the string names none, and connecting
    /// fails with "cannot reach PostgreSQL" rather than with a missing file.
    /// </summary>
    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = User,
            Database = database,
            Passfile = File.Exists(PasswordFile) ? PasswordFile : null,
        }.ConnectionString;

    /// <summary>The embedded server of a state folder, as clients find it: the port it was last started on, else $FOLDCLUSTER_PG_PORT, else 54329.</summary>
    public static EmbeddedPostgres FromStateDirectory(string stateDirectory, int? port = null)
    {
        var chosen = port ?? ReadRecordedPort(Path.Combine(stateDirectory, "db.json")) ?? PortFromEnvironment() ?? DefaultPort;
        return new EmbeddedPostgres(stateDirectory, chosen, portForced: port is not null);
    }

    /// <summary>
    /// The embedded server of a state folder, as `db up` starts it: `--port`, else $FOLDCLUSTER_PG_PORT (both force the
    /// port), else the port it was last started on, else 54329; an unforced port that another program holds is replaced
    /// by a free one.
    /// </summary>
    public static EmbeddedPostgres ForStart(string stateDirectory, int? port = null)
    {
        var forced = port ?? PortFromEnvironment();
        var chosen = forced ?? ReadRecordedPort(Path.Combine(stateDirectory, "db.json")) ?? DefaultPort;
        return new EmbeddedPostgres(stateDirectory, chosen, portForced: forced is not null);
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
            return doc.RootElement.TryGetProperty("port", out var p) && p.ValueKind == JsonValueKind.Number
                   && p.TryGetInt32(out var port) && port is >= 1 and <= 65535
                ? port
                : null;
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
        if (OperatingSystem.IsWindows())
        {
            throw new Core.BadInputException("the embedded database needs Linux (PostgreSQL server binaries, Unix sockets, file modes); on Windows pass --db CONN");
        }
        var bin = FindBinaries();
        StatePaths.EnsurePrivate(_stateDirectory);
        var password = EnsurePassword();
        var runAsPostgres = IsRoot();
        var data = PrepareDataDirectory(runAsPostgres, log);

        if (!File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            log($"initialising a PostgreSQL cluster in {DataDirectory}");
            Run(bin, "initdb", runAsPostgres,
                ["-D", data, "-U", Superuser, "--auth-local=peer", "--auth-host=reject", "-E", "UTF8", "--locale=C", "--no-sync"],
                TimeSpan.FromMinutes(2));
            WriteAuthentication(data, runAsPostgres);
        }
        else if (!IsCurrentAuthentication(data))
        {
            throw new Core.BadInputException(
                $"the embedded database in {DataDirectory} was created by an older FoldCluster with trust authentication "
                + "(any local process could connect to it as a superuser); this version does not start it. "
                + "To keep its results, start it by hand (pg_ctl -D DIR start) and save them with pg_dump; then stop it "
                + $"(`foldcluster db down`), move {DataDirectory} away or delete it, and run `foldcluster db up` again: "
                + "it creates a new database with a generated password (and `db migrate` its schema)");
        }

        var running = ServerPort(bin, data, runAsPostgres);
        if (running is not null)
        {
            if (running != Port)
            {
                log($"the embedded server is already running on port {running}; reusing it (stop it with `foldcluster db down` to change the port)");
            }
            Port = running.Value;
            Record(running.Value);
            EnsureRoleAndDatabase(data, password);
            return false;
        }

        if (!TcpPorts.IsFree(IPAddress.Loopback, Port))
        {
            if (PortForced)
            {
                throw new Core.BadInputException(
                    $"port {Port} on 127.0.0.1 is in use by another program; choose another port with `foldcluster db up --port N` or {PortVariable}, or set neither and a free one is picked");
            }
            var taken = Port;
            // As the system gives it: not the neighbours of the default port, which other clones' databases may have been told to use.
            Port = TcpPorts.PickFree();
            log($"port {taken} on 127.0.0.1 is in use by another program; the embedded database uses port {Port} (remembered in {SettingsFile})");
        }

        WriteAuthentication(data, runAsPostgres);
        // Settings that the project owns live in their own file, rewritten on every start.
        File.WriteAllText(Path.Combine(data, "foldcluster.conf"), string.Join('\n',
            "listen_addresses = '127.0.0.1'",
            $"port = {Port.ToString(CultureInfo.InvariantCulture)}",
            $"unix_socket_directories = '{SocketDirectory(data, runAsPostgres)}'",
            "unix_socket_permissions = 0700",
            "password_encryption = 'scram-sha-256'",
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
        EnsureRoleAndDatabase(data, password);
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
        File.WriteAllText(SettingsFile, JsonSerializer.Serialize(new
        {
            port,
            user = User,
            database = DatabaseName,
            auth = "scram-sha-256",
            passfile = PasswordFileName,
        }) + "\n");
    }

    /// <summary>The project role's password: read from the password file, or generated into a new one (0600).</summary>
    [UnsupportedOSPlatform("windows")]
    private string EnsurePassword()
    {
        var file = PasswordFile;
        if (File.Exists(file))
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            foreach (var line in File.ReadLines(file))
            {
                var fields = line.Split(':');
                if (fields.Length == 5 && fields[3] == User && fields[4].Length >= 32)
                {
                    return fields[4];
                }
            }
            throw new Core.BadInputException(
                $"{file} holds no password for the role {User} (expected a line 127.0.0.1:*:*:{User}:PASSWORD); delete it and run `foldcluster db up` again");
        }
        // Hex: nothing to escape in the pgpass format (':' and backslash are special there).
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using (var writer = new StreamWriter(file, Encoding.ASCII, options))
        {
            writer.Write($"127.0.0.1:*:*:{User}:{password}\n");
        }
        return password;
    }

    /// <summary>
    /// pg_hba.conf and pg_ident.conf, owned by the project and rewritten at every start: the project's role over TCP
    /// with scram-sha-256 only, the superuser over the Unix socket by peer authentication only, nothing else.
    /// </summary>
    private static void WriteAuthentication(string data, bool runAsPostgres)
    {
        var hba = Path.Combine(data, "pg_hba.conf");
        var ident = Path.Combine(data, "pg_ident.conf");
        File.WriteAllText(hba, string.Join('\n',
            HbaHeader,
            "# (written by `foldcluster db up` at every start; edits are overwritten)",
            "# TYPE  DATABASE  USER         ADDRESS        METHOD",
            $"local   all       {Superuser}                    peer map=foldcluster",
            $"host    all       {User}  127.0.0.1/32   scram-sha-256",
            ""));
        var operatingSystemUser = Environment.UserName;
        File.WriteAllText(ident, string.Join('\n',
            "# MAPNAME    SYSTEM-USERNAME    PG-USERNAME",
            $"foldcluster  {operatingSystemUser}  {Superuser}",
            $"foldcluster  {Superuser}  {Superuser}",
            ""));
        if (runAsPostgres)
        {
            Chown(hba);
            Chown(ident);
        }
    }

    private static bool IsCurrentAuthentication(string data)
    {
        var hba = Path.Combine(data, "pg_hba.conf");
        return File.Exists(hba) && File.ReadLines(hba).FirstOrDefault() == HbaHeader;
    }

    /// <summary>
    /// The folder of the server's Unix socket: the data directory (0700, the server's own), or, when its path is too long
    /// for a socket address, a private folder in the system's temporary folder.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    private static string SocketDirectory(string data, bool runAsPostgres)
    {
        const int socketPathLimit = 100; // sun_path holds 108 bytes; ".s.PGSQL.NNNNN" and a NUL follow the folder
        if (Encoding.UTF8.GetByteCount(data) + 16 <= socketPathLimit && !data.Contains('\'', StringComparison.Ordinal))
        {
            return data;
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(data)))[..12];
        var folder = Path.Combine(Path.GetTempPath(), $"foldcluster-pg-{hash}");
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (runAsPostgres)
        {
            Chown(folder);
        }
        return folder;
    }

    private static string SocketDirectoryOf(string data)
    {
        var conf = Path.Combine(data, "foldcluster.conf");
        const string key = "unix_socket_directories = '";
        var line = File.ReadLines(conf).First(l => l.StartsWith(key, StringComparison.Ordinal));
        return line[key.Length..].TrimEnd('\'');
    }

    /// <summary>
    /// As the superuser over the socket: the project's role (login, may create databases, never a superuser) with the
    /// password of the password file, sent as a SCRAM verifier so that the password itself never reaches the server's
    /// logs; and the project's database, owned by that role.
    /// </summary>
    private void EnsureRoleAndDatabase(string data, string password)
    {
        var admin = new NpgsqlConnectionStringBuilder
        {
            Host = SocketDirectoryOf(data),
            Port = Port,
            Username = Superuser,
            Database = "postgres",
            Timeout = 10,
        }.ConnectionString;
        using var dataSource = Database.CreateDataSource(admin, "foldcluster-db-up");
        using var connection = Database.Open(dataSource);
        var verifier = ScramVerifier(password);
        var roleExists = connection.ExecuteScalar<bool>("select exists (select 1 from pg_roles where rolname = @name)", new { name = User });
        // The verifier is not the password; it cannot be used to log in.
        var attributes = $"login createdb nosuperuser nocreaterole noreplication nobypassrls password '{verifier}'";
        try
        {
            connection.Execute(roleExists ? $"alter role {User} {attributes}" : $"create role {User} {attributes}");
        }
        catch (PostgresException e) when (e.SqlState == "42710")
        {
            connection.Execute($"alter role {User} {attributes}"); // created concurrently by another `db up`
        }
        var exists = connection.ExecuteScalar<bool>("select exists (select 1 from pg_database where datname = @name)", new { name = DatabaseName });
        if (!exists)
        {
            try
            {
                connection.Execute($"create database {DatabaseName} owner {User}");
            }
            catch (PostgresException e) when (e.SqlState == "42P04")
            {
                // created concurrently by another `db up`
            }
        }
    }

    /// <summary>A SCRAM-SHA-256 verifier (RFC 5802/7677, PostgreSQL's stored form) of an ASCII password.</summary>
    public static string ScramVerifier(string password, byte[]? salt = null)
    {
        const int iterations = 4096;
        salt ??= RandomNumberGenerator.GetBytes(16);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return $"SCRAM-SHA-256${iterations.ToString(CultureInfo.InvariantCulture)}:{Convert.ToBase64String(salt)}"
               + $"${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
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
            throw new InvalidOperationException($"{tool} {args.FirstOrDefault()} failed (exit {result.ExitCode}): {ChildProcess.Tail(result.Lines.Select(l => l.Text), 6)}");
        }
    }

    private static ChildProcessResult RunCaptured(string bin, string tool, bool asPostgres, string[] args, TimeSpan timeout)
    {
        var exe = Path.Combine(bin, tool);
        return asPostgres
            ? RunProcess("runuser", ["-u", "postgres", "--", exe, .. args], timeout)
            : RunProcess(exe, args, timeout);
    }

    private static ChildProcessResult RunProcess(string file, IEnumerable<string> args, TimeSpan timeout) =>
        ChildProcess.Run(new ChildProcessStart(file, [.. args]) { WorkingDirectory = "/" }, timeout);

}
