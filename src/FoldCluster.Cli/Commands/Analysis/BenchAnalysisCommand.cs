using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Core.Analysis;
using FoldCluster.Model.Analysis;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Analysis;

public sealed class BenchAnalysisSettings : CommandSettings
{
    [CommandOption("--rows <N>")]
    [Description("Rows of the generated matrices (default 5,531: IEMOCAP's four-class size).")]
    [DefaultValue(5531)]
    public int Rows { get; init; } = 5531;

    [CommandOption("--dims <D>")]
    [Description("Columns of each generated matrix (default 300: a time-pooled fused code).")]
    [DefaultValue(300)]
    public int Dims { get; init; } = 300;

    [CommandOption("--mine-steps <N>")]
    [DefaultValue(300)]
    public int MineSteps { get; init; } = 300;

    [CommandOption("--dcca-epochs <N>")]
    [DefaultValue(5)]
    public int DccaEpochs { get; init; } = 5;

    [CommandOption("--threads <N>")]
    [Description("libtorch threads for MINE and DCCA (default 1; t-SNE is single-threaded).")]
    public int? Threads { get; init; }

    [CommandOption("--json")]
    [Description("Last stdout line: {\"tsne_seconds\": x, \"tsne_cpu_seconds\": x, \"mine_steps_per_s\": x, \"dcca_epochs_per_s\": x, \"paper_figures_seconds\": x, ...}.")]
    public bool Json { get; init; }
}

/// <summary>
/// `foldcluster bench analysis`: the analyses at the size of the paper's data: t-SNE (Barnes-Hut) of 5,531 x 300,
/// MINE and DCCA on two 5,531 x 300 views. The matrices are four Gaussian classes in a random 10-d subspace plus noise,
/// so the embedding has structure to find, as real fused codes do.
/// </summary>
public sealed class BenchAnalysisCommand : Command<BenchAnalysisSettings>
{
    public override int Execute(CommandContext context, BenchAnalysisSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Rows < 100 || settings.Dims < 2 || settings.MineSteps < 1 || settings.DccaEpochs < 1)
        {
            throw new BadInputException("bench analysis needs --rows >= 100, --dims >= 2, --mine-steps >= 1 and --dcca-epochs >= 1");
        }
        AnalysisCommands.ConfigureThreads(settings.Threads);
        var (x, y) = Views(settings.Rows, settings.Dims, seed: 1);

        // CPU seconds beside wall seconds: on a shared machine the wall clock also counts other processes' turns.
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        Tsne.Embed(x, new TsneOptions { Method = TsneMethod.BarnesHut });
        var tsneSeconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        var tsneCpuSeconds = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        Console.Error.WriteLine($"t-SNE (Barnes-Hut, 1,000 iterations, one thread) of {settings.Rows} x {settings.Dims}: {tsneSeconds:F1} s ({tsneCpuSeconds:F1} s of CPU)");
        cancellationToken.ThrowIfCancellationRequested();

        var mine = MutualInformationEstimator.Estimate(x, y, new MineOptions { Steps = settings.MineSteps }, cancellationToken);
        Console.Error.WriteLine($"MINE ({settings.Dims} + {settings.Dims} inputs, batch 256): {mine.StepsPerSecond:F0} steps/s");

        var dcca = DeepCca.Fit(x, y, new DccaOptions { Epochs = settings.DccaEpochs }, cancellationToken);
        Console.Error.WriteLine($"DCCA ({dcca.TrainRows} training rows, batch 1,000): {dcca.EpochsPerSecond:F2} epochs/s");

        // A paper-sized sweep's figures: per dataset 7 t-SNE (Fig. 5: 4 methods, Fig. 7: 3 panels), 6 MINE runs (Fig. 8:
        // 3 pairs, original and encoded) and 12 DCCA runs (Fig. 9: 4 methods x 3 modalities), on one IEMOCAP test
        // fold (553 utterances); two datasets. Timed once each at that size (DCCA with the widest input, video).
        var fold = x.Take(553).ToArray();
        var (video, _) = Views(553, 2048, seed: 2);
        clock.Restart();
        Tsne.Embed(fold, new TsneOptions { Seed = 1 });
        var foldTsne = clock.Elapsed.TotalSeconds;
        clock.Restart();
        MutualInformationEstimator.Estimate(fold, y.Take(553).ToArray(), new MineOptions { Steps = TorchAnalysisEstimators.MineSteps }, cancellationToken);
        var foldMine = clock.Elapsed.TotalSeconds;
        clock.Restart();
        DeepCca.Fit(fold, video, new DccaOptions(), cancellationToken);
        var foldDcca = clock.Elapsed.TotalSeconds;
        var figures = 2 * (7 * foldTsne + 6 * foldMine + 12 * foldDcca);
        Console.Error.WriteLine($"one test fold (553 rows): t-SNE {foldTsne:F1} s, MINE ({TorchAnalysisEstimators.MineSteps} steps) {foldMine:F1} s, DCCA (100 epochs, 300 vs 2048) {foldDcca:F1} s; a paper-sized sweep's Fig. 5-9: about {figures:F0} s");

        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                rows = settings.Rows,
                dims = settings.Dims,
                threads = TorchSharp.torch.get_num_threads(),
                tsne_seconds = Math.Round(tsneSeconds, 2),
                tsne_cpu_seconds = Math.Round(tsneCpuSeconds, 2),
                mine_steps_per_s = Math.Round(mine.StepsPerSecond, 1),
                dcca_epochs_per_s = Math.Round(dcca.EpochsPerSecond, 3),
                paper_figures_seconds = Math.Round(figures, 1),
            }));
        }
        return 0;
    }

    private static (double[][] X, double[][] Y) Views(int n, int d, int seed)
    {
        var random = new Random(seed);
        double Gaussian()
        {
            var u1 = 1.0 - random.NextDouble();
            return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * random.NextDouble());
        }
        const int latent = 10;
        var mixX = Enumerable.Range(0, latent).Select(_ => Enumerable.Range(0, d).Select(_ => Gaussian()).ToArray()).ToArray();
        var mixY = Enumerable.Range(0, latent).Select(_ => Enumerable.Range(0, d).Select(_ => Gaussian()).ToArray()).ToArray();
        var centres = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, latent).Select(_ => 3 * Gaussian()).ToArray()).ToArray();
        var x = new double[n][];
        var y = new double[n][];
        for (var i = 0; i < n; i++)
        {
            var z = centres[i % 4].Select(c => c + Gaussian()).ToArray();
            x[i] = new double[d];
            y[i] = new double[d];
            for (var f = 0; f < d; f++)
            {
                double sx = 0, sy = 0;
                for (var k = 0; k < latent; k++)
                {
                    sx += z[k] * mixX[k][f];
                    sy += z[k] * mixY[k][f];
                }
                x[i][f] = sx + Gaussian();
                y[i][f] = Math.Tanh(sy / 3) + 0.5 * Gaussian();
            }
        }
        return (x, y);
    }
}
