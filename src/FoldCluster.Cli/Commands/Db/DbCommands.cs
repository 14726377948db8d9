using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

public static class DbCommands
{
    public static void Register(IConfigurator config)
    {
    }
}
