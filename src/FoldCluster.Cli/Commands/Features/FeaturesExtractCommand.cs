using System.ComponentModel;
using FoldCluster.Core;
using FoldCluster.Features;
using FoldCluster.Features.Corpus;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Features;

public sealed class FeaturesExtractSettings : CommandSettings
{
    [CommandOption("--layout <LAYOUT>")]
    [Description("iemocap or msp-improv")]
    public string Layout { get; init; } = "";

    [CommandOption("--root <DIR>")]
    [Description("Corpus root")]
    public string Root { get; init; } = "";

    [CommandOption("--cache <DIR>")]
    [Description("Feature cache folder (one per worker)")]
    public string Cache { get; init; } = "";

    [CommandOption("--dataset <NAME>")]
    [Description("Dataset name the trainer uses (`train --features DIR --dataset NAME`); default: the layout name")]
    public string? Dataset { get; init; }

    [CommandOption("--extractor <NAME>")]
    [Description("Frame network: resnet50 (2048-d, default) or vggface (VGG-16 fc7, 4096-d)")]
    public string Extractor { get; init; } = "resnet50";

    [CommandOption("--weights <FILE>")]
    [Description("Frame network weights: PyTorch state dict (.pth/.pt) or TorchSharp file")]
    public string? Weights { get; init; }

    [CommandOption("--allow-random-weights")]
    [Description("Without --weights, use fixed-seed random weights (recorded as <extractor>-random)")]
    public bool AllowRandomWeights { get; init; }

    [CommandOption("--word2vec <FILE>")]
    [Description("Word2Vec file, binary (GoogleNews) or text; default: <root>/word2vec.bin when present")]
    public string? Word2Vec { get; init; }

    [CommandOption("--transcripts <FILE>")]
    [Description("Transcripts to use: one \"utterance-id<TAB>text\" line per utterance (MSP-IMPROV releases without per-clip .txt files)")]
    public string? Transcripts { get; init; }

    [CommandOption("--video-fps <F>")]
    [Description("Frames per second sampled from each utterance (default 4; generated corpus 2)")]
    public double? VideoFps { get; init; }

    [CommandOption("--frame-size <PX>")]
    [Description("Square frame size fed to the network (default 224; generated corpus 112)")]
    public int? FrameSize { get; init; }

    [CommandOption("--crop-map <MAP>")]
    [Description("IEMOCAP: which half shows which actor (default F=left,M=right; or full)")]
    public string? CropMap { get; init; }

    [CommandOption("--json")]
    [Description("Print the extraction report as JSON on stdout")]
    public bool Json { get; init; }
}

/// <summary>`foldcluster features extract`: fill the cache for one dataset, with progress and a report.</summary>
public sealed class FeaturesExtractCommand : Command<FeaturesExtractSettings>
{
    public override int Execute(CommandContext context, FeaturesExtractSettings settings, CancellationToken cancellationToken)
    {
        FeatureCliSupport.Require(settings.Layout, "--layout");
        FeatureCliSupport.Require(settings.Root, "--root");
        FeatureCliSupport.Require(settings.Cache, "--cache");
        var layout = CorpusReader.NormalizeLayout(settings.Layout);
        var defaults = ExtractionOptions.DefaultFor(settings.Root);
        var options = defaults with
        {
            VideoFps = settings.VideoFps ?? defaults.VideoFps,
            FrameSize = settings.FrameSize ?? defaults.FrameSize,
            CropMap = settings.CropMap ?? defaults.CropMap,
        };
        var source = new DatasetSource(settings.Dataset ?? layout, layout, settings.Root, settings.Word2Vec, settings.Extractor,
            settings.Weights, settings.AllowRandomWeights, settings.Transcripts);
        var (features, report) = Run(source, options, settings.Cache, cancellationToken);
        foreach (var line in report.Summary())
        {
            Console.Error.WriteLine(line);
        }
        Console.Error.WriteLine($"report: {FeatureStore.ReportPath(settings.Cache, source.Name)}");
        if (settings.Json)
        {
            Console.Out.WriteLine(report.ToJson());
        }
        if (features.Utterances.Count == 0)
        {
            throw new BadInputException($"no utterance of {settings.Root} could be extracted (see {FeatureStore.ReportPath(settings.Cache, source.Name)})");
        }
        return 0;
    }

    private static (FeatureSet, ExtractionReport) Run(DatasetSource source, ExtractionOptions options, string cache, CancellationToken ct)
    {
        if (Console.IsErrorRedirected)
        {
            // Plain lines for logs and pipes, at most about one per second.
            var last = DateTime.MinValue;
            var progress = new SynchronousProgress<ExtractionProgress>(p =>
            {
                if (p.Done == 0 || p.Done == p.Total || DateTime.UtcNow - last > TimeSpan.FromSeconds(1))
                {
                    last = DateTime.UtcNow;
                    Console.Error.WriteLine($"[{p.Done}/{p.Total}] {p.Message}");
                }
            });
            return FeatureStore.LoadOrExtract(source, options, cache, progress, ct);
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        (FeatureSet, ExtractionReport) result = default;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("features", maxValue: 1);
                var progress = new SynchronousProgress<ExtractionProgress>(p =>
                {
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                    task.Description = Markup.Escape(p.Message.Length > 60 ? p.Message[..60] : p.Message);
                });
                result = FeatureStore.LoadOrExtract(source, options, cache, progress, ct);
                task.Value = task.MaxValue;
            });
        return result;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
