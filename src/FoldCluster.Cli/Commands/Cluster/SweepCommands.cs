using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

/// <summary>The `sweep` verbs: submit, status, cancel, retry, list (called from <see cref="ClusterCommands.Register"/>).</summary>
public static class SweepCommands
{
    public static void Register(IConfigurator config)
    {
        config.AddBranch("sweep", sweep =>
        {
            sweep.SetDescription("Submit an ablation sweep and follow, cancel or retry it.");
            sweep.AddCommand<SweepSubmitCommand>("submit")
                .WithDescription("Submit a sweep from a YAML spec or a preset (paper, paper-table2, paper-table3, smoke); the same spec again resumes it.")
                .WithExample("sweep", "submit", "--preset", "smoke", "--data-root", "data", "--wait")
                .WithExample("sweep", "submit", "--spec", "my-sweep.yaml");
            sweep.AddCommand<SweepStatusCommand>("status")
                .WithDescription("Jobs per state, busy slots per worker, the running jobs' epochs and an ETA.")
                .WithExample("sweep", "status", "--name", "smoke", "--watch")
                .WithExample("sweep", "status", "--json");
            sweep.AddCommand<SweepCancelCommand>("cancel")
                .WithDescription("Cancel a sweep: queued and running jobs are cancelled; workers stop at their next heartbeat.")
                .WithExample("sweep", "cancel", "--name", "smoke");
            sweep.AddCommand<SweepRetryCommand>("retry")
                .WithDescription("Put a sweep's failed jobs back in the queue with a fresh retry budget.")
                .WithExample("sweep", "retry", "--name", "smoke", "--failed");
            sweep.AddCommand<SweepDeleteCommand>("delete")
                .WithDescription("Delete a sweep with its jobs and results (refused while jobs run; cancel first).")
                .WithExample("sweep", "delete", "--name", "smoke", "--yes");
            sweep.AddCommand<SweepListCommand>("list")
                .WithDescription("List the sweeps in the database with their job counts.")
                .WithExample("sweep", "list");
        });
    }
}
