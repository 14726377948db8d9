using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FoldCluster.Core.Sweeps;

/// <summary>
/// Reads a sweep spec from YAML (schema: docs/sweep-spec.md) and validates every field.
/// Each error is a <see cref="BadInputException"/> naming the source, the field, the bad value and the allowed values.
/// </summary>
public static partial class SweepSpecParser
{
    private static readonly string[] TopLevelFields =
        ["name", "datasets", "methods", "modalities", "pretraining", "folds", "split", "seeds", "profile", "training", "exclusions", "max_attempts",
         "max_losses", "max_jobs", "store_features", "store_features_folds"];

    private static readonly string[] DatasetFields =
        ["name", "layout", "root", "word2vec", "extractor", "weights", "allow_random_weights", "options", "transcripts"];

    /// <summary>The longest spec text read (characters): a spec is a page of YAML, not a data file.</summary>
    public const int MaxSpecCharacters = 4 * 1024 * 1024;

    /// <summary>The deepest nesting of lists and mappings a spec may have (the schema needs 4).</summary>
    public const int MaxNesting = 16;

    /// <summary>The most exclusion entries a spec may have (each is checked against every job of the grid).</summary>
    public const int MaxExclusions = 1_000;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex NamePattern();

    public static SweepSpec ParseFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new BadInputException($"sweep spec file '{path}' does not exist");
        }
        var length = new FileInfo(path).Length;
        if (length > MaxSpecCharacters * 4L)
        {
            throw new BadInputException($"{path}: {length} bytes is too long for a sweep spec (at most {MaxSpecCharacters} characters)");
        }
        return Parse(File.ReadAllText(path), path);
    }

    /// <param name="source">Names the text in messages: a file path or "preset NAME".</param>
    public static SweepSpec Parse(string yaml, string source)
    {
        if (yaml.Length > MaxSpecCharacters)
        {
            throw new BadInputException($"{source}: {yaml.Length} characters is too long for a sweep spec (at most {MaxSpecCharacters})");
        }
        var stream = new YamlStream();
        try
        {
            CheckShape(yaml, source);
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new BadInputException(
                $"{source}: not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException
                                   && e.TargetSite?.DeclaringType?.Namespace?.StartsWith("YamlDotNet", StringComparison.Ordinal) == true)
        {
            // YamlDotNet gives up on some malformed text with these instead of a YamlException (found by fuzzing).
            throw new BadInputException($"{source}: not valid YAML ({e.Message})", e);
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new BadInputException($"{source}: expected one YAML mapping with the fields {string.Join(", ", TopLevelFields)}");
        }
        return new Reader(source).Spec(root);
    }

    /// <summary>
    /// A first pass over the YAML events, before any node is built: refuses nesting deeper than <see cref="MaxNesting"/>
    /// (building the node tree recurses once per level) and more than one document.
    /// </summary>
    private static void CheckShape(string yaml, string source)
    {
        var parser = new Parser(new StringReader(yaml));
        var depth = 0;
        var documents = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case YamlDotNet.Core.Events.DocumentStart:
                    if (++documents > 1)
                    {
                        throw new BadInputException($"{source}: holds more than one YAML document; expected one mapping with the fields {string.Join(", ", TopLevelFields)}");
                    }
                    break;
                case YamlDotNet.Core.Events.SequenceStart or YamlDotNet.Core.Events.MappingStart:
                    if (++depth > MaxNesting)
                    {
                        throw new BadInputException(
                            $"{source}: lists and mappings nested deeper than {MaxNesting} levels at line {parser.Current.Start.Line}; a sweep spec needs at most 4");
                    }
                    break;
                case YamlDotNet.Core.Events.SequenceEnd or YamlDotNet.Core.Events.MappingEnd:
                    depth--;
                    break;
            }
        }
    }

    internal static void ValidateName(string name, string field)
    {
        if (string.IsNullOrEmpty(name) || !NamePattern().IsMatch(name) || name.Length > 100)
        {
            throw new BadInputException(
                $"{field}: '{name}' is not a valid sweep name: expected lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (at most 100 characters)");
        }
    }

    private sealed class Reader(string source)
    {
        public SweepSpec Spec(YamlMappingNode root)
        {
            var fields = Fields(root, "", TopLevelFields);
            var name = RequiredScalar(fields, "name", "");
            if (!NamePattern().IsMatch(name) || name.Length > 100)
            {
                throw Error("name", fields["name"],
                    $"'{name}' is not a valid sweep name: expected lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (at most 100 characters)");
            }

            var datasets = RequiredSequence(fields, "datasets", "")
                .Select((node, i) => Dataset(node, $"datasets[{i}]"))
                .ToList();
            if (datasets.Count == 0)
            {
                throw Error("datasets", fields["datasets"], "is empty: name at least one dataset");
            }
            var duplicate = datasets.GroupBy(d => (d.Name, d.RecordedExtractor)).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
            {
                throw Error("datasets", fields["datasets"],
                    $"names dataset '{duplicate.Key.Name}' with extractor '{duplicate.Key.RecordedExtractor}' twice: each (name, extractor) must be unique");
            }

            var methods = Choices(fields, "methods", SweepSpec.AllowedMethods, required: true);
            var modalities = Values(fields, "modalities", required: true, (text, where, node) =>
            {
                try
                {
                    return ModalitySet.Parse(text).ToString();
                }
                catch (BadInputException)
                {
                    throw Error(where, node, $"'{text}' is not a modality set; allowed values: {string.Join(", ", ModalitySet.Allowed)}");
                }
            });
            if (methods.All(m => m == "none") && modalities.Any(m => m.Length > 1))
            {
                throw Error("methods", fields["methods"],
                    $"lists only 'none' but modality sets {string.Join(", ", modalities.Where(m => m.Length > 1))} need a fusion method; allowed values: {string.Join(", ", SweepSpec.AllowedMethods)}");
            }
            var pretraining = fields.ContainsKey("pretraining")
                ? Choices(fields, "pretraining", SweepSpec.AllowedPretraining, required: true).Select(p => p == "with").ToList()
                : [true];
            var folds = Folds(fields);
            var splits = fields.ContainsKey("split") ? Choices(fields, "split", SweepSpec.AllowedSplits, required: true) : ["utterance"];
            var seeds = fields.ContainsKey("seeds")
                ? Values(fields, "seeds", required: true, (text, where, node) => Integer(text, where, node, int.MinValue, int.MaxValue))
                : [1];
            var profile = fields.TryGetValue("profile", out var profileNode)
                ? Choice(Scalar(profileNode, "profile"), "profile", profileNode, SweepSpec.AllowedProfiles)
                : "paper";
            var training = fields.TryGetValue("training", out var trainingNode) ? StringMap(trainingNode, "training") : new SortedDictionary<string, string>(StringComparer.Ordinal);
            if (fields.TryGetValue("exclusions", out var listed) && listed is YamlSequenceNode { Children.Count: > MaxExclusions } tooMany)
            {
                throw Error("exclusions", listed, $"has {tooMany.Children.Count} entries; at most {MaxExclusions}");
            }
            var exclusions = fields.TryGetValue("exclusions", out var exclusionsNode)
                ? Sequence(exclusionsNode, "exclusions").Select((node, i) => Exclusion(node, $"exclusions[{i}]")).ToList()
                : [];
            var maxAttempts = fields.TryGetValue("max_attempts", out var attemptsNode)
                ? Integer(Scalar(attemptsNode, "max_attempts"), "max_attempts", attemptsNode, 1, 100)
                : SweepSpec.DefaultMaxAttempts;
            var maxLosses = fields.TryGetValue("max_losses", out var lossesNode)
                ? Integer(Scalar(lossesNode, "max_losses"), "max_losses", lossesNode, 1, 1000)
                : SweepSpec.DefaultMaxLosses;


            var maxJobs = fields.TryGetValue("max_jobs", out var maxJobsNode)
                ? Integer(Scalar(maxJobsNode, "max_jobs"), "max_jobs", maxJobsNode, 1, SweepSpec.MaxJobsLimit)
                : SweepSpec.DefaultMaxJobs;

            var storeFeatures = fields.TryGetValue("store_features", out var storeNode)
                ? FeatureKinds.ParseLevel(Choice(Scalar(storeNode, "store_features"), "store_features", storeNode, ["none", "fused", "all"]), "store_features")
                : StoredFeatureLevel.None;
            List<int> storeFolds = [];
            if (fields.TryGetValue("store_features_folds", out var storeFoldsNode))
            {
                storeFolds = Values(fields, "store_features_folds", required: true, (text, where, n) =>
                {
                    var fold = Integer(text, where, n, 0, SweepSpec.FoldCount - 1);
                    return folds.Contains(fold)
                        ? fold
                        : throw Error(where, n, $"'{text}' is not one of the sweep's folds ({string.Join(", ", folds)})");
                });
                if (storeFeatures == StoredFeatureLevel.None)
                {
                    throw Error("store_features_folds", storeFoldsNode, "is given but store_features is none: set store_features to fused or all");
                }
            }

            var spec = new SweepSpec(name, datasets, methods, modalities, pretraining, folds, splits, seeds, profile,
                training, exclusions, maxAttempts, maxLosses)
            {
                MaxJobs = maxJobs,
                StoreFeatures = storeFeatures,
                StoreFeaturesFolds = storeFolds,
            };
            // Before anything is expanded: the grid's size is a product of the list lengths.
            spec.CheckGridSize(source);
            if (spec.Expand().Count == 0)
            {
                throw new BadInputException($"{source}: the sweep has no jobs: its exclusions leave nothing of the grid");
            }
            return spec;
        }

        private DatasetSpec Dataset(YamlNode node, string at)
        {
            if (node is not YamlMappingNode mapping)
            {
                throw Error(at, node, $"must be a mapping with the fields {string.Join(", ", DatasetFields)}");
            }
            var fields = Fields(mapping, at + ".", DatasetFields);
            var name = RequiredScalar(fields, "name", at + ".");
            if (!NamePattern().IsMatch(name))
            {
                throw Error($"{at}.name", fields["name"], $"'{name}' is not a valid dataset name: expected lower-case letters, digits, '.', '_' or '-'");
            }
            var layout = Choice(RequiredScalar(fields, "layout", at + "."), $"{at}.layout", fields["layout"], SweepSpec.AllowedLayouts);
            var root = RequiredScalar(fields, "root", at + ".");
            var extractor = Choice(RequiredScalar(fields, "extractor", at + "."), $"{at}.extractor", fields["extractor"], SweepSpec.AllowedExtractors);
            var word2vec = OptionalScalar(fields, "word2vec", at + ".");
            var weights = OptionalScalar(fields, "weights", at + ".");
            var allowRandom = fields.TryGetValue("allow_random_weights", out var randomNode)
                && Boolean(Scalar(randomNode, $"{at}.allow_random_weights"), $"{at}.allow_random_weights", randomNode);
            if (weights is null && !allowRandom)
            {
                throw Error($"{at}.weights", mapping,
                    $"is missing: extractor '{extractor}' needs a weights file, unless allow_random_weights: true (then results record '{extractor}-random')");
            }
            var options = fields.TryGetValue("options", out var optionsNode)
                ? StringMap(optionsNode, $"{at}.options")
                : new SortedDictionary<string, string>(StringComparer.Ordinal);
            var transcripts = OptionalScalar(fields, "transcripts", at + ".");
            return new DatasetSpec(name, layout, root, word2vec, extractor, weights, allowRandom, options, transcripts);
        }

        private SweepExclusion Exclusion(YamlNode node, string at)
        {
            if (node is not YamlMappingNode mapping || mapping.Children.Count == 0)
            {
                throw Error(at, node, $"must be a mapping of one or more of {string.Join(", ", SweepSpec.ExclusionFields)} to a value or a list of values");
            }
            var fields = Fields(mapping, at + ".", SweepSpec.ExclusionFields);
            var result = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var (field, valueNode) in fields)
            {
                var where = $"{at}.{field}";
                var values = ScalarOrList(valueNode, where).Select(v => field switch
                {
                    "split" => Choice(v.Text, v.Where, v.Node, SweepSpec.AllowedSplits),
                    "method" => Choice(v.Text, v.Where, v.Node, SweepSpec.AllowedMethods),
                    "pretraining" => Choice(v.Text, v.Where, v.Node, SweepSpec.AllowedPretraining),
                    "layout" => Choice(v.Text, v.Where, v.Node, SweepSpec.AllowedLayouts),
                    "extractor" => v.Text.Trim().ToLowerInvariant(),
                    "modalities" => ModalityText(v.Text, v.Where, v.Node),
                    "fold" => Integer(v.Text, v.Where, v.Node, 0, SweepSpec.FoldCount - 1).ToString(CultureInfo.InvariantCulture),
                    "seed" => Integer(v.Text, v.Where, v.Node, int.MinValue, int.MaxValue).ToString(CultureInfo.InvariantCulture),
                    _ => v.Text.Trim(),
                }).ToList();
                result[field] = values;
            }
            return new SweepExclusion(result);
        }

        private string ModalityText(string text, string where, YamlNode node)
        {
            try
            {
                return ModalitySet.Parse(text).ToString();
            }
            catch (BadInputException)
            {
                throw Error(where, node, $"'{text}' is not a modality set; allowed values: {string.Join(", ", ModalitySet.Allowed)}");
            }
        }

        private List<int> Folds(Dictionary<string, YamlNode> fields)
        {
            if (!fields.TryGetValue("folds", out var node))
            {
                return [.. Enumerable.Range(0, SweepSpec.FoldCount)];
            }
            if (node is YamlScalarNode scalar && string.Equals(scalar.Value?.Trim(), "all", StringComparison.OrdinalIgnoreCase))
            {
                return [.. Enumerable.Range(0, SweepSpec.FoldCount)];
            }
            var folds = Values(fields, "folds", required: true, (text, where, n) =>
            {
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var fold) || fold is < 0 or >= SweepSpec.FoldCount)
                {
                    throw Error(where, n, $"'{text}' is not a fold; allowed values: \"all\" or integers 0 to {SweepSpec.FoldCount - 1}");
                }
                return fold;
            });
            return folds;
        }

        private Dictionary<string, YamlNode> Fields(YamlMappingNode mapping, string prefix, IReadOnlyList<string> allowed)
        {
            var fields = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var (keyNode, valueNode) in mapping.Children)
            {
                var key = (keyNode as YamlScalarNode)?.Value ?? "";
                if (!allowed.Contains(key))
                {
                    throw Error(prefix + key, keyNode, $"is not a known field; allowed fields: {string.Join(", ", allowed)}");
                }
                if (!fields.TryAdd(key, valueNode))
                {
                    throw Error(prefix + key, keyNode, "is given twice");
                }
            }
            return fields;
        }

        private string RequiredScalar(Dictionary<string, YamlNode> fields, string field, string prefix)
        {
            if (!fields.TryGetValue(field, out var node))
            {
                throw new BadInputException($"{source}: field '{prefix}{field}' is missing");
            }
            var value = Scalar(node, prefix + field);
            if (string.IsNullOrWhiteSpace(value))
            {
                throw Error(prefix + field, node, "is empty");
            }
            return value.Trim();
        }

        private string? OptionalScalar(Dictionary<string, YamlNode> fields, string field, string prefix)
        {
            if (!fields.TryGetValue(field, out var node))
            {
                return null;
            }
            var value = Scalar(node, prefix + field);
            return string.IsNullOrWhiteSpace(value) || IsNull(node) ? null : value.Trim();
        }

        private static bool IsNull(YamlNode node) =>
            node is YamlScalarNode { Style: not ScalarStyle.SingleQuoted and not ScalarStyle.DoubleQuoted } s
            && s.Value is "~" or "null" or "Null" or "NULL" or "";

        private string Scalar(YamlNode node, string where) => node is YamlScalarNode scalar
            ? scalar.Value ?? ""
            : throw Error(where, node, "must be a single value, not a list or a mapping");

        private IEnumerable<YamlNode> RequiredSequence(Dictionary<string, YamlNode> fields, string field, string prefix)
        {
            if (!fields.TryGetValue(field, out var node))
            {
                throw new BadInputException($"{source}: field '{prefix}{field}' is missing");
            }
            return Sequence(node, prefix + field);
        }

        private IEnumerable<YamlNode> Sequence(YamlNode node, string where) => node is YamlSequenceNode sequence
            ? sequence.Children
            : throw Error(where, node, "must be a list");

        private IEnumerable<(string Text, string Where, YamlNode Node)> ScalarOrList(YamlNode node, string where)
        {
            if (node is YamlScalarNode scalar)
            {
                return [(scalar.Value ?? "", where, node)];
            }
            if (node is YamlSequenceNode sequence)
            {
                return sequence.Children.Select((child, i) => (Scalar(child, $"{where}[{i}]"), $"{where}[{i}]", child));
            }
            throw Error(where, node, "must be a value or a list of values");
        }

        /// <summary>A field holding one value or a list; the result keeps the order given and drops repeats.</summary>
        private List<T> Values<T>(Dictionary<string, YamlNode> fields, string field, bool required, Func<string, string, YamlNode, T> convert)
        {
            if (!fields.TryGetValue(field, out var node))
            {
                if (required)
                {
                    throw new BadInputException($"{source}: field '{field}' is missing");
                }
                return [];
            }
            var values = ScalarOrList(node, field).Select(v => convert(v.Text.Trim(), v.Where, v.Node)).Distinct().ToList();
            if (values.Count == 0)
            {
                throw Error(field, node, "is empty: give at least one value");
            }
            return values;
        }

        private List<string> Choices(Dictionary<string, YamlNode> fields, string field, IReadOnlyList<string> allowed, bool required) =>
            Values(fields, field, required, (text, where, node) => Choice(text, where, node, allowed));

        private string Choice(string text, string where, YamlNode node, IReadOnlyList<string> allowed)
        {
            var value = text.Trim().ToLowerInvariant();
            return allowed.Contains(value)
                ? value
                : throw Error(where, node, $"'{text}' is not allowed; allowed values: {string.Join(", ", allowed)}");
        }

        private int Integer(string text, string where, YamlNode node, int min, int max)
        {
            if (!int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                var range = min == int.MinValue ? "an integer" : $"an integer from {min} to {max}";
                throw Error(where, node, $"'{text}' is not {range}");
            }
            return value;
        }

        private bool Boolean(string text, string where, YamlNode node) => text.Trim().ToLowerInvariant() switch
        {
            "true" or "yes" => true,
            "false" or "no" => false,
            _ => throw Error(where, node, $"'{text}' is not allowed; allowed values: true, false"),
        };

        private SortedDictionary<string, string> StringMap(YamlNode node, string where)
        {
            if (node is not YamlMappingNode mapping)
            {
                throw Error(where, node, "must be a mapping of names to single values");
            }
            var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (keyNode, valueNode) in mapping.Children)
            {
                var key = ((keyNode as YamlScalarNode)?.Value ?? "").Trim();
                if (key.Length == 0)
                {
                    throw Error(where, keyNode, "has an empty name");
                }
                if (!map.TryAdd(key, Scalar(valueNode, $"{where}.{key}").Trim()))
                {
                    throw Error($"{where}.{key}", keyNode, "is given twice");
                }
            }
            return map;
        }

        private BadInputException Error(string field, YamlNode node, string problem) =>
            new($"{source}: field '{field}' (line {node.Start.Line}) {problem}");
    }
}
