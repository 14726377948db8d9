using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Model;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Model;

public sealed class ModelDescribeSettings : ModelChoiceSettings
{
    [CommandOption("--video-width <W>")]
    [Description("Features per video frame: 2048 (ResNet-50) or 4096 (VGG-Face).")]
    [DefaultValue(2048)]
    public int VideoWidth { get; init; } = 2048;

    [CommandOption("--depth <N>")]
    [Description("Levels of the module tree to print (1 = the top-level parts).")]
    [DefaultValue(3)]
    public int Depth { get; init; } = 3;

    [CommandOption("--json")]
    [Description("Print the card as one JSON document on stdout.")]
    public bool Json { get; init; }
}

/// <summary>`foldcluster model describe`: the model card of one (method, modalities, profile).</summary>
public sealed class ModelDescribeCommand : Command<ModelDescribeSettings>
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public override int Execute(CommandContext context, ModelDescribeSettings settings, CancellationToken cancellationToken)
    {
        var overrides = settings.Overrides();
        var profile = TrainingProfile.Get(settings.Profile).WithOverrides(overrides);
        var modalities = ModalitySet.Parse(settings.Modalities);
        EmotionModel.CheckMethod(settings.Method, modalities);
        var card = ModelCard.Describe(settings.Method, modalities, profile, settings.VideoWidth, settings.Depth);
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(ToJson(card), JsonOptions));
        }
        else
        {
            WriteText(card);
        }
        return ExitCodes.Success;
    }

    private static Dictionary<string, object?> ToJson(ModelCard card) => new()
    {
        ["method"] = card.Method,
        ["modalities"] = card.Modalities,
        ["profile"] = card.Profile,
        ["video_width"] = card.VideoWidth,
        ["parameters"] = card.Parameters,
        ["forward_flops"] = card.ForwardFlops,
        ["reconstruction_forward_flops"] = card.ReconstructionForwardFlops,
        ["optimizer"] = new Dictionary<string, object>
        {
            ["name"] = card.Optimizer.Name,
            ["lr"] = card.Optimizer.LearningRate,
            ["betas"] = new[] { card.Optimizer.Beta1, card.Optimizer.Beta2 },
            ["eps"] = card.Optimizer.Eps,
            ["weight_decay"] = card.Optimizer.WeightDecay,
        },
        ["initialization"] = card.Initialisation.Select(i => new Dictionary<string, string> { ["layer"] = i.Layer, ["scheme"] = i.Scheme }).ToList(),
        ["parts"] = card.Parts.Select(Part).ToList(),
    };

    private static Dictionary<string, object?> Part(ModelCardPart part)
    {
        var json = new Dictionary<string, object?>
        {
            ["name"] = part.Name,
            ["kind"] = part.Kind,
            ["parameters"] = part.Parameters,
            ["flops"] = part.Flops,
        };
        if (part.Reference is { } reference)
        {
            json["reference"] = new Dictionary<string, string>
            {
                ["title"] = reference.Title,
                ["repository"] = reference.Repository,
                ["file"] = reference.File,
            };
            json["differences"] = part.Differences ?? [];
        }
        if (part.Children.Count > 0)
        {
            json["children"] = part.Children.Select(Part).ToList();
        }
        return json;
    }

    private static void WriteText(ModelCard card)
    {
        var o = Console.Out;
        o.WriteLine(Invariant($"model card: method {card.Method}, modalities {card.Modalities}, profile {card.Profile}, video width {card.VideoWidth}"));
        o.WriteLine(Invariant($"parameters {card.Parameters:N0}; forward FLOPs per sample {card.ForwardFlops:N0} (stage 2: encoders, fusion, classifier), {card.ReconstructionForwardFlops:N0} (stage 1: encoders, fusion, decoders)"));
        o.WriteLine();
        var opt = card.Optimizer;
        o.WriteLine(Invariant($"optimizer: {opt.Name}  lr {opt.LearningRate:0.###e0}  betas ({opt.Beta1:G}, {opt.Beta2:G})  eps {opt.Eps:0.###e0}  weight_decay {opt.WeightDecay:0.###e0}"));
        o.WriteLine();
        o.WriteLine(Invariant($"{"part",-48} {"kind",-30} {"parameters",14} {"forward FLOPs",16}"));
        foreach (var part in card.Parts)
        {
            WriteTree(part, 0);
        }
        o.WriteLine();
        o.WriteLine("initialisation:");
        foreach (var (layer, scheme) in card.Initialisation)
        {
            o.WriteLine($"  {layer}: {scheme}");
        }
        foreach (var part in card.Parts.Where(p => p.Reference is not null))
        {
            var r = part.Reference!;
            o.WriteLine();
            o.WriteLine($"reference of {part.Name}: {r.Title}");
            if (r.Repository.Length > 0)
            {
                o.WriteLine($"  repository {r.Repository}; files {r.File}");
            }
            o.WriteLine("differences from it:");
            foreach (var d in part.Differences ?? [])
            {
                o.WriteLine($"  - {d}");
            }
        }
    }

    private static void WriteTree(ModelCardPart part, int level)
    {
        var name = new string(' ', 2 * level) + part.Name;
        var flops = part.Flops is { } f ? f.ToString("N0", CultureInfo.InvariantCulture) : "";
        Console.Out.WriteLine(Invariant($"{name,-48} {part.Kind,-30} {part.Parameters,14:N0} {flops,16}"));
        foreach (var child in part.Children)
        {
            WriteTree(child, level + 1);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
