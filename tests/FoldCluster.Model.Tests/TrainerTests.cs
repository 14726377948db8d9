using FoldCluster.Core;
using FoldCluster.Model.Training;

namespace FoldCluster.Model.Tests;

public class TrainerTests
{
    [Fact]
    public void NP_skips_stage_one()
    {
        var seen = new List<EpochReport>();
        var outcome = ModelTrainer.Train(TestData.SmallSet, TestData.Key(pretrained: false), TestData.Quick, "cpu", seen.Add, CancellationToken.None);
        Assert.DoesNotContain(seen, e => e.Stage == 1);
        Assert.DoesNotContain(outcome.Epochs, e => e.Stage == 1);
        Assert.Equal(2, outcome.Epochs.Count(e => e.Stage == 2));

        var pretrained = ModelTrainer.Train(TestData.SmallSet, TestData.Key(pretrained: true), TestData.Quick, "cpu", null, CancellationToken.None);
        Assert.Equal(1, pretrained.Epochs.Count(e => e.Stage == 1));
        Assert.Null(pretrained.Epochs.First(e => e.Stage == 1).ValidationUa);
    }

    [Fact]
    public void Same_seed_gives_identical_metrics_twice()
    {
        var a = ModelTrainer.Train(TestData.SmallSet, TestData.Key(seed: 4), TestData.Quick, "cpu", null, CancellationToken.None);
        // Whatever else uses libtorch's global generator in between must not matter.
        TorchSharp.torch.manual_seed(98765);
        TorchSharp.torch.randn(1000).Dispose();
        var b = ModelTrainer.Train(TestData.SmallSet, TestData.Key(seed: 4), TestData.Quick, "cpu", null, CancellationToken.None);
        Assert.Equal(a.Test.Ua, b.Test.Ua);
        Assert.Equal(a.Test.Wa, b.Test.Wa);
        Assert.Equal(a.Test.MacroF1, b.Test.MacroF1);
        Assert.Equal(a.Test.Confusion, b.Test.Confusion);
        Assert.Equal(a.BestEpoch, b.BestEpoch);
        Assert.Equal(a.Predictions, b.Predictions);
        Assert.Equal(a.Epochs.Select(e => e.TrainLoss), b.Epochs.Select(e => e.TrainLoss));
        Assert.Equal(a.Epochs.Select(e => e.ValidationLoss), b.Epochs.Select(e => e.ValidationLoss));
    }

    [Fact]
    public void Evaluated_weights_are_the_best_validation_ones()
    {
        // A high learning rate makes validation UA move between epochs. The first seed whose run ends on a worse
        // epoch than its best is used, so the check can tell the best weights from the last ones.
        var overrides = new Dictionary<string, string>
        {
            ["epochs_stage1"] = "0",
            ["epochs_stage2"] = "6",
            ["patience"] = "0",
            ["lr"] = "0.02",
        };
        for (var seed = 1; seed <= 6; seed++)
        {
            using var run = TrainingRun.Create(TestData.SmallSet, TestData.Key(method: "concat", modalities: "AV", seed: seed), overrides, "cpu", null, CancellationToken.None);
            var outcome = run.Execute();
            var stage2 = outcome.Epochs.Where(e => e.Stage == 2).ToList();
            var bestUa = stage2.Max(e => e.ValidationUa!.Value);
            Assert.Equal(stage2.FindIndex(e => e.ValidationUa == bestUa) + 1, outcome.BestEpoch);
            if (stage2[^1].ValidationUa == bestUa)
            {
                continue;
            }
            var (predicted, _) = run.Predict(run.ValidationIndices);
            var truth = run.ValidationIndices.Select(i => TestData.SmallSet.Utterances[i].Label).ToArray();
            Assert.Equal(bestUa, Core.Metrics.ClassificationScorer.Score(truth, predicted).Ua, 12);
            return;
        }
        Assert.Fail("no seed ended on an epoch worse than its best; the test could not tell best from last weights");
    }

    [Fact]
    public void Predictions_cover_the_test_fold_and_match_the_confusion_matrix()
    {
        using var run = TrainingRun.Create(TestData.SmallSet, TestData.Key(method: "tfn", modalities: "AVT", fold: 3), TestData.Quick, "cpu", null, CancellationToken.None);
        var outcome = run.Execute();
        Assert.Equal(run.TestIndices.Select(i => TestData.SmallSet.Utterances[i].UtteranceId), outcome.Predictions.Select(p => p.UtteranceId));
        Assert.Equal(run.TestIndices.Length, outcome.Test.Confusion.Sum(row => row.Sum()));
        foreach (var p in outcome.Predictions)
        {
            Assert.Equal(TestData.SmallSet.Utterances.Single(u => u.UtteranceId == p.UtteranceId).Label, p.True);
        }
        Assert.Empty(run.TestIndices.Intersect(run.TrainIndices));
        Assert.Empty(run.ValidationIndices.Intersect(run.TrainIndices));
    }

    [Fact]
    public void Cancellation_stops_training_with_OperationCanceledException()
    {
        using var cts = new CancellationTokenSource();
        var overrides = new Dictionary<string, string> { ["epochs_stage1"] = "1", ["epochs_stage2"] = "50", ["patience"] = "0" };
        var epochs = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => ModelTrainer.Train(TestData.SmallSet, TestData.Key(method: "concat", modalities: "AV"),
            overrides, "cpu", _ =>
            {
                if (++epochs == 2)
                {
                    cts.Cancel();
                }
            }, cts.Token));
        Assert.Equal(2, epochs);
    }
}
