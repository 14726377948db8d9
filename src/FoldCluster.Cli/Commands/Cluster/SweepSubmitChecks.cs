using FoldCluster.Core;
using FoldCluster.Core.Sweeps;
using FoldCluster.Features;
using FoldCluster.Features.Corpus;
using FoldCluster.Model;
using FoldCluster.Storage.Sweeps;

namespace FoldCluster.Cli.Commands;

/// <summary>
/// What `sweep submit` checks before anything is stored, so that a mistake fails once, at submit, rather than on every
/// worker for every job: the override maps (training overrides, each dataset's extraction options) and, for every
/// dataset whose corpus this machine can read, that each modality the sweep's jobs need exists in it.
/// </summary>
internal static class SweepSubmitChecks
{
    /// <summary>Training overrides read by the simulated trainer (docs/cluster.md), passed through unchecked.</summary>
    private const string SimulatedPrefix = "simulated.";

    public static void CheckOverrides(SweepSpec spec)
    {
        var training = spec.Training.Where(kv => !kv.Key.StartsWith(SimulatedPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        try
        {
            TrainingProfile.Get(spec.Profile).WithOverrides(training);
        }
        catch (BadInputException e)
        {
            throw new BadInputException($"sweep '{spec.Name}', field 'training': {e.Message}");
        }
        foreach (var dataset in spec.Datasets)
        {
            try
            {
                ExtractionOptions.Paper.WithOverrides(dataset.Options);
            }
            catch (BadInputException e)
            {
                throw new BadInputException($"sweep '{spec.Name}', dataset '{dataset.Name}', field 'options': {e.Message}");
            }
        }
    }

    /// <summary>
    /// The utterance set of each dataset whose root exists here (<see cref="SweepSpec.UtteranceSetFor"/>); a modality
    /// that some job needs and no utterance of the corpus has refuses the sweep with the corpus's counts.
    /// </summary>
    public static IReadOnlyList<PlannedUtteranceSet> PlanUtteranceSets(SweepSpec spec, TextWriter log)
    {
        var plans = new List<PlannedUtteranceSet>();
        var keys = spec.Expand();
        foreach (var dataset in spec.Datasets)
        {
            var required = spec.UtteranceSetFor(dataset);
            if (required.Flags == Modality.None)
            {
                continue; // every job of it is excluded
            }
            if (!Path.IsPathRooted(dataset.Root) || !Directory.Exists(dataset.Root))
            {
                log.WriteLine($"dataset '{dataset.Name}': corpus '{dataset.Root}' not readable here (relative paths are resolved by each worker); its modalities are checked by the workers");
                continue;
            }
            var index = CorpusReader.Read(dataset.Layout, dataset.Root, dataset.Transcripts);
            foreach (var modality in new[] { Modality.Audio, Modality.Video, Modality.Text })
            {
                if (!required.Flags.HasFlag(modality) || index.Modalities.Of(modality) > 0)
                {
                    continue;
                }
                var sets = keys.Where(k => k.Dataset == dataset.Name && k.Extractor == dataset.RecordedExtractor)
                    .Select(k => k.Modalities).Where(m => ModalitySet.Parse(m).Flags.HasFlag(modality))
                    .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
                throw new BadInputException(
                    $"dataset '{dataset.Name}' ({dataset.Layout} at {dataset.Root}) has no {Name(modality)}: 0 of {index.Utterances.Count} labelled utterances " +
                    $"have it (audio {index.Modalities.Audio}, video {index.Modalities.Video}, text {index.Modalities.Text}); " +
                    $"the sweep's modality sets {string.Join(", ", sets)} need it: leave them out of `modalities` (or exclude them for this dataset)" +
                    (modality == Modality.Text && dataset.Layout == CorpusReader.MspImprov ? ", or give `transcripts: FILE`" : ""));
            }
            var leftOut = new SortedDictionary<string, int>(StringComparer.Ordinal);
            foreach (var u in index.Utterances.Where(u => !u.Has(required.Flags)))
            {
                var reason = UtteranceSet.Reason(required.Flags, u.Modalities)!;
                leftOut[reason] = leftOut.GetValueOrDefault(reason) + 1;
            }
            var plan = new PlannedUtteranceSet(dataset.Name, dataset.RecordedExtractor, required.ToString(),
                index.Having(required.Flags).Count, index.Utterances.Count, leftOut);
            plans.Add(plan);
            log.WriteLine($"dataset '{dataset.Name}': every job trains on the {plan.Utterances} of {plan.Labelled} labelled utterances that have {required}" +
                (leftOut.Count == 0 ? "" : "; left out: " + string.Join(", ", leftOut.Select(kv => $"{kv.Value} ({kv.Key})"))));
        }
        return plans;
    }

    private static string Name(Modality modality) => modality switch
    {
        Modality.Audio => "audio",
        Modality.Video => "video",
        _ => "transcripts (text)",
    };
}
