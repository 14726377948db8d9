using System.ComponentModel;
using FoldCluster.Storage;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

public static class DbCommands
{
    public static void Register(IConfigurator config)
    {
        config.AddBranch("db", db =>
        {
            db.SetDescription("Start, stop and migrate the result database.");
            db.AddCommand<DbUpCommand>("up")
                .WithDescription("Start (or reuse) the embedded PostgreSQL server in the project's state folder; prints its connection string.")
                .WithExample("db", "up", "--port", "54329");
            db.AddCommand<DbDownCommand>("down").WithDescription("Stop the embedded PostgreSQL server.");
            db.AddCommand<DbMigrateCommand>("migrate")
                .WithDescription("Apply the schema migrations (sql/NNNN_*.sql) that are not applied yet.")
                .WithExample("db", "migrate");
        });
    }
}

public sealed class DbUpSettings : CommandSettings
{
    [CommandOption("--port <PORT>")]
    [Description("TCP port on 127.0.0.1; forces it (default: $FOLDCLUSTER_PG_PORT, else the last one used, else 54329 or, when another program holds that, a free one).")]
    public int? Port { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        Port is null or (>= 1 and <= 65535)
            ? Spectre.Console.ValidationResult.Success()
            : Spectre.Console.ValidationResult.Error($"--port {Port} is not a TCP port (expected 1-65535)");
}

public sealed class DbUpCommand : Command<DbUpSettings>
{
    public override int Execute(CommandContext context, DbUpSettings settings, CancellationToken cancellationToken)
    {
        var server = EmbeddedPostgres.ForStart(StatePaths.StateDirectory(), settings.Port);
        var started = server.Up(line => Console.Error.WriteLine(line));
        Console.Error.WriteLine(started
            ? $"the embedded database is running on 127.0.0.1:{server.Port}"
            : $"the embedded database was already running on 127.0.0.1:{server.Port}");
        // The password stays in its file: the connection string names the file (Passfile=).
        Console.WriteLine(server.ConnectionString);
        return 0;
    }
}

public sealed class DbDownCommand : Command<EmptyCommandSettings>
{
    public override int Execute(CommandContext context, EmptyCommandSettings settings, CancellationToken cancellationToken)
    {
        EmbeddedPostgres.FromStateDirectory(StatePaths.StateDirectory()).Down(line => Console.Error.WriteLine(line));
        return 0;
    }
}

/// <summary>Options shared by every verb that talks to the database.</summary>
public class DatabaseSettings : CommandSettings
{
    [CommandOption("--db <CONN>")]
    [Description("PostgreSQL connection string (default: $FOLDCLUSTER_DB, else the embedded database of `foldcluster db up`).")]
    public string? Db { get; init; }

    public string ConnectionString() => ConnectionResolver.Resolve(Db);
}

public sealed class DbMigrateSettings : DatabaseSettings
{
    [CommandOption("--sql <DIR>")]
    [Description("Apply the migrations of this folder instead of the ones built into foldcluster.")]
    public string? SqlDirectory { get; init; }
}

public sealed class DbMigrateCommand : Command<DbMigrateSettings>
{
    public override int Execute(CommandContext context, DbMigrateSettings settings, CancellationToken cancellationToken)
    {
        var migrations = settings.SqlDirectory is null
            ? MigrationRunner.Embedded()
            : MigrationRunner.FromDirectory(settings.SqlDirectory);
        using var dataSource = Database.CreateDataSource(settings.ConnectionString());
        var report = MigrationRunner.MigrateAsync(dataSource, migrations, line => Console.Error.WriteLine(line), cancellationToken)
            .GetAwaiter().GetResult();
        Console.Error.WriteLine(report.Applied.Count == 0
            ? $"schema is up to date ({report.AlreadyApplied} migrations already applied)"
            : $"applied {report.Applied.Count} migration(s); {report.AlreadyApplied} were already applied");
        return 0;
    }
}
