using System.ComponentModel;
using System.Text.Json;
using FoldCluster.Core.Analysis;
using FoldCluster.Model.Analysis;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Analysis;

public sealed class AnalysisCcaSettings : CommandSettings
{
    [CommandOption("--x-matrix <CSV>")]
    [Description("First matrix (rows = samples); also spelt --x.")]
    public string? X { get; init; }

    [CommandOption("--y-matrix <CSV>")]
    [Description("Second matrix, the same samples in the same order; also spelt --y.")]
    public string? Y { get; init; }

    [CommandOption("--deep")]
    [Description("DCCA (fixed network and hyper-parameters; correlations of the learned projections on 20% held-out rows).")]
    public bool Deep { get; init; }

    [CommandOption("--seed <SEED>")]
    [Description("DCCA: initialisation, held-out rows and batches.")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    [CommandOption("--threads <N>")]
    [Description("DCCA: libtorch threads (default 1).")]
    public int? Threads { get; init; }

    [CommandOption("--json")]
    [Description("stdout: {\"correlations\": [largest first], \"total\": sum} (DCCA adds \"curve\": training objective per epoch).")]
    public bool Json { get; init; }
}

/// <summary>`foldcluster analysis cca`: linear CCA or DCCA on two CSV matrices.</summary>
public sealed class AnalysisCcaCommand : Command<AnalysisCcaSettings>
{
    public override int Execute(CommandContext context, AnalysisCcaSettings settings, CancellationToken cancellationToken)
    {
        var (x, y) = AnalysisCliInput.ReadPair(settings.X, settings.Y);
        double[] correlations;
        double[]? curve = null;
        if (settings.Deep)
        {
            AnalysisCommands.ConfigureThreads(settings.Threads);
            var deep = DeepCca.Fit(x, y, new DccaOptions { Seed = settings.Seed }, cancellationToken);
            correlations = deep.Correlations;
            curve = deep.TrainingCurve;
            Console.Error.WriteLine($"DCCA: trained on {deep.TrainRows} rows, correlations on {deep.HeldOutRows} held-out rows ({deep.EpochsPerSecond:F1} epochs/s)");
        }
        else
        {
            correlations = CanonicalCorrelation.Fit(x, y).Correlations;
        }
        var total = correlations.Sum();
        if (settings.Json)
        {
            Console.WriteLine(curve is null
                ? JsonSerializer.Serialize(new { correlations, total })
                : JsonSerializer.Serialize(new { correlations, total, curve }));
        }
        else
        {
            Console.WriteLine($"correlations: {string.Join(", ", correlations.Select(c => c.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}");
            Console.WriteLine($"total: {total:F4}");
        }
        return 0;
    }
}
