using System.Runtime.InteropServices;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

/// <summary>`foldcluster bench info`: the machine the benchmark figures come from, to print beside them.</summary>
public sealed class BenchInfoCommand : Command<EmptyCommandSettings>
{
    public override int Execute(CommandContext context, EmptyCommandSettings settings, CancellationToken cancellationToken)
    {
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        Console.WriteLine($"os: {RuntimeInformation.OSDescription}");
        Console.WriteLine($"runtime: {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.ProcessArchitecture})");
        Console.WriteLine($"cores: {Environment.ProcessorCount}");
        Console.WriteLine($"memory: {memory:F1} GiB");
        Console.WriteLine($"foldcluster: {Infrastructure.CliHost.Version}");
        return 0;
    }
}
