using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Model;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Model;

public sealed class TrainSettings : ModelChoiceSettings
{
    [CommandOption("--synthetic-features <COUNT>")]
    [Description("Train on a generated feature set of COUNT utterances (real shapes; classes need several modalities).")]
    public int? SyntheticFeatures { get; init; }

    [CommandOption("--features <DIR>")]
    [Description("Feature cache directory (with --dataset).")]
    public string? Features { get; init; }

    [CommandOption("--dataset <NAME>")]
    [Description("Dataset name inside the feature cache (with --features).")]
    public string? Dataset { get; init; }

    [CommandOption("--fold <K>")]
    [Description("Test fold 0-9 (validation is fold K+1 mod 10).")]
    [DefaultValue(0)]
    public int Fold { get; init; }

    [CommandOption("--split <SPLIT>")]
    [Description("utterance (stratified, the paper's) or speaker.")]
    [DefaultValue("utterance")]
    public string Split { get; init; } = "utterance";

    [CommandOption("--seed <SEED>")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    [CommandOption("--no-pretrain")]
    [Description("NP ablation: skip stage 1 (reconstruction) and train stage 2 from random weights.")]
    public bool NoPretrain { get; init; }

    [CommandOption("--device <DEVICE>")]
    [Description("cpu, cuda, cuda:N or auto.")]
    [DefaultValue("auto")]
    public string Device { get; init; } = "auto";

    [CommandOption("--threads <N>")]
    [Description("libtorch threads (default: all cores).")]
    public int? Threads { get; init; }

    [CommandOption("--json")]
    [Description("Print the final metrics as one JSON line on stdout.")]
    public bool Json { get; init; }

    public override Spectre.Console.ValidationResult Validate()
    {
        if (SyntheticFeatures is null == (Features is null))
        {
            return Spectre.Console.ValidationResult.Error("give either --synthetic-features COUNT or --features DIR --dataset NAME");
        }
        if (Features is not null && string.IsNullOrWhiteSpace(Dataset))
        {
            return Spectre.Console.ValidationResult.Error("--features needs --dataset NAME");
        }
        return Spectre.Console.ValidationResult.Success();
    }
}

/// <summary>`foldcluster train`: one job in-process; progress on stderr, the result on stdout.</summary>
public sealed class TrainCommand : Command<TrainSettings>
{
    public override int Execute(CommandContext context, TrainSettings settings, CancellationToken cancellationToken)
    {
        var overrides = settings.Overrides();
        var profile = TrainingProfile.Get(settings.Profile).WithOverrides(overrides);
        // Cheap checks before any features are built or read.
        EmotionModel.CheckMethod(settings.Method, ModalitySet.Parse(settings.Modalities));
        var features = WithModalities(LoadFeatures(settings), ModalitySet.Parse(settings.Modalities), settings);
        var key = new JobKey(features.Dataset, settings.Split.Trim().ToLowerInvariant(), settings.Fold, settings.Method.Trim().ToLowerInvariant(),
            ModalitySet.Parse(settings.Modalities).ToString(), !settings.NoPretrain, features.Extractor, settings.Seed, profile.Name);
        if (settings.Threads is { } threads)
        {
            ModelTrainer.ConfigureThreads(threads);
        }
        Console.Error.WriteLine($"train {key.Canonical} on {features.Utterances.Count} utterances");
        var outcome = ModelTrainer.Train(features, key, overrides, settings.Device, report =>
        {
            var validation = report.ValidationUa is { } ua
                ? $" val_loss={report.ValidationLoss:F4} val_ua={ua:F4}"
                : $" val_loss={report.ValidationLoss:F4}";
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"stage {report.Stage} epoch {report.Epoch}/{report.EpochsPlanned} train_loss={report.TrainLoss:F4}{validation}"));
        }, cancellationToken);

        var m = outcome.Test;
        if (settings.Json)
        {
            var result = new Dictionary<string, object>
            {
                ["key"] = key.Canonical,
                ["method"] = key.Method,
                ["modalities"] = key.Modalities,
                ["fold"] = key.Fold,
                ["split"] = key.Split,
                ["pretrained"] = key.Pretrained,
                ["profile"] = key.Profile,
                ["seed"] = key.Seed,
                ["ua"] = m.Ua,
                ["wa"] = m.Wa,
                ["macro_f1"] = m.MacroF1,
                ["weighted_f1"] = m.WeightedF1,
                ["confusion"] = m.Confusion,
                ["best_epoch"] = outcome.BestEpoch,
                ["seconds"] = Math.Round(outcome.Seconds, 3),
                ["test_utterances"] = outcome.Predictions.Count,
            };
            Console.Out.WriteLine(JsonSerializer.Serialize(result));
        }
        else
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"UA {m.Ua:F4}  WA {m.Wa:F4}  macro-F1 {m.MacroF1:F4}  weighted-F1 {m.WeightedF1:F4}  best epoch {outcome.BestEpoch}  {outcome.Seconds:F1} s"));
            Console.Out.WriteLine("confusion (rows = true; angry, happy, sad, neutral):");
            foreach (var row in m.Confusion)
            {
                Console.Out.WriteLine("  " + string.Join(' ', row.Select(v => v.ToString(CultureInfo.InvariantCulture).PadLeft(5))));
            }
        }
        return ExitCodes.Success;
    }

    /// <summary>
    /// The utterances that have every input the run needs: a cache of a corpus copy without some videos still
    /// trains A+T, or A+V+T on the utterances that have video; how many were left out goes to stderr.
    /// </summary>
    private static FeatureSet WithModalities(FeatureSet all, ModalitySet modalities, TrainSettings settings)
    {
        var set = FoldCluster.Features.UtteranceSet.Select(all, modalities);
        if (set.LeftOut.Count == 0)
        {
            return set.Features;
        }
        var leftOut = string.Join(", ", set.LeftOut.Select(kv => $"{kv.Value} {kv.Key}"));
        if (set.Features.Utterances.Count == 0)
        {
            throw new BadInputException(
                $"no utterance of dataset '{settings.Dataset}' in {settings.Features} has every modality of {modalities} ({leftOut}); choose --modalities among the inputs the corpus has");
        }
        Console.Error.WriteLine($"left out {set.LeftOut.Values.Sum()} of {all.Utterances.Count} utterances that lack a modality of {modalities}: {leftOut}");
        return set.Features;
    }

    private static FeatureSet LoadFeatures(TrainSettings settings)
    {
        if (settings.SyntheticFeatures is { } count)
        {
            return SyntheticFeatures.Generate(count, settings.Seed);
        }
        return FoldCluster.Features.FeatureStore.Load(settings.Features!, settings.Dataset!);
    }
}
