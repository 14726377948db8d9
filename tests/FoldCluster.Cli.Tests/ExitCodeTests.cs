using System.Net;
using System.Net.Sockets;
using Dapper;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Cli.Tests;

public class ExitCodeTests
{
    [Fact]
    public async Task Version_prints_the_version_and_exits_0()
    {
        var result = await CliProcess.RunAsync(["--version"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", result.StandardOutput.Trim());
    }

    [Fact]
    public async Task Help_lists_the_verbs_and_exits_0()
    {
        var result = await CliProcess.RunAsync(["--help"]);
        Assert.Equal(0, result.ExitCode);
        var text = result.StandardOutput + result.StandardError;
        Assert.Contains("db", text);
        Assert.Contains("bench", text);
    }

    [Fact]
    public async Task Unknown_verb_prints_usage_on_stderr_and_exits_2()
    {
        var result = await CliProcess.RunAsync(["frobnicate"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("frobnicate", result.StandardError);
        Assert.Contains("usage: foldcluster", result.StandardError);
        Assert.Equal("", result.StandardOutput.Trim());
    }

    [Fact]
    public async Task Unknown_option_exits_2()
    {
        var result = await CliProcess.RunAsync(["db", "migrate", "--no-such-option"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no-such-option", result.StandardError);
    }

    [Fact]
    public async Task Unreachable_database_is_one_line_naming_host_and_port_and_exits_1()
    {
        var port = UnusedPort();
        var result = await CliProcess.RunAsync(["db", "migrate", "--db", $"Host=127.0.0.1;Port={port};Username=x;Database=y"]);
        Assert.Equal(1, result.ExitCode);
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains($"127.0.0.1:{port}", lines[0]);
        Assert.DoesNotMatch(@"(?m)^\s+at \S+\(", result.StandardError); // no stack trace
    }

    [Fact]
    public async Task Password_in_connection_string_is_never_printed()
    {
        var port = UnusedPort();
        // Through the environment, as the project passes connection strings to children: a command line is visible in ps.
        var result = await CliProcess.RunAsync(["db", "migrate"],
            new Dictionary<string, string?> { ["FOLDCLUSTER_DB"] = $"Host=127.0.0.1;Port={port};Username=x;Password=hunter2;Database=y" });
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"127.0.0.1:{port}", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", result.StandardError + result.StandardOutput);
    }

    [Fact]
    public async Task Two_concurrent_migrate_calls_both_succeed_and_apply_each_migration_once()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        var runs = await Task.WhenAll(
            CliProcess.RunAsync(["db", "migrate", "--db", db.ConnectionString]),
            CliProcess.RunAsync(["db", "migrate", "--db", db.ConnectionString]));
        Assert.All(runs, r => Assert.Equal(0, r.ExitCode));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var versions = (await connection.QueryAsync<int>("select version from schema_version order by version")).ToList();
        Assert.Equal(FoldCluster.Storage.MigrationRunner.Embedded().Select(m => m.Version), versions);
        Assert.Equal(1, runs.Count(r => r.StandardError.Contains("applied 0001_initial_schema.sql", StringComparison.Ordinal)));

        var again = await CliProcess.RunAsync(["db", "migrate", "--db", db.ConnectionString]);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("up to date", again.StandardError);
    }

    [Fact]
    public async Task Failing_migration_folder_exits_1_naming_the_file_and_line()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        var dir = Directory.CreateTempSubdirectory("fc-sql-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "0001_good.sql"), "create table good (x int);\n");
            File.WriteAllText(Path.Combine(dir.FullName, "0002_bad.sql"), "create table half (x int);\nselect nonsense from nowhere;\n");
            var result = await CliProcess.RunAsync(["db", "migrate", "--db", db.ConnectionString, "--sql", dir.FullName]);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("0002_bad.sql failed at line 2", result.StandardError);
            await using var connection = await db.DataSource.OpenConnectionAsync();
            Assert.Null(await connection.ExecuteScalarAsync<string?>("select to_regclass('public.half')::text"));
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
