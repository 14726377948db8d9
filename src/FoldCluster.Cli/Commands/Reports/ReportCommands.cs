using FoldCluster.Cli.Commands.Reports;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

/// <summary>Registers this area's verbs with the `foldcluster` command tree: `results` (query, compare), `tables`, `bench tables`.</summary>
public static class ReportCommands
{
    public static void Register(IConfigurator config)
    {
        config.AddBranch("results", results =>
        {
            results.SetDescription("Query the result database: per-job rows, per-cell aggregates, paired method comparisons.");
            results.AddCommand<ResultsQueryCommand>("query")
                .WithDescription("Per-job rows (key, state, attempts, UA, WA, macro-F1, weighted-F1, best epoch, seconds) or, with --aggregate, one row per table cell.")
                .WithExample("results", "query", "--sweep", "paper-quick", "--method", "cmha", "--format", "json")
                .WithExample("results", "query", "--sweep", "1", "--aggregate", "--format", "csv");
            results.AddCommand<ResultsCompareCommand>("compare")
                .WithDescription("Paired comparison of two methods over the shared test folds: mean difference, paired t-test p and exact Wilcoxon signed-rank p.")
                .WithExample("results", "compare", "--sweep", "paper-quick", "-a", "cmha", "-b", "mult");
        });
        config.AddCommand<TablesCommand>("tables")
            .WithDescription("Regenerate the paper's Tables I-III (Markdown, LaTeX, CSV) and figures (confusion matrices, training curves) from a sweep.")
            .WithExample("tables", "--sweep", "paper-quick", "--out", "report", "--figures")
            .WithExample("tables", "--sweep", "paper-quick", "--show", "table2");
    }

    /// <summary>
    /// Spectre.Console.Cli rejects one-letter long options, but `results compare --a cmha --b mult` is the documented
    /// spelling; this maps `--a` / `--b` of that verb to `--method-a` / `--method-b` before parsing. Call it on the raw
    /// arguments before `CommandApp.Run`; other verbs' arguments come back unchanged.
    /// </summary>
    public static string[] NormalizeArguments(string[] args)
    {
        var verb = Array.FindIndex(args, a => a == "results");
        if (verb < 0 || verb + 1 >= args.Length || args[verb + 1] != "compare")
        {
            return args;
        }
        return args.Select(a => a switch
        {
            "--a" => "--method-a",
            "--b" => "--method-b",
            _ when a.StartsWith("--a=", StringComparison.Ordinal) => "--method-a=" + a[4..],
            _ when a.StartsWith("--b=", StringComparison.Ordinal) => "--method-b=" + a[4..],
            _ => a,
        }).ToArray();
    }

    public static void RegisterBench(IConfigurator<CommandSettings> bench)
    {
        bench.AddCommand<BenchTablesCommand>("tables")
            .WithDescription("Seed 100,000 job results into a temporary database and time `tables` (target: under 2 s).")
            .WithExample("bench", "tables", "--json");
    }
}
