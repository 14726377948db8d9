using FoldCluster.Core;
using FoldCluster.Core.Sweeps;
using FoldCluster.Storage.Jobs;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Cli.Tests;

public sealed class AnalysisFiguresTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("foldcluster-figures-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    private static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * random.NextDouble());
    }

    /// <summary>Stored vectors whose classes are separated, 60 test utterances per job, every kind of level all.</summary>
    private static TrainingOutcome Outcome(int seed)
    {
        var random = new Random(seed);
        var predictions = Enumerable.Range(0, 60).Select(i => new UtterancePrediction($"utt{i:D3}", (Emotion)(i % 4), (Emotion)(i % 4))).ToList();
        var widths = new Dictionary<string, int>
        {
            [FeatureKinds.FusedStage1] = 30, [FeatureKinds.FusedStage2] = 30,
            ["input.audio"] = 12, ["input.video"] = 20, ["input.text"] = 16,
            ["encoded.audio"] = 30, ["encoded.video"] = 30, ["encoded.text"] = 30,
        };
        var features = new List<FeatureVector>();
        foreach (var p in predictions)
        {
            var shared = Gaussian(random);
            foreach (var (kind, width) in widths)
            {
                features.Add(new FeatureVector(p.UtteranceId, kind, Enumerable.Range(0, width)
                    .Select(f => (float)((f % 4 == (int)p.True ? 6.0 : 0.0) + (f == 0 ? 3 * shared : 0) + Gaussian(random))).ToArray()));
            }
        }
        int[][] confusion = [[15, 0, 0, 0], [0, 15, 0, 0], [0, 0, 15, 0], [0, 0, 0, 15]];
        return new TrainingOutcome(new ClassificationMetrics(1, 1, 1, 1, confusion), 1, 1.0, predictions, []) { Features = features };
    }

    [Fact]
    public async Task Tables_figures_draws_fig5_to_fig9_with_csvs_from_stored_vectors()
    {
        await using var db = await TestDatabase.CreateAsync();
        var spec = SweepSpecParser.Parse("""
            name: figures
            datasets:
              - {name: generated, layout: iemocap, root: generated-corpus, extractor: resnet50, allow_random_weights: true}
            methods: [concat, cmha]
            modalities: [AVT]
            folds: [0, 1]
            profile: tiny
            store_features: all
            """, "test spec");
        await new SweepStore(db.DataSource).SubmitAsync(spec, "test");
        var jobs = new JobStore(db.DataSource);
        for (var i = 0; i < 4; i++)
        {
            var job = (await jobs.ClaimNextAsync("node-a", "cpu:0", TimeSpan.FromMinutes(5), default))!;
            var outcome = job.TrainingOverrides.ContainsKey(FeatureKinds.OverrideKey) ? Outcome(i) : Outcome(i) with { Features = [] };
            Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(job.JobId, job.Attempt, outcome, default));
        }

        var result = await CliProcess.RunAsync(["tables", "--sweep", "figures", "--out", _out, "--figures", "--db", db.ConnectionString], timeout: TimeSpan.FromMinutes(10));

        Assert.True(result.ExitCode == 0, result.StandardError);
        string[] expected =
        [
            "fig5-generated-concat", "fig5-generated-cmha",
            "fig7-generated-original", "fig7-generated-stage1", "fig7-generated-stage2",
            "fig8-generated-video-text", "fig8-generated-audio-text", "fig8-generated-audio-video",
            "fig9-generated-audio", "fig9-generated-video", "fig9-generated-text",
        ];
        foreach (var name in expected)
        {
            var png = await File.ReadAllBytesAsync(Path.Combine(_out, name + ".png"));
            Assert.Equal([0x89, 0x50, 0x4E, 0x47], png.Take(4));
            Assert.True(File.Exists(Path.Combine(_out, name + ".csv")), name + ".csv");
        }
        var tsne = File.ReadAllLines(Path.Combine(_out, "fig5-generated-cmha.csv"));
        Assert.Equal("utterance_id,true_class,tsne_1,tsne_2", tsne[0]);
        Assert.Equal(61, tsne.Length);
        var mine = File.ReadAllLines(Path.Combine(_out, "fig8-generated-audio-text.csv"));
        Assert.Equal("step,original_mi_nats,original_smoothed,transformed_mi_nats,transformed_smoothed", mine[0]);
        Assert.Equal(1501, mine.Length);
        var dcca = File.ReadAllLines(Path.Combine(_out, "fig9-generated-text.csv"));
        Assert.Equal(1 + 2 * 100, dcca.Length);
        Assert.Equal(["cmha", "concat"], dcca.Skip(1).Select(l => l.Split(',')[0]).Distinct().Order());
    }
}
