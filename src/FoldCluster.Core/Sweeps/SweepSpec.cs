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
    IReadOnlyDictionary<string, string> Options)
{
    /// <summary>
    /// The extractor name recorded in job keys and results: random weights say so (DESIGN.md 4.3),
    /// so a result computed without pretrained frame weights can never pass for one with them.
    /// </summary>
    public string RecordedExtractor => AllowRandomWeights && Weights is null ? Extractor + "-random" : Extractor;

    /// <summary>What a worker slot receives; relative paths are resolved on the worker (see <see cref="SweepPaths"/>).</summary>
    public DatasetSource ToSource() => new(Name, Layout, Root, Word2Vec, Extractor, Weights, AllowRandomWeights);
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

    public static readonly IReadOnlyList<string> AllowedLayouts = ["iemocap", "msp-improv"];
    public static readonly IReadOnlyList<string> AllowedExtractors = ["resnet50", "vggface"];
    public static readonly IReadOnlyList<string> AllowedMethods = ["concat", "tfn", "mult", "cmha", "none"];
    public static readonly IReadOnlyList<string> AllowedPretraining = ["with", "np"];
    public static readonly IReadOnlyList<string> AllowedSplits = ["utterance", "speaker"];
    public static readonly IReadOnlyList<string> AllowedProfiles = ["paper", "tiny"];
    public static readonly IReadOnlyList<string> ExclusionFields =
        ["dataset", "layout", "split", "fold", "method", "modalities", "pretraining", "extractor", "seed"];

    /// <summary>Prefix under which a dataset's free extraction options travel in a job's override map.</summary>
    public const string FeatureOptionPrefix = "features.";

    /// <summary>
    /// Every job of the sweep, in claim order: dataset, split, seed, method, modality set, pre-training, fold
    /// (folds innermost so a table cell's ten folds are handed out together).
    /// A single modality has nothing to fuse: A, V and T always run with method "none", whatever the methods list says.
    /// </summary>
    public IReadOnlyList<JobKey> Expand()
    {
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
    /// What a job's trainer receives besides the dataset: the training overrides as written, plus the
    /// dataset's free extraction options under "features." (e.g. features.frame_size = 112).
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
