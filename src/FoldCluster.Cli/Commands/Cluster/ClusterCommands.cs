using FoldCluster.Cli.Commands.Cluster;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

/// <summary>Registers this area's verbs with the `foldcluster` command tree.</summary>
public static class ClusterCommands
{
    public static void Register(IConfigurator config)
    {
        config.AddBranch("node", node =>
        {
            node.SetDescription("Run cluster nodes (coordinator and worker roles).");
            node.AddCommand<NodeStartCommand>("start")
                .WithDescription("Start a node and run it until SIGTERM / Ctrl-C; it then leaves the cluster and its running jobs go back to the queue.")
                .WithExample("node", "start", "--roles", "coordinator,worker", "--port", "4053", "--slots", "cpu:2", "--trainer", "simulated:2");
        });
        SweepCommands.Register(config);
    }

    public static void RegisterBench(IConfigurator<CommandSettings> bench)
    {
        bench.AddCommand<BenchClusterCommand>("cluster")
            .WithDescription("Simulated sweep of the paper's size (440 jobs of 2 s) on 4 local node processes with 2 slots each: makespan / ideal and dispatch latency.");
    }
}
