using FoldCluster.Core.Sweeps;

namespace FoldCluster.Core.Tests.Sweeps;

/// <summary>A sweep's utterance set per dataset, and the transcripts field of a dataset.</summary>
public sealed class UtteranceSetSpecTests
{
    private const string TwoDatasets = """
        name: sets
        datasets:
          - name: iemocap
            layout: iemocap
            root: iemocap
            extractor: resnet50
            allow_random_weights: true
          - name: msp
            layout: msp-improv
            root: msp-improv
            extractor: resnet50
            allow_random_weights: true
            transcripts: msp-improv/words.tsv
        methods: [concat]
        modalities: [A, AT, AVT]
        exclusions:
          - {dataset: msp, modalities: [AVT]}
        """;

    [Fact]
    public void The_utterance_set_of_a_dataset_needs_every_modality_of_its_jobs_and_travels_with_each_job()
    {
        var spec = SweepSpecParser.Parse(TwoDatasets, "sets.yaml");
        Assert.Equal("AVT", spec.UtteranceSetFor(spec.Datasets[0]).ToString());
        // The exclusion leaves MSP-IMPROV with A and A+T jobs only: its set does not need video.
        Assert.Equal("AT", spec.UtteranceSetFor(spec.Datasets[1]).ToString());
        Assert.Equal("AVT", spec.OverridesFor(spec.Datasets[0])[SweepSpec.UtteranceSetKey]);
        Assert.Equal("AT", spec.OverridesFor(spec.Datasets[1])[SweepSpec.UtteranceSetKey]);
        Assert.Equal("utterances.modalities", SweepSpec.UtteranceSetKey);
    }

    [Fact]
    public void Transcripts_are_parsed_written_and_resolved_and_absent_ones_keep_the_stored_text()
    {
        var spec = SweepSpecParser.Parse(TwoDatasets, "sets.yaml");
        Assert.Null(spec.Datasets[0].Transcripts);
        Assert.Equal("msp-improv/words.tsv", spec.Datasets[1].Transcripts);
        Assert.Equal("msp-improv/words.tsv", spec.Datasets[1].ToSource().TranscriptsPath);
        var yaml = spec.ToYaml();
        Assert.Single(yaml.Split('\n'), l => l.TrimStart().StartsWith("transcripts:", StringComparison.Ordinal));
        Assert.Equal(spec.Hash(), SweepSpecParser.Parse(yaml, "stored").Hash());

        var resolved = SweepPaths.Resolve(spec, "/data");
        Assert.Equal("/data/msp-improv/words.tsv", resolved.Datasets[1].Transcripts);
        Assert.Equal("/mnt/node/msp-improv/words.tsv", SweepPaths.Resolve(spec.Datasets[1].ToSource(), "/mnt/node").TranscriptsPath);

        var without = SweepSpecParser.Parse(TwoDatasets.Replace("    transcripts: msp-improv/words.tsv\n", "", StringComparison.Ordinal), "sets.yaml");
        Assert.DoesNotContain("transcripts", without.ToYaml(), StringComparison.Ordinal);
    }
}
