using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

/// <summary>Registers this area's verbs with the `foldcluster` command tree.</summary>
public static class ClusterCommands
{
    public static void Register(IConfigurator config)
    {
    }

    public static void RegisterBench(IConfigurator<CommandSettings> bench)
    {
    }
}
