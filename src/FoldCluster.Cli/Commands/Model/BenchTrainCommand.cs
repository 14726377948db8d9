using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Model;
using FoldCluster.Model.Fusion;
using FoldCluster.Model.Training;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Model;

public sealed class BenchTrainSettings : CommandSettings
{
    [CommandOption("--json")]
    [Description("Last stdout line: {\"gemm_gflops\": x, \"methods\": {\"cmha\": {\"samples_per_s\": x, \"gflop_per_sample\": x, \"efficiency\": x}, ...}}.")]
    public bool Json { get; init; }

    [CommandOption("--methods <LIST>")]
    [Description("Comma-separated fusion methods to measure (default: concat,tfn,mult,cmha).")]
    public string? Methods { get; init; }

    [CommandOption("--modalities <SET>")]
    [DefaultValue("AVT")]
    public string Modalities { get; init; } = "AVT";

    [CommandOption("--steps <N>")]
    [Description("Timed stage-2 steps per method after one warm-up step.")]
    [DefaultValue(3)]
    public int Steps { get; init; } = 3;

    [CommandOption("--profile <NAME>")]
    [DefaultValue("paper")]
    public string Profile { get; init; } = "paper";

    [CommandOption("--threads <N>")]
    [Description("libtorch threads (default: all cores).")]
    public int? Threads { get; init; }

    [CommandOption("--soak <EPOCHS>")]
    [Description("Instead: a tiny-profile run of EPOCHS epochs (stage 1 and 2) printing resident memory after every epoch.")]
    public int? Soak { get; init; }

    [CommandOption("--soak-utterances <N>")]
    [DefaultValue(300)]
    public int SoakUtterances { get; init; } = 300;
}

/// <summary>`foldcluster bench train`: stage-2 throughput per fusion method against libtorch's GEMM rate, or a memory soak.</summary>
public sealed class BenchTrainCommand : Command<BenchTrainSettings>
{
    public override int Execute(CommandContext context, BenchTrainSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Threads is { } threads)
        {
            ModelTrainer.ConfigureThreads(threads);
        }
        return settings.Soak is { } epochs ? Soak(settings, epochs, cancellationToken) : Throughput(settings, cancellationToken);
    }

    private static int Throughput(BenchTrainSettings settings, CancellationToken cancellationToken)
    {
        var profile = TrainingProfile.Get(settings.Profile);
        var methods = (settings.Methods ?? string.Join(',', FusionModule.Methods))
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(m => m.ToLowerInvariant())
            .ToArray();
        var modalities = ModalitySet.Parse(settings.Modalities);
        foreach (var method in methods)
        {
            EmotionModel.CheckMethod(method, modalities);
        }
        if (settings.Steps < 1)
        {
            throw new BadInputException($"--steps {settings.Steps} is not valid: expected at least 1");
        }
        Console.Error.WriteLine($"libtorch threads: {TorchSharp.torch.get_num_threads()}; profile {profile.Name}, {modalities}, batch {profile.BatchSize}");
        var results = new List<MethodThroughput>();
        foreach (var method in methods)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var r = TrainingBenchmark.MeasureStage2(method, modalities.ToString(), profile, settings.Steps);
            results.Add(r);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{method,-7} {r.SamplesPerSecond,8:F2} samples/s  {r.TrainingGflopPerSample,8:F3} GFLOP/sample (fwd {r.ForwardGflopPerSample:F3} x {TrainingBenchmark.TrainingFlopFactor})  {r.AchievedGflops,7:F1} GFLOP/s  GEMM {r.PeakGemmGflops,6:F1} GFLOP/s  efficiency {r.Efficiency:F3}"));
        }
        // Reported GEMM rate: the highest measured in this run (each method's efficiency uses the rates around its own steps).
        var gemm = results.Max(r => r.PeakGemmGflops);
        if (settings.Json)
        {
            var json = new Dictionary<string, object>
            {
                ["gemm_gflops"] = Math.Round(gemm, 3),
                ["efficiency_rule"] = "median over timed steps of achieved GFLOP/s / GEMM GFLOP/s measured around that step",
                ["profile"] = profile.Name,
                ["modalities"] = modalities.ToString(),
                ["batch_size"] = profile.BatchSize,
                ["threads"] = TorchSharp.torch.get_num_threads(),
                ["flop_rule"] = "training = 3 x forward; forward counts linear, convolution and attention matmuls",
                ["methods"] = results.ToDictionary(r => r.Method, r => new Dictionary<string, double>
                {
                    ["samples_per_s"] = Math.Round(r.SamplesPerSecond, 4),
                    ["gflop_per_sample"] = Math.Round(r.TrainingGflopPerSample, 5),
                    ["forward_gflop_per_sample"] = Math.Round(r.ForwardGflopPerSample, 5),
                    ["achieved_gflops"] = Math.Round(r.AchievedGflops, 3),
                    ["efficiency"] = Math.Round(r.Efficiency, 4),
                    ["gemm_gflops_around"] = Math.Round(r.PeakGemmGflops, 3),
                }),
            };
            Console.Out.WriteLine(JsonSerializer.Serialize(json));
        }
        return ExitCodes.Success;
    }

    private static int Soak(BenchTrainSettings settings, int epochs, CancellationToken cancellationToken)
    {
        if (epochs < 4)
        {
            throw new BadInputException($"--soak {epochs} is not valid: expected at least 4 epochs (growth is measured after epoch 3)");
        }
        var stage1 = Math.Max(1, epochs / 5);
        var overrides = new Dictionary<string, string>
        {
            ["epochs_stage1"] = stage1.ToString(CultureInfo.InvariantCulture),
            ["epochs_stage2"] = (epochs - stage1).ToString(CultureInfo.InvariantCulture),
            ["patience"] = "0",
        };
        var features = SyntheticFeatures.Generate(settings.SoakUtterances, 1);
        var key = new JobKey(features.Dataset, "utterance", 0, "cmha", "AVT", true, features.Extractor, 1, "tiny");
        var rss = new List<(int Stage, int Epoch, double Mb)>();
        Console.Error.WriteLine($"soak: {key.Canonical}, {stage1} + {epochs - stage1} epochs on {features.Utterances.Count} utterances");
        ModelTrainer.Train(features, key, overrides, "cpu", report =>
        {
            var mb = TrainingBenchmark.ResidentBytes() / (1024.0 * 1024.0);
            rss.Add((report.Stage, report.Epoch, mb));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {rss.Count,3} (stage {report.Stage} epoch {report.Epoch,3})  rss {mb:F1} MB"));
        }, cancellationToken);
        var afterThird = rss[2].Mb;
        var later = rss.Skip(3).ToList();
        var peakAfter = later.Max(r => r.Mb);
        var last = rss[^1].Mb;
        var stage2 = rss.Where(r => r.Stage == 2).Select(r => r.Mb).ToList();
        // Least-squares slope over epochs 4..N: a leak shows as a steady positive slope, allocator warm-up does not.
        var xs = Enumerable.Range(4, later.Count).Select(x => (double)x).ToArray();
        var ys = later.Select(r => r.Mb).ToArray();
        var xMean = xs.Average();
        var yMean = ys.Average();
        var slope = xs.Zip(ys, (x, y) => (x - xMean) * (y - yMean)).Sum() / xs.Sum(x => (x - xMean) * (x - xMean));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rss after epoch 3: {afterThird:F1} MB; last: {last:F1} MB (change {last - afterThird:+0.0;-0.0} MB); highest after epoch 3: {peakAfter:F1} MB; slope over epochs 4-{rss.Count}: {slope:+0.000;-0.000} MB/epoch; stage 2: {stage2.Min():F1}-{stage2.Max():F1} MB"));
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["epochs"] = rss.Count,
                ["stages"] = rss.Select(r => r.Stage).ToArray(),
                ["rss_mb"] = rss.Select(r => Math.Round(r.Mb, 2)).ToArray(),
                ["rss_epoch3_mb"] = Math.Round(afterThird, 2),
                ["rss_last_mb"] = Math.Round(last, 2),
                ["change_after_epoch3_mb"] = Math.Round(last - afterThird, 2),
                ["rss_peak_after_epoch3_mb"] = Math.Round(peakAfter, 2),
                ["slope_after_epoch3_mb_per_epoch"] = Math.Round(slope, 4),
                ["stage2_rss_min_mb"] = Math.Round(stage2.Min(), 2),
                ["stage2_rss_max_mb"] = Math.Round(stage2.Max(), 2),
            }));
        }
        return ExitCodes.Success;
    }
}
