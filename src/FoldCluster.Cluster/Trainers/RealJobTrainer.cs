using System.Collections.Concurrent;
using System.Globalization;
using FoldCluster.Core;
using FoldCluster.Core.Sweeps;
using FoldCluster.Features;
using FoldCluster.Model;
using FoldCluster.Model.Training;

namespace FoldCluster.Cluster.Trainers;

/// <summary>
/// The real job: features from the worker's cache (extracted from the raw corpus the first time), then the
/// two-stage TorchSharp training. A node's slots share one loaded feature set per dataset, so a dataset is
/// extracted once per worker even when several slots start jobs of it at once.
/// </summary>
public sealed class RealJobTrainer : IJobTrainer
{
    private readonly ConcurrentDictionary<string, Lazy<(FeatureSet, ExtractionReport)>> _loaded = new(StringComparer.Ordinal);
    private readonly int _threadsPerSlot;
    private readonly Action<string> _log;

    public RealJobTrainer(int threadsPerSlot, Action<string> log)
    {
        _threadsPerSlot = threadsPerSlot;
        _log = log;
    }

    public TrainingOutcome Run(JobRequest request, Action<EpochReport> onEpoch, CancellationToken cancellationToken)
    {
        var (featureOptions, trainingOverrides) = SplitOverrides(request.TrainingOverrides);
        var storeFeatures = StoredFeatureLevel.None;
        if (trainingOverrides.TryGetValue(FeatureKinds.OverrideKey, out var level))
        {
            storeFeatures = FeatureKinds.ParseLevel(level, $"job override {FeatureKinds.OverrideKey}");
            trainingOverrides = trainingOverrides.Where(kv => kv.Key != FeatureKinds.OverrideKey).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        }
        var options = ApplyFeatureOptions(ExtractionOptions.DefaultFor(request.Dataset.Root), featureOptions);
        var source = request.Dataset;
        var loadKey = string.Join('|', source, options.Canonical, Path.GetFullPath(request.CacheDirectory));
        var lazy = _loaded.GetOrAdd(loadKey, _ => new Lazy<(FeatureSet, ExtractionReport)>(
            () => Load(source, options, request.CacheDirectory, cancellationToken), LazyThreadSafetyMode.ExecutionAndPublication));
        FeatureSet all;
        ExtractionReport report;
        try
        {
            (all, report) = lazy.Value;
        }
        catch
        {
            // A failed or cancelled load must not poison the later jobs of this dataset.
            _loaded.TryRemove(new KeyValuePair<string, Lazy<(FeatureSet, ExtractionReport)>>(loadKey, lazy));
            throw;
        }
        // The sweep's utterance set: every job of the dataset trains on the utterances that have all the modalities the
        // sweep's modality sets need, so their folds are the same. Jobs of a sweep stored without it used A+V+T.
        var required = ModalitySet.Parse(request.TrainingOverrides.GetValueOrDefault(SweepSpec.UtteranceSetKey, "AVT"));
        var set = UtteranceSet.Select(all, report, required);
        ModelTrainer.ConfigureThreads(_threadsPerSlot);
        var outcome = ModelTrainer.Train(set.Features, request.Key, trainingOverrides, request.Device, storeFeatures, onEpoch, cancellationToken);
        return outcome with { Provenance = Provenance(request, report, set) };
    }

    private static ResultProvenance Provenance(JobRequest request, ExtractionReport report, UtteranceSet set) => new(
        BuildInfo.CodeVersion, RuntimeInfo.TorchSharpVersion, RuntimeInfo.LibtorchVersion, request.Device,
        RuntimeInfo.DeviceName(request.Device), RuntimeInfo.CpuModel, RuntimeInfo.CpuIsa, RuntimeInfo.Threads,
        Environment.MachineName, report.CacheKey, set.Modalities.ToString(), set.Features.Utterances.Count, set.LeftOut);

    private (FeatureSet, ExtractionReport) Load(DatasetSource source, ExtractionOptions options, string cacheDirectory, CancellationToken ct)
    {
        if (!Directory.Exists(source.Root))
        {
            throw new BadInputException($"corpus root '{source.Root}' of dataset '{source.Name}' does not exist on this worker (check the node's --data-root)");
        }
        _log($"features of dataset '{source.Name}': loading from cache {cacheDirectory} (extracting what is missing)");
        var lastReported = DateTime.MinValue;
        var progress = new Progress<ExtractionProgress>(p =>
        {
            if (DateTime.UtcNow - lastReported > TimeSpan.FromSeconds(10) || p.Done == p.Total)
            {
                lastReported = DateTime.UtcNow;
                _log($"features of '{source.Name}': {p.Done}/{p.Total} {p.Message}");
            }
        });
        var (features, report) = FeatureStore.LoadOrExtract(source, options, cacheDirectory, progress, ct);
        _log($"features of dataset '{source.Name}': {features.Utterances.Count} utterances ready ({report.Modalities})");
        return (features, report);
    }

    /// <summary>Splits a job's override map into extraction options ("features." keys) and training overrides.</summary>
    public static (IReadOnlyDictionary<string, string> Features, IReadOnlyDictionary<string, string> Training) SplitOverrides(
        IReadOnlyDictionary<string, string> overrides)
    {
        var features = new Dictionary<string, string>(StringComparer.Ordinal);
        var training = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in overrides)
        {
            if (key == SweepSpec.UtteranceSetKey)
            {
                continue; // read by Run
            }
            if (key.StartsWith(SweepSpec.FeatureOptionPrefix, StringComparison.Ordinal))
            {
                features[key[SweepSpec.FeatureOptionPrefix.Length..]] = value;
            }
            else
            {
                training[key] = value;
            }
        }
        return (features, training);
    }

    public static ExtractionOptions ApplyFeatureOptions(ExtractionOptions baseline, IReadOnlyDictionary<string, string> options) =>
        baseline.WithOverrides(options);
}
