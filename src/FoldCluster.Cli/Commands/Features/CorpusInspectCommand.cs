using System.ComponentModel;
using System.Text.Json;
using FoldCluster.Features.Corpus;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Features;

public sealed class CorpusInspectSettings : CommandSettings
{
    [CommandOption("--layout <LAYOUT>")]
    [Description("iemocap or msp-improv")]
    public string Layout { get; init; } = "";

    [CommandOption("--root <DIR>")]
    [Description("Corpus root (IEMOCAP_full_release, or the MSP-IMPROV folder)")]
    public string Root { get; init; } = "";

    [CommandOption("--transcripts <FILE>")]
    [Description("Transcripts to use: one \"utterance-id<TAB>text\" line per utterance (MSP-IMPROV releases without per-clip .txt files)")]
    public string? Transcripts { get; init; }

    [CommandOption("--json")]
    [Description("Print one JSON object on stdout")]
    public bool Json { get; init; }
}

/// <summary>`foldcluster corpus inspect`: what the readers find, as the extraction will see it.</summary>
public sealed class CorpusInspectCommand : Command<CorpusInspectSettings>
{
    public override int Execute(CommandContext context, CorpusInspectSettings settings, CancellationToken cancellationToken)
    {
        FeatureCliSupport.Require(settings.Layout, "--layout");
        FeatureCliSupport.Require(settings.Root, "--root");
        var index = CorpusReader.Read(settings.Layout, settings.Root, settings.Transcripts);
        var problems = index.Problems.Concat(index.MissingInputs()).ToList();
        if (settings.Json)
        {
            var json = new Dictionary<string, object>
            {
                ["layout"] = index.Layout,
                ["root"] = index.Root,
                ["utterances"] = index.Utterances.Count,
                ["entries"] = index.Entries.Count,
                ["by_label"] = index.ByLabel,
                ["by_speaker"] = index.BySpeaker,
                ["excluded"] = index.Excluded,
                ["modalities"] = new Dictionary<string, int>
                {
                    ["audio"] = index.Modalities.Audio,
                    ["video"] = index.Modalities.Video,
                    ["text"] = index.Modalities.Text,
                },
                ["missing"] = new Dictionary<string, int>
                {
                    ["audio"] = index.Missing.Audio,
                    ["video"] = index.Missing.Video,
                    ["transcript"] = index.Missing.Transcript,
                },
                ["problems"] = problems.Select(p => new Dictionary<string, object> { ["file"] = p.File, ["line"] = p.Line, ["message"] = p.Message }).ToList(),
            };
            Console.Out.WriteLine(JsonSerializer.Serialize(json));
            return 0;
        }
        var err = Console.Out; // the human-readable result; --json gives the same as one object
        err.WriteLine($"{index.Layout} corpus at {index.Root}");
        err.WriteLine($"utterances (4 classes): {index.Utterances.Count} of {index.Entries.Count} labelled entries");
        err.WriteLine($"with each input: {index.Modalities}; with all three: {index.Having(CorpusIndex.AllInputs).Count}");
        err.WriteLine("by label: " + string.Join(", ", index.ByLabel.Select(kv => $"{kv.Key} {kv.Value}")));
        err.WriteLine("by speaker: " + string.Join(", ", index.BySpeaker.Select(kv => $"{kv.Key} {kv.Value}")));
        err.WriteLine("excluded: " + (index.Excluded.Count == 0 ? "none" : string.Join(", ", index.Excluded.Select(kv => $"{kv.Key} {kv.Value}"))));
        err.WriteLine($"missing: audio {index.Missing.Audio}, video {index.Missing.Video}, transcript {index.Missing.Transcript}");
        err.WriteLine($"problems: {problems.Count}");
        foreach (var p in problems.Take(20))
        {
            err.WriteLine($"  {p}");
        }
        if (problems.Count > 20)
        {
            err.WriteLine($"  ... {problems.Count - 20} more (use --json for all)");
        }
        return 0;
    }
}
