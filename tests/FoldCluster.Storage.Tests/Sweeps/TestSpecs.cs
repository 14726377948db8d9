using FoldCluster.Core.Sweeps;

namespace FoldCluster.Storage.Tests;

/// <summary>Small specs for storage tests: one generated dataset, CMHA, A+V+T, N folds x seeds.</summary>
internal static class TestSpecs
{
    public static SweepSpec Small(string name = "test-sweep", int folds = 2, int seeds = 1, int maxAttempts = 3, string frameSize = "112", int maxLosses = SweepSpec.DefaultMaxLosses) =>
        SweepSpecParser.Parse($"""
            name: {name}
            datasets:
              - name: generated
                layout: iemocap
                root: generated-corpus
                extractor: resnet50
                allow_random_weights: true
                options: {"{"}frame_size: {frameSize}{"}"}
            methods: [cmha]
            modalities: [AVT]
            folds: [{string.Join(", ", Enumerable.Range(0, folds))}]
            seeds: [{string.Join(", ", Enumerable.Range(1, seeds))}]
            profile: tiny
            training: {"{"}stage1_epochs: 2{"}"}
            max_attempts: {maxAttempts}
            max_losses: {maxLosses}
            """, "test spec");
}
