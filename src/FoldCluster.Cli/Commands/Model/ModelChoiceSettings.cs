using System.ComponentModel;
using FoldCluster.Core;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Model;

/// <summary>The options that choose a model: fusion method, modalities, training profile and its overrides.</summary>
public abstract class ModelChoiceSettings : CommandSettings
{
    [CommandOption("--method <METHOD>")]
    [Description("Fusion method: concat, tfn, mult, cmha; none for a single modality.")]
    [DefaultValue("cmha")]
    public string Method { get; init; } = "cmha";

    [CommandOption("--modalities <SET>")]
    [Description("A, V, T, AV, AT, VT or AVT.")]
    [DefaultValue("AVT")]
    public string Modalities { get; init; } = "AVT";

    [CommandOption("--profile <NAME>")]
    [Description("Training profile: paper or tiny.")]
    [DefaultValue("paper")]
    public string Profile { get; init; } = "paper";

    [CommandOption("--set <KEY=VALUE>")]
    [Description("Override a profile setting (repeatable): epochs_stage1, epochs_stage2, batch_size, lr, weight_decay, dropout, latent, heads, patience, ...")]
    public string[] Set { get; init; } = [];

    /// <summary>Parses the repeated --set KEY=VALUE options.</summary>
    public IReadOnlyDictionary<string, string> Overrides()
    {
        var overrides = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in Set)
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new BadInputException($"--set '{item}' is not valid: expected KEY=VALUE");
            }
            overrides[item[..eq].Trim()] = item[(eq + 1)..].Trim();
        }
        return overrides;
    }
}
