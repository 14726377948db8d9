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
    [Description("Last stdout line: {\"tsne_seconds\": x, \"tsne_cpu_seconds\": x, \"mine_steps_per_s\": x, \"dcca_epochs_per_s\": x, \"paper_figures_seconds\": x, \"paper_figures_cpu_seconds\": x, \"load_average\": x, ...}.")]
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

        // A paper-sized sweep's Fig. 5-9, every estimator call `tables --figures` makes, on matrices of the stored
        // features' widths (time-pooled inputs: audio 3 x 64 = 192, text 300, ResNet-50 video 2,048; encoder outputs and
        // fused codes 300) and one test fold per dataset (IEMOCAP 5,531 / 10 = 553 rows, MSP-IMPROV 7,798 / 10 = 780),
        // grouped and scheduled exactly as AnalysisFigures draws them.
        var groups = new List<(string Name, Action Run)>();
        foreach (var (dataset, n) in new[] { ("iemocap", 553), ("msp-improv", 780) })
        {
            var seed = 10 * n;
            var audio = Views(n, 192, seed + 1).X;
            var text = Views(n, 300, seed + 2).X;
            var video = Views(n, 2048, seed + 3).X;
            var code = Views(n, 300, seed + 4).X;
            var original = audio.Select((row, i) => row.Concat(text[i]).Concat(video[i]).ToArray()).ToArray();
            var estimators = new TorchAnalysisEstimators(cancellationToken);
            groups.Add(($"{dataset} Fig. 5 (4 t-SNE)", () => { for (var m = 0; m < 4; m++) { Tsne.Embed(code, new TsneOptions { Seed = 1 }); } }));
            groups.Add(($"{dataset} Fig. 7 (3 t-SNE)", () =>
            {
                Tsne.Embed(original, new TsneOptions { Seed = 1 });
                Tsne.Embed(code, new TsneOptions { Seed = 1 });
                Tsne.Embed(code, new TsneOptions { Seed = 1 });
            }));
            groups.Add(($"{dataset} Fig. 8 (6 MINE)", () =>
            {
                foreach (var (x, y) in new[] { (video, text), (audio, text), (audio, video), (code, code), (code, code), (code, code) })
                {
                    estimators.MutualInformation(x, y);
                }
            }));
            groups.Add(($"{dataset} Fig. 9 (12 DCCA)", () =>
            {
                foreach (var input in new[] { video, audio, text })
                {
                    for (var m = 0; m < 4; m++)
                    {
                        estimators.DeepCanonicalCorrelation(code, input);
                    }
                }
            }));
        }
        process.Refresh();
        var figuresCpuBefore = process.TotalProcessorTime;
        clock.Restart();
        var groupSeconds = new double[groups.Count];
        // One at a time, as AnalysisFigures draws them (its Parallelism says why).
        Parallel.For(0, groups.Count, new ParallelOptions { MaxDegreeOfParallelism = FoldCluster.Reports.Analysis.AnalysisFigures.DefaultParallelism, CancellationToken = cancellationToken }, i =>
        {
            var groupClock = Stopwatch.StartNew();
            groups[i].Run();
            groupSeconds[i] = groupClock.Elapsed.TotalSeconds;
        });
        var figures = clock.Elapsed.TotalSeconds;
        process.Refresh();
        var figuresCpu = (process.TotalProcessorTime - figuresCpuBefore).TotalSeconds;
        for (var i = 0; i < groups.Count; i++)
        {
            Console.Error.WriteLine($"  {groups[i].Name}: {groupSeconds[i]:F1} s");
        }
        Console.Error.WriteLine($"a paper-sized sweep's Fig. 5-9 (2 datasets, 50 estimator calls): {figures:F0} s ({figuresCpu:F0} s of CPU)");

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
                paper_figures_cpu_seconds = Math.Round(figuresCpu, 1),
                load_average = LoadAverage(),
            }));
        }
        return 0;
    }

    /// <summary>The 1-minute load average (Linux), so a figure measured on a busy machine says so.</summary>
    private static double? LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
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
