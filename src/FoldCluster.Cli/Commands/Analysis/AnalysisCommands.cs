using FoldCluster.Cli.Commands.Analysis;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

/// <summary>Registers `foldcluster analysis tsne|mi|cca|mnist` and `bench analysis`.</summary>
public static class AnalysisCommands
{
    public static void Register(IConfigurator config)
    {
        config.AddBranch("analysis", analysis =>
        {
            analysis.SetDescription("The paper's analyses on your own CSV matrices (rows = samples): t-SNE, MINE, CCA / DCCA.");
            analysis.AddCommand<AnalysisTsneCommand>("tsne")
                .WithDescription("t-SNE to 2-d (exact up to 1,000 rows, Barnes-Hut above); deterministic for a seed.")
                .WithExample("analysis", "tsne", "--in", "X.csv", "--out", "Y.csv", "--perplexity", "30", "--seed", "1");
            analysis.AddCommand<AnalysisMiCommand>("mi")
                .WithDescription("Mutual information (nats) of two paired matrices by MINE with the moving-average correction.")
                .WithExample("analysis", "mi", "--x-matrix", "X.csv", "--y-matrix", "Y.csv", "--steps", "2000", "--json");
            analysis.AddCommand<AnalysisCcaCommand>("cca")
                .WithDescription("Canonical correlations of two paired matrices: linear CCA, or DCCA with --deep.")
                .WithExample("analysis", "cca", "--x-matrix", "X.csv", "--y-matrix", "Y.csv", "--deep", "--json");
            analysis.AddCommand<AnalysisMnistCommand>("mnist")
                .WithDescription("Fig. 6: trains MCWSA with three image channels on MNIST digits (0-2, 3-5, 6-8) and stores the run for `tables --figures`.")
                .WithExample("analysis", "mnist", "--epochs", "10", "--train", "2000", "--seed", "1");
        });
    }

    public static void RegisterBench(IConfigurator<CommandSettings> bench)
    {
        bench.AddCommand<BenchAnalysisCommand>("analysis")
            .WithDescription("t-SNE seconds on 5,531 x 300 (IEMOCAP's size), MINE steps/s, DCCA epochs/s.");
    }

    /// <summary>`analysis mi|cca --x A --y B`: the one-letter options are spelt --x-matrix and --y-matrix for the parser.</summary>
    public static string[] NormalizeArguments(string[] args)
    {
        var verb = Array.FindIndex(args, a => a == "analysis");
        if (verb < 0 || verb + 1 >= args.Length || args[verb + 1] is not ("mi" or "cca"))
        {
            return args;
        }
        return args.Select(a => a switch
        {
            "--x" => "--x-matrix",
            "--y" => "--y-matrix",
            _ when a.StartsWith("--x=", StringComparison.Ordinal) => "--x-matrix=" + a[4..],
            _ when a.StartsWith("--y=", StringComparison.Ordinal) => "--y-matrix=" + a[4..],
            _ => a,
        }).ToArray();
    }

    /// <summary>libtorch threads for one analysis call: one unless the user asks for more.</summary>
    internal static void ConfigureThreads(int? threads) => FoldCluster.Model.ModelTrainer.ConfigureThreads(threads ?? 1);
}
