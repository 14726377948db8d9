using FoldCluster.Core.Metrics;

namespace FoldCluster.Core.Tests;

public class ClassificationScorerTests
{
    // rows = true (angry, happy, sad, neutral), columns = predicted.
    private static readonly int[][] Fixed =
    [
        [8, 1, 0, 1],
        [2, 15, 0, 3],
        [0, 0, 9, 1],
        [1, 4, 2, 13],
    ];

    [Fact]
    public void Metrics_equal_hand_computed_values_on_a_fixed_confusion_matrix()
    {
        var m = ClassificationScorer.FromConfusion(Fixed);
        // Recalls: 8/10, 15/20, 9/10, 13/20 -> UA = (0.8 + 0.75 + 0.9 + 0.65) / 4 = 0.775.
        Assert.Equal(0.775, m.Ua, 12);
        // WA = 45 / 60.
        Assert.Equal(0.75, m.Wa, 12);
        // Precisions: 8/11, 15/20, 9/11, 13/18.
        var f1 = new[]
        {
            2 * (8.0 / 11) * 0.8 / (8.0 / 11 + 0.8),
            2 * 0.75 * 0.75 / 1.5,
            2 * (9.0 / 11) * 0.9 / (9.0 / 11 + 0.9),
            2 * (13.0 / 18) * 0.65 / (13.0 / 18 + 0.65),
        };
        Assert.Equal(f1.Average(), m.MacroF1, 12);
        Assert.Equal((f1[0] * 10 + f1[1] * 20 + f1[2] * 10 + f1[3] * 20) / 60, m.WeightedF1, 12);
        // Independently, F1 = 2TP / (2TP + FP + FN): 16/21, 30/40, 18/21, 26/38.
        Assert.Equal((16.0 / 21 + 30.0 / 40 + 18.0 / 21 + 26.0 / 38) / 4, m.MacroF1, 12);
        Assert.Equal(0.7633, Math.Round(m.MacroF1, 4));
        Assert.Equal(0.7479, Math.Round(m.WeightedF1, 4));
    }

    [Fact]
    public void Score_builds_the_confusion_with_rows_as_true_classes()
    {
        var truth = new[] { Emotion.Angry, Emotion.Angry, Emotion.Sad, Emotion.Neutral };
        var predicted = new[] { Emotion.Angry, Emotion.Happy, Emotion.Sad, Emotion.Sad };
        var m = ClassificationScorer.Score(truth, predicted);
        Assert.Equal(1, m.Confusion[0][0]);
        Assert.Equal(1, m.Confusion[0][1]);
        Assert.Equal(1, m.Confusion[2][2]);
        Assert.Equal(1, m.Confusion[3][2]);
        Assert.Equal(0, m.Confusion[2][3]);
        // Happy never occurs in the truth: UA over angry 0.5, sad 1, neutral 0.
        Assert.Equal(0.5, m.Ua, 12);
        Assert.Equal(0.5, m.Wa, 12);
    }

    [Fact]
    public void A_perfect_classifier_scores_one_everywhere()
    {
        var labels = Emotions.All.Concat(Emotions.All).ToArray();
        var m = ClassificationScorer.Score(labels, labels);
        Assert.Equal(1.0, m.Ua);
        Assert.Equal(1.0, m.Wa);
        Assert.Equal(1.0, m.MacroF1);
        Assert.Equal(1.0, m.WeightedF1);
    }
}
