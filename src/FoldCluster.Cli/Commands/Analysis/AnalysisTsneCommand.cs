using System.ComponentModel;
using FoldCluster.Core;
using FoldCluster.Core.Analysis;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Analysis;

public sealed class AnalysisTsneSettings : CommandSettings
{
    [CommandOption("--in <CSV>")]
    [Description("Input matrix: one sample per row, comma-separated numbers, optional header line.")]
    public string? Input { get; init; }

    [CommandOption("--out <CSV>")]
    [Description("Output: one row per sample, columns tsne_1,tsne_2.")]
    public string? Output { get; init; }

    [CommandOption("--perplexity <P>")]
    [DefaultValue(30.0)]
    public double Perplexity { get; init; } = 30;

    [CommandOption("--seed <SEED>")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    [CommandOption("--init <INIT>")]
    [Description("pca (default) or random (seeded).")]
    [DefaultValue("pca")]
    public string Init { get; init; } = "pca";

    [CommandOption("--method <METHOD>")]
    [Description("auto (exact up to 1,000 rows), exact or barnes-hut.")]
    [DefaultValue("auto")]
    public string Method { get; init; } = "auto";

    [CommandOption("--iterations <N>")]
    [DefaultValue(1000)]
    public int Iterations { get; init; } = 1000;
}

/// <summary>`foldcluster analysis tsne`: embeds a CSV matrix into 2-d.</summary>
public sealed class AnalysisTsneCommand : Command<AnalysisTsneSettings>
{
    public override int Execute(CommandContext context, AnalysisTsneSettings settings, CancellationToken cancellationToken)
    {
        var input = settings.Input ?? throw new BadInputException("--in is required: the CSV matrix to embed");
        var output = settings.Output ?? throw new BadInputException("--out is required: where to write the 2-d embedding");
        var options = new TsneOptions
        {
            Perplexity = settings.Perplexity,
            Seed = settings.Seed,
            Iterations = settings.Iterations,
            Init = settings.Init.ToLowerInvariant() switch
            {
                "pca" => TsneInit.Pca,
                "random" => TsneInit.Random,
                _ => throw new BadInputException($"--init '{settings.Init}' is not known: expected pca or random"),
            },
            Method = settings.Method.ToLowerInvariant() switch
            {
                "auto" => TsneMethod.Auto,
                "exact" => TsneMethod.Exact,
                "barnes-hut" or "bh" => TsneMethod.BarnesHut,
                _ => throw new BadInputException($"--method '{settings.Method}' is not known: expected auto, exact or barnes-hut"),
            },
        };
        var (rows, _) = CsvMatrix.Read(input);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var embedding = Tsne.Embed(rows, options);
        CsvMatrix.Write(output, embedding, ["tsne_1", "tsne_2"]);
        Console.Error.WriteLine($"t-SNE of {rows.Length} x {rows[0].Length} (perplexity {options.Perplexity}, seed {options.Seed}) in {clock.Elapsed.TotalSeconds:F1} s -> {output}");
        return 0;
    }
}
