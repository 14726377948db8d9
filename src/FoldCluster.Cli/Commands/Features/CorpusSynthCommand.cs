using System.ComponentModel;
using System.Diagnostics;
using FoldCluster.Features;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Features;

public sealed class CorpusSynthSettings : CommandSettings
{
    [CommandOption("--layout <LAYOUT>")]
    [Description("iemocap or msp-improv")]
    public string Layout { get; init; } = "";

    [CommandOption("--out <DIR>")]
    [Description("New (or empty) folder to write the corpus to")]
    public string Out { get; init; } = "";

    [CommandOption("--speakers <N>")]
    [Description("Even number of actors (IEMOCAP 2-10, default 10; MSP-IMPROV 2-12, default 12)")]
    public int? Speakers { get; init; }

    [CommandOption("--utterances <N>")]
    [Description("Labelled entries to generate (default 300; about 8% get labels outside the four classes)")]
    public int Utterances { get; init; } = 300;

    [CommandOption("--seed <S>")]
    [Description("Seed; the same arguments give the same corpus (default 1)")]
    public int Seed { get; init; } = 1;
}

/// <summary>`foldcluster corpus synth`: a generated corpus for the demo and the tests.</summary>
public sealed class CorpusSynthCommand : Command<CorpusSynthSettings>
{
    public override int Execute(CommandContext context, CorpusSynthSettings settings, CancellationToken cancellationToken)
    {
        FeatureCliSupport.Require(settings.Layout, "--layout");
        FeatureCliSupport.Require(settings.Out, "--out");
        var clock = Stopwatch.StartNew();
        var speakers = settings.Speakers ?? SyntheticCorpus.DefaultSpeakers(settings.Layout);
        var progress = new Progress<string>(m => Console.Error.WriteLine(m));
        var summary = SyntheticCorpus.Write(settings.Layout, settings.Out, speakers, settings.Utterances, settings.Seed, progress);
        Console.Error.WriteLine(
            $"wrote {summary.Layout} corpus to {summary.Root}: {summary.Utterances} labelled entries ({summary.FourClass} in the four classes), " +
            $"{summary.Speakers} speakers, seed {summary.Seed}, Word2Vec {summary.Word2VecPath}, {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }
}
