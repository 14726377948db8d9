using System.ComponentModel;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Core.Analysis;
using FoldCluster.Model.Analysis;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Analysis;

public sealed class AnalysisMiSettings : CommandSettings
{
    [CommandOption("--x-matrix <CSV>")]
    [Description("First matrix (rows = samples); also spelt --x.")]
    public string? X { get; init; }

    [CommandOption("--y-matrix <CSV>")]
    [Description("Second matrix, the same samples in the same order; also spelt --y.")]
    public string? Y { get; init; }

    [CommandOption("--steps <N>")]
    [DefaultValue(2000)]
    public int Steps { get; init; } = 2000;

    [CommandOption("--seed <SEED>")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    [CommandOption("--threads <N>")]
    [Description("libtorch threads (default 1).")]
    public int? Threads { get; init; }

    [CommandOption("--json")]
    [Description("stdout: {\"mi_nats\": final smoothed estimate, \"curve\": [smoothed estimate per step]}.")]
    public bool Json { get; init; }
}

/// <summary>`foldcluster analysis mi`: MINE on two CSV matrices.</summary>
public sealed class AnalysisMiCommand : Command<AnalysisMiSettings>
{
    public override int Execute(CommandContext context, AnalysisMiSettings settings, CancellationToken cancellationToken)
    {
        var (x, y) = AnalysisCliInput.ReadPair(settings.X, settings.Y);
        AnalysisCommands.ConfigureThreads(settings.Threads);
        var result = MutualInformationEstimator.Estimate(x, y, new MineOptions { Steps = settings.Steps, Seed = settings.Seed }, cancellationToken);
        Console.Error.WriteLine($"MINE over {x.Length} rows ({x[0].Length} and {y[0].Length} columns), {settings.Steps} steps: {result.MiNats:F4} nats ({result.StepsPerSecond:F0} steps/s)");
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { mi_nats = result.MiNats, curve = result.Curve }));
        }
        else
        {
            Console.WriteLine($"mi_nats: {result.MiNats:F4}");
        }
        return 0;
    }
}

internal static class AnalysisCliInput
{
    public static (double[][] X, double[][] Y) ReadPair(string? xPath, string? yPath)
    {
        var x = CsvMatrix.Read(xPath ?? throw new BadInputException("--x is required: the first CSV matrix")).Rows;
        var y = CsvMatrix.Read(yPath ?? throw new BadInputException("--y is required: the second CSV matrix")).Rows;
        AnalysisInput.CheckPaired(x, y, xPath, yPath);
        return (x, y);
    }
}
