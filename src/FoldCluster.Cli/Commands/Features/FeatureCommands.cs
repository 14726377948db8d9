using FoldCluster.Cli.Commands.Features;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

/// <summary>Registers this area's verbs: `corpus inspect|synth`, `features show|extract` and `bench features`.</summary>
public static class FeatureCommands
{
    public static void Register(IConfigurator config)
    {
        config.AddBranch("corpus", corpus =>
        {
            corpus.SetDescription("Inspect a corpus (IEMOCAP, MSP-IMPROV) or generate one in the same layout.");
            corpus.AddCommand<CorpusInspectCommand>("inspect")
                .WithDescription("Count utterances, labels, speakers, excluded labels, missing files and unparsable lines.")
                .WithExample("corpus", "inspect", "--layout", "iemocap", "--root", "IEMOCAP_full_release", "--json");
            corpus.AddCommand<CorpusSynthCommand>("synth")
                .WithDescription("Write a generated corpus (WAV, labels, transcripts, ffmpeg video, Word2Vec) in a real layout.")
                .WithExample("corpus", "synth", "--layout", "iemocap", "--out", "demo-corpus", "--utterances", "300");
        });
        config.AddBranch("features", features =>
        {
            features.SetDescription("Show the audio features of one WAV file, or extract and cache a dataset's features.");
            features.AddCommand<FeaturesShowCommand>("show")
                .WithDescription("Log-Mel with deltas [3][64][T] and its LTPP [3][64][128] for one WAV file.")
                .WithExample("features", "show", "--wav", "utterance.wav", "--json");
            features.AddCommand<FeaturesExtractCommand>("extract")
                .WithDescription("Extract (or find in the cache) audio, video and text features of a corpus.")
                .WithExample("features", "extract", "--layout", "iemocap", "--root", "IEMOCAP_full_release", "--cache", "cache",
                    "--weights", "resnet50.pth", "--word2vec", "GoogleNews-vectors-negative300.bin");
        });
    }

    public static void RegisterBench(IConfigurator<CommandSettings> bench)
    {
        bench.AddCommand<BenchFeaturesCommand>("features")
            .WithDescription("Log-Mel + deltas real-time factor on one core; ResNet-50 frames per second at 224 and 112 pixels.");
    }
}
