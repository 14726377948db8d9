using FoldCluster.Cli.Commands.Dashboard;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

/// <summary>Registers `dashboard` and `bench dashboard` with the `foldcluster` command tree.</summary>
public static class DashboardCommands
{
    public static void Register(IConfigurator config)
    {
        config.AddCommand<DashboardCommand>("dashboard")
            .WithDescription("Serve a read-only web dashboard over the result database: sweeps, job grid, jobs, Tables II/III, comparisons, nodes (live).")
            .WithExample("dashboard")
            .WithExample("dashboard", "--port", "8090")
            .WithExample("dashboard", "--host", "0.0.0.0", "--token", "0123456789abcdef0123");
    }

    public static void RegisterBench(IConfigurator<CommandSettings> bench)
    {
        bench.AddCommand<BenchDashboardCommand>("dashboard")
            .WithDescription("Copy 100,000 jobs into a throwaway sweep and time the sweep page and the Table II page (target: under 200 ms each).")
            .WithExample("bench", "dashboard", "--json");
    }
}
