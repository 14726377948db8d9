using System.Security.Cryptography;
using System.Text;

namespace FoldCluster.Core.Sweeps;

/// <summary>
/// One corpus as a sweep names it, with the frame extractor its video features use.
/// The same corpus may appear several times with different extractors (Table III: ResNet-50 vs VGG-Face).
/// </summary>
public sealed record DatasetSpec(
    string Name,
    string Layout,
    string Root,
    string? Word2Vec,
    string Extractor,
    string? Weights,
    bool AllowRandomWeights,
    IReadOnlyDictionary<string, string> Options,
    string? Transcripts = null)
{
    /// <summary>
    /// The extractor name recorded in job keys and results: random weights say so (DESIGN.md 4.3),
    /// so a result computed without pretrained frame weights can never pass for one with them.
    /// </summary>
    public string RecordedExtractor => AllowRandomWeights && Weights is null ? Extractor + "-random" : Extractor;

    /// <summary>What a worker slot receives; relative paths are resolved on the worker (see <see cref="SweepPaths"/>).</summary>
    public DatasetSource ToSource() => new(Name, Layout, Root, Word2Vec, Extractor, Weights, AllowRandomWeights, Transcripts);
}

/// <summary>
/// A partial job key: a job matching every field named here is left out of the sweep
/// (e.g. {method: tfn, modalities: [AV, AT, VT]} for Table II's TFN columns).
/// Values are normalised strings; pretraining is "with" or "np".
/// </summary>
public sealed record SweepExclusion(IReadOnlyDictionary<string, IReadOnlyList<string>> Fields)
{
    public bool Matches(JobKey key, DatasetSpec dataset)
    {
        foreach (var (field, values) in Fields)
        {
            var matches = field switch
            {
                "dataset" => values.Contains(key.Dataset),
                "split" => values.Contains(key.Split),
                "fold" => values.Contains(key.Fold.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                "method" => values.Contains(key.Method),
                "modalities" => values.Contains(key.Modalities),
                "pretraining" => values.Contains(key.Pretrained ? "with" : "np"),
                "extractor" => values.Contains(key.Extractor) || values.Contains(dataset.Extractor),
                "seed" => values.Contains(key.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                "layout" => values.Contains(dataset.Layout),
                _ => false,
            };
            if (!matches)
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>
/// An ablation sweep (docs/sweep-spec.md): the cross product of datasets x splits x seeds x methods x
/// modality sets x pre-training variants x folds, minus exclusions. Parse with <see cref="SweepSpecParser"/>;
/// <see cref="ToYaml"/> gives the normalised text that the database stores and hashes.
/// </summary>
public sealed record SweepSpec(
    string Name,
    IReadOnlyList<DatasetSpec> Datasets,
    IReadOnlyList<string> Methods,
    IReadOnlyList<string> Modalities,
    IReadOnlyList<bool> Pretraining,
    IReadOnlyList<int> Folds,
    IReadOnlyList<string> Splits,
    IReadOnlyList<int> Seeds,
    string Profile,
    IReadOnlyDictionary<string, string> Training,
    IReadOnlyList<SweepExclusion> Exclusions,
    int MaxAttempts,
    int MaxLosses = SweepSpec.DefaultMaxLosses)
{
    public const int DefaultMaxAttempts = 3;

    /// <summary>Losses (lease lost, node downed, shutdown, outage) a job may suffer before it fails: more than failures, as they are not its fault.</summary>
    public const int DefaultMaxLosses = 10;
    public const int FoldCount = 10;

    /// <summary>The default cap on a sweep's grid (docs/sweep-spec.md, `max_jobs`).</summary>
    public const int DefaultMaxJobs = 100_000;

    /// <summary>The largest `max_jobs` a spec may ask for.</summary>
    public const int MaxJobsLimit = 10_000_000;

    /// <summary>The cap on <see cref="GridSize"/>: a larger grid is refused before it is expanded.</summary>
    public int MaxJobs { get; init; } = DefaultMaxJobs;

    /// <summary>
    /// The size of the cross product before exclusions and without building it: datasets x splits x seeds x
    /// (method, modality set) pairs x pre-training variants x folds, saturating at <see cref="long.MaxValue"/>.
    /// </summary>
    public long GridSize()
    {
        long size = 1;
        foreach (var factor in new long[] { Datasets.Count, Splits.Count, Seeds.Count, MethodModalityPairs().LongCount(), Pretraining.Count, Folds.Count })
        {
            if (factor == 0)
            {
                return 0;
            }
            size = size > long.MaxValue / factor ? long.MaxValue : size * factor;
        }
        return size;
    }

    /// <summary>Refuses a grid larger than <see cref="MaxJobs"/> (bad input), naming the factors.</summary>
    public void CheckGridSize(string source)
    {
        var size = GridSize();
        if (size > MaxJobs)
        {
            throw new BadInputException(
                $"{source}: the sweep's grid has {size.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} jobs "
                + $"({Datasets.Count} datasets x {Splits.Count} splits x {Seeds.Count} seeds x {MethodModalityPairs().Count()} method/modality pairs "
                + $"x {Pretraining.Count} pre-training variants x {Folds.Count} folds, before exclusions), more than max_jobs "
                + $"{MaxJobs.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)}; "
                + $"shrink the grid, or raise max_jobs (at most {MaxJobsLimit.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)})");
        }
    }

    public static readonly IReadOnlyList<string> AllowedLayouts = ["iemocap", "msp-improv"];
    public static readonly IReadOnlyList<string> AllowedExtractors = ["resnet50", "vggface"];
    public static readonly IReadOnlyList<string> AllowedMethods = ["concat", "tfn", "mult", "cmha", "none"];
    public static readonly IReadOnlyList<string> AllowedPretraining = ["with", "np"];
    public static readonly IReadOnlyList<string> AllowedSplits = ["utterance", "speaker"];
    public static readonly IReadOnlyList<string> AllowedProfiles = ["paper", "tiny"];
    public static readonly IReadOnlyList<string> ExclusionFields =
        ["dataset", "layout", "split", "fold", "method", "modalities", "pretraining", "extractor", "seed"];

    /// <summary>Which vectors jobs store for the analysis figures (field <c>store_features</c>; default none).</summary>
    public StoredFeatureLevel StoreFeatures { get; init; } = StoredFeatureLevel.None;

    /// <summary>
    /// The folds whose jobs store them (field <c>store_features_folds</c>; default: the sweep's first fold, i.e. one
    /// fold per table cell, which the figures need and which keeps the database small).
    /// </summary>
    public IReadOnlyList<int> StoreFeaturesFolds { get; init; } = [];

    /// <summary>The folds that store features: <see cref="StoreFeaturesFolds"/>, or the first fold when none are named.</summary>
    public IReadOnlyList<int> FoldsStoringFeatures =>
        StoreFeatures == StoredFeatureLevel.None ? [] : StoreFeaturesFolds.Count > 0 ? StoreFeaturesFolds : [Folds[0]];

    /// <summary>Prefix under which a dataset's free extraction options travel in a job's override map.</summary>
    public const string FeatureOptionPrefix = "features.";

    /// <summary>
    /// Every job of the sweep, in claim order: dataset, split, seed, method, modality set, pre-training, fold
    /// (folds innermost so a table cell's ten folds are handed out together).
    /// A single modality has nothing to fuse: A, V and T always run with method "none", whatever the methods list says.
    /// </summary>
    public IReadOnlyList<JobKey> Expand()
    {
        CheckGridSize($"sweep '{Name}'");
        var keys = new List<JobKey>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dataset in Datasets)
        {
            foreach (var split in Splits)
            {
                foreach (var seed in Seeds)
                {
                    foreach (var (method, modalities) in MethodModalityPairs())
                    {
                        foreach (var pretrained in Pretraining)
                        {
                            foreach (var fold in Folds)
                            {
                                var key = new JobKey(dataset.Name, split, fold, method, modalities, pretrained,
                                    dataset.RecordedExtractor, seed, Profile);
                                if (Exclusions.Any(e => e.Matches(key, dataset)) || !seen.Add(key.Canonical))
                                {
                                    continue;
                                }
                                keys.Add(key);
                            }
                        }
                    }
                }
            }
        }
        return keys;
    }

    private IEnumerable<(string Method, string Modalities)> MethodModalityPairs()
    {
        foreach (var method in Methods)
        {
            foreach (var modalities in Modalities)
            {
                var single = modalities.Length == 1;
                if (single && method != "none")
                {
                    continue;
                }
                if (!single && method == "none")
                {
                    continue;
                }
                yield return (method, modalities);
            }
        }
        // Single-modality sets run once with "none" even when only fusion methods are listed.
        if (!Methods.Contains("none"))
        {
            foreach (var modalities in Modalities.Where(m => m.Length == 1))
            {
                yield return ("none", modalities);
            }
        }
    }

    /// <summary>The dataset entry a job key came from (name + recorded extractor), or null.</summary>
    public DatasetSpec? DatasetFor(JobKey key) =>
        Datasets.FirstOrDefault(d => d.Name == key.Dataset && d.RecordedExtractor == key.Extractor);

    /// <summary>
    /// Key under which a job's override map carries the modalities of its dataset's utterance set
    /// (<see cref="UtteranceSetFor"/>), e.g. "AVT"; the worker trains on the utterances that have all of them.
    /// </summary>
    public const string UtteranceSetKey = "utterances.modalities";

    /// <summary>
    /// The modalities every utterance of a dataset's utterance set must have: the union of the modality sets of the
    /// sweep's jobs on that dataset. All jobs of the dataset train on that one set, so their folds are the same and
    /// paired comparisons (A+T against A+V+T, fold by fold) stay paired.
    /// </summary>
    public ModalitySet UtteranceSetFor(DatasetSpec dataset)
    {
        var flags = Modality.None;
        foreach (var key in Expand().Where(k => k.Dataset == dataset.Name && k.Extractor == dataset.RecordedExtractor))
        {
            flags |= ModalitySet.Parse(key.Modalities).Flags;
        }
        return new ModalitySet(flags);
    }

    /// <summary>
    /// What a job's trainer receives besides the dataset: the training overrides as written, the
    /// dataset's free extraction options under "features." (e.g. features.frame_size = 112), and the
    /// modalities of the dataset's utterance set under <see cref="UtteranceSetKey"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string> OverridesFor(DatasetSpec dataset)
    {
        var merged = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in Training)
        {
            merged[k] = v;
        }
        foreach (var (k, v) in dataset.Options)
        {
            merged[FeatureOptionPrefix + k] = v;
        }
        var set = UtteranceSetFor(dataset);
        if (set.Flags != Modality.None)
        {
            merged[UtteranceSetKey] = set.ToString();
        }
        return merged;
    }

    /// <summary>
    /// <see cref="OverridesFor(DatasetSpec)"/> for one job, plus <see cref="FeatureKinds.OverrideKey"/> when the job's
    /// fold is one that stores features.
    /// </summary>
    public IReadOnlyDictionary<string, string> OverridesFor(DatasetSpec dataset, JobKey key)
    {
        var overrides = OverridesFor(dataset);
        if (!FoldsStoringFeatures.Contains(key.Fold))
        {
            return overrides;
        }
        var merged = new SortedDictionary<string, string>(overrides.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal)
        {
            [FeatureKinds.OverrideKey] = FeatureKinds.Name(StoreFeatures),
        };
        return merged;
    }

    /// <summary>The normalised YAML (fixed field order, sorted maps, canonical values): what the database stores.</summary>
    public string ToYaml() => SweepSpecWriter.Write(this);

    /// <summary>sha256 (lower-case hex) of the normalised YAML: same name + other hash is a different sweep.</summary>
    public string Hash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToYaml())));

    public SweepSpec WithName(string name)
    {
        SweepSpecParser.ValidateName(name, "--name");
        return this with { Name = name };
    }
}
