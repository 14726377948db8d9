using System.Reflection;
using FoldCluster.Cli.Commands;
using FoldCluster.Core;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Infrastructure;

/// <summary>
/// Builds the `foldcluster` command tree and maps failures to exit codes:
/// 0 success, 1 the work failed, 2 bad usage or bad input. Errors are one clear line on stderr, never a stack trace.
/// </summary>
public static class CliHost
{
    public static string Version =>
        typeof(CliHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    public static int Run(string[] args)
    {
        // Commands' own console output (progress, tables for people) goes to stderr so that stdout carries
        // only machine-readable results (--json, connection strings). Help and version go to stdout.
        var stderrConsole = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        AnsiConsole.Console = stderrConsole;
        var helpOrVersion = args.Length == 0 || args.Any(a => a is "-h" or "--help" or "-?" or "--version" or "-v");
        var frameworkConsole = helpOrVersion
            ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) })
            : stderrConsole;
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.ConfigureConsole(frameworkConsole);
            Configure(config);
        });
        try
        {
            // `results compare --a X --b Y`, `analysis mi --x X --y Y`: Spectre rejects one-letter long options, so they are mapped first.
            return app.Run(AnalysisCommands.NormalizeArguments(ReportCommands.NormalizeArguments(args)));
        }
        catch (CommandParseException e)
        {
            return UsageError(e.Message, args);
        }
        catch (CommandRuntimeException e)
        {
            return UsageError(e.Message, args);
        }
        catch (BadInputException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadUsage;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted");
            return ExitCodes.WorkFailed;
        }
        catch (FoldCluster.Storage.DatabaseUnreachableException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.WorkFailed;
        }
        catch (FoldCluster.Storage.MigrationFailedException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.WorkFailed;
        }
        catch (WorkFailedException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.WorkFailed;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            if (Environment.GetEnvironmentVariable("FOLDCLUSTER_DEBUG") == "1")
            {
                Console.Error.WriteLine(e);
            }
            return ExitCodes.WorkFailed;
        }
    }

    private static void Configure(IConfigurator config)
    {
        config.SetApplicationName("foldcluster");
        config.SetApplicationVersion(Version);
        config.PropagateExceptions();
        config.ValidateExamples();
        config.Settings.StrictParsing = true;
        // Each area registers its own verbs; `bench` is shared so each adds its sub-verb.
        DbCommands.Register(config);
        ModelCommands.Register(config);
        FeatureCommands.Register(config);
        ClusterCommands.Register(config);
        Commands.Certs.CertsCommands.Register(config);
        ReportCommands.Register(config);
        DashboardCommands.Register(config);
        AnalysisCommands.Register(config);
        config.AddBranch("bench", bench =>
        {
            bench.SetDescription("Measure speed against the targets (training, features, cluster, tables).");
            bench.AddCommand<BenchInfoCommand>("info").WithDescription("Print the machine the benchmark figures come from.");
            ModelCommands.RegisterBench(bench);
            FeatureCommands.RegisterBench(bench);
            ClusterCommands.RegisterBench(bench);
            ReportCommands.RegisterBench(bench);
            DashboardCommands.RegisterBench(bench);
            AnalysisCommands.RegisterBench(bench);
        });
    }

    private static int UsageError(string message, string[] args)
    {
        Console.Error.WriteLine($"error: {message}");
        Console.Error.WriteLine();
        Console.Error.WriteLine("usage: foldcluster <verb> [options]   (run `foldcluster --help` or `foldcluster <verb> --help`)");
        var verb = args.FirstOrDefault(a => !a.StartsWith('-'));
        if (verb is null || !KnownVerbs.Contains(verb))
        {
            Console.Error.WriteLine($"verbs: {string.Join(", ", KnownVerbs)}");
        }
        return ExitCodes.BadUsage;
    }

    private static readonly string[] KnownVerbs = ["db", "train", "corpus", "features", "node", "sweep", "results", "tables", "analysis", "dashboard", "certs", "bench"];
}

/// <summary>The work was attempted and failed for a reason that is not the user's input (exit code 1).</summary>
public sealed class WorkFailedException(string message, Exception? inner = null) : Exception(message, inner);
