using System.Globalization;
using System.Text;

namespace FoldCluster.Core.Sweeps;

/// <summary>
/// Writes the normalised form of a spec: fixed field order, every default spelled out, maps sorted,
/// strings double-quoted. Two specs that mean the same sweep give the same text, hence the same hash;
/// the text parses back to an equal spec.
/// </summary>
internal static class SweepSpecWriter
{
    public static string Write(SweepSpec spec)
    {
        var yaml = new StringBuilder();
        yaml.Append("name: ").Append(Quote(spec.Name)).Append('\n');
        yaml.Append("datasets:\n");
        foreach (var d in spec.Datasets)
        {
            yaml.Append("  - name: ").Append(Quote(d.Name)).Append('\n');
            yaml.Append("    layout: ").Append(Quote(d.Layout)).Append('\n');
            yaml.Append("    root: ").Append(Quote(d.Root)).Append('\n');
            if (d.Word2Vec is not null)
            {
                yaml.Append("    word2vec: ").Append(Quote(d.Word2Vec)).Append('\n');
            }
            yaml.Append("    extractor: ").Append(Quote(d.Extractor)).Append('\n');
            if (d.Weights is not null)
            {
                yaml.Append("    weights: ").Append(Quote(d.Weights)).Append('\n');
            }
            yaml.Append("    allow_random_weights: ").Append(d.AllowRandomWeights ? "true" : "false").Append('\n');
            yaml.Append("    options: ").Append(Map(d.Options)).Append('\n');
            if (d.Transcripts is not null)
            {
                // Written only when set, so specs without it keep their stored text and hash.
                yaml.Append("    transcripts: ").Append(Quote(d.Transcripts)).Append('\n');
            }
        }
        yaml.Append("methods: ").Append(List(spec.Methods.Select(Quote))).Append('\n');
        yaml.Append("modalities: ").Append(List(spec.Modalities.Select(Quote))).Append('\n');
        yaml.Append("pretraining: ").Append(List(spec.Pretraining.Select(p => Quote(p ? "with" : "np")))).Append('\n');
        yaml.Append("folds: ").Append(List(spec.Folds.Select(Number))).Append('\n');
        yaml.Append("split: ").Append(List(spec.Splits.Select(Quote))).Append('\n');
        yaml.Append("seeds: ").Append(List(spec.Seeds.Select(Number))).Append('\n');
        yaml.Append("profile: ").Append(Quote(spec.Profile)).Append('\n');
        yaml.Append("training: ").Append(Map(spec.Training)).Append('\n');
        yaml.Append("exclusions:");
        if (spec.Exclusions.Count == 0)
        {
            yaml.Append(" []");
        }
        yaml.Append('\n');
        foreach (var exclusion in spec.Exclusions)
        {
            var fields = exclusion.Fields.OrderBy(f => f.Key, StringComparer.Ordinal)
                .Select(f => $"{f.Key}: {List(f.Value.Select(Quote))}");
            yaml.Append("  - {").Append(string.Join(", ", fields)).Append("}\n");
        }
        yaml.Append("max_attempts: ").Append(Number(spec.MaxAttempts)).Append('\n');
        if (spec.MaxLosses != SweepSpec.DefaultMaxLosses)
        {
            // Written only when set, so sweeps submitted before the field existed keep their normalised text and hash.
            yaml.Append("max_losses: ").Append(Number(spec.MaxLosses)).Append('\n');
        }
        if (spec.MaxJobs != SweepSpec.DefaultMaxJobs)
        {
            // Only when not the default, so that the stored text and hash of existing sweeps stay the same.
            yaml.Append("max_jobs: ").Append(Number(spec.MaxJobs)).Append('\n');
        }
        // Written only when asked for, so that the normalised text (and hash) of sweeps without it is unchanged.
        if (spec.StoreFeatures != StoredFeatureLevel.None)
        {
            yaml.Append("store_features: ").Append(Quote(FeatureKinds.Name(spec.StoreFeatures))).Append('\n');
            yaml.Append("store_features_folds: ").Append(List(spec.FoldsStoringFeatures.Select(Number))).Append('\n');
        }
        return yaml.ToString();
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string List(IEnumerable<string> items) => "[" + string.Join(", ", items) + "]";

    private static string Map(IReadOnlyDictionary<string, string> map) =>
        "{" + string.Join(", ", map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{Quote(kv.Key)}: {Quote(kv.Value)}")) + "}";

    /// <summary>A YAML double-quoted scalar.</summary>
    private static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': quoted.Append("\\\""); break;
                case '\\': quoted.Append("\\\\"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\t': quoted.Append("\\t"); break;
                case '\r': quoted.Append("\\r"); break;
                default:
                    if (char.IsControl(c))
                    {
                        quoted.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        quoted.Append(c);
                    }
                    break;
            }
        }
        return quoted.Append('"').ToString();
    }
}
