namespace FoldCluster.Core.Metrics;

/// <summary>
/// The paper's measures (Section IV-D) from true and predicted classes: UA (unweighted average recall,
/// the paper's "unweighted accuracy"), WA (overall accuracy), macro-F1 and weighted-F1.
/// </summary>
public static class ClassificationScorer
{
    public static ClassificationMetrics Score(IReadOnlyList<Emotion> truth, IReadOnlyList<Emotion> predicted)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(predicted);
        if (truth.Count != predicted.Count)
        {
            throw new ArgumentException($"{truth.Count} true labels but {predicted.Count} predictions");
        }
        var confusion = new int[Emotions.Count][];
        for (var i = 0; i < Emotions.Count; i++)
        {
            confusion[i] = new int[Emotions.Count];
        }
        for (var i = 0; i < truth.Count; i++)
        {
            confusion[(int)truth[i]][(int)predicted[i]]++;
        }
        return FromConfusion(confusion);
    }

    /// <summary>
    /// Metrics of a confusion matrix [true][predicted]. Classes absent from the truth are left out of UA
    /// (their recall is undefined); macro-F1 averages over the classes that occur in the truth or the
    /// predictions (as scikit-learn does), with F1 = 0 for a class without true positives.
    /// </summary>
    public static ClassificationMetrics FromConfusion(int[][] confusion)
    {
        ArgumentNullException.ThrowIfNull(confusion);
        var k = confusion.Length;
        if (k == 0 || confusion.Any(row => row.Length != k))
        {
            throw new ArgumentException("confusion matrix must be square and non-empty");
        }
        long total = 0;
        long correct = 0;
        var support = new long[k];
        var predictedCount = new long[k];
        for (var t = 0; t < k; t++)
        {
            for (var p = 0; p < k; p++)
            {
                total += confusion[t][p];
                support[t] += confusion[t][p];
                predictedCount[p] += confusion[t][p];
            }
            correct += confusion[t][t];
        }
        if (total == 0)
        {
            throw new ArgumentException("confusion matrix is empty: no utterances were scored");
        }

        double recallSum = 0;
        var recallClasses = 0;
        double f1Sum = 0;
        var f1Classes = 0;
        double weightedF1 = 0;
        for (var c = 0; c < k; c++)
        {
            var tp = confusion[c][c];
            var recall = support[c] > 0 ? (double)tp / support[c] : 0;
            var precision = predictedCount[c] > 0 ? (double)tp / predictedCount[c] : 0;
            var f1 = tp > 0 ? 2 * precision * recall / (precision + recall) : 0;
            if (support[c] > 0)
            {
                recallSum += recall;
                recallClasses++;
                weightedF1 += f1 * support[c] / total;
            }
            if (support[c] > 0 || predictedCount[c] > 0)
            {
                f1Sum += f1;
                f1Classes++;
            }
        }
        var copy = confusion.Select(row => row.ToArray()).ToArray();
        return new ClassificationMetrics(
            Ua: recallSum / recallClasses,
            Wa: (double)correct / total,
            MacroF1: f1Sum / f1Classes,
            WeightedF1: weightedF1,
            Confusion: copy);
    }
}
