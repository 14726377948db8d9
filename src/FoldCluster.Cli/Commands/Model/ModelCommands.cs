using FoldCluster.Cli.Commands.Model;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

/// <summary>Registers this area's verbs with the `foldcluster` command tree.</summary>
public static class ModelCommands
{
    public static void Register(IConfigurator config)
    {
        config.AddCommand<TrainCommand>("train")
            .WithDescription("Train and test one job (fold x method x modalities) in this process.")
            .WithExample("train", "--synthetic-features", "600", "--method", "cmha", "--modalities", "AVT", "--fold", "0", "--profile", "tiny", "--seed", "1", "--json");
        config.AddBranch("model", model =>
        {
            model.SetDescription("Describe the model of a Table II row.");
            model.AddCommand<ModelDescribeCommand>("describe")
                .WithDescription("The model card: module tree with parameters and FLOPs, optimiser, initialisation, the baseline's reference and the differences from it.")
                .WithExample("model", "describe", "--method", "mult", "--modalities", "AVT", "--profile", "paper", "--json");
        });
    }

    public static void RegisterBench(IConfigurator<CommandSettings> bench)
    {
        bench.AddCommand<BenchTrainCommand>("train")
            .WithDescription("Stage-2 training throughput per fusion method vs. libtorch's GEMM rate (or --soak EPOCHS: memory per epoch).");
    }
}
