namespace FoldCluster.Core;

/// <summary>One finished epoch of one stage (1 = reconstruction, 2 = classification).</summary>
public sealed record EpochReport(
    int Stage,
    int Epoch,
    int EpochsPlanned,
    double TrainLoss,
    double? ValidationLoss,
    double? ValidationUa);

/// <summary>Classification metrics of one test fold (fractions in [0, 1]). Confusion: [true][predicted].</summary>
public sealed record ClassificationMetrics(
    double Ua,
    double Wa,
    double MacroF1,
    double WeightedF1,
    int[][] Confusion);

public sealed record UtterancePrediction(string UtteranceId, Emotion True, Emotion Predicted);

/// <summary>What a finished training job hands back to be stored; <paramref name="Provenance"/>: where and how it was computed.</summary>
public sealed record TrainingOutcome(
    ClassificationMetrics Test,
    int BestEpoch,
    double Seconds,
    IReadOnlyList<UtterancePrediction> Predictions,
    IReadOnlyList<EpochReport> Epochs,
    ResultProvenance? Provenance = null)
{
    /// <summary>Time-pooled vectors of the test utterances, when the sweep asks for them (stored with the result, fenced alike).</summary>
    public IReadOnlyList<FeatureVector> Features { get; init; } = [];
}

/// <summary>
/// Where a dataset comes from, as a sweep spec names it. <paramref name="TranscriptsPath"/>: an optional
/// "utterance-id&lt;TAB&gt;text" file whose words replace the corpus's own transcripts (MSP-IMPROV releases without them).
/// </summary>
public sealed record DatasetSource(
    string Name,
    string Layout,
    string Root,
    string? Word2VecPath,
    string Extractor,
    string? WeightsPath,
    bool AllowRandomWeights,
    string? TranscriptsPath = null);

/// <summary>A job as a worker slot receives it.</summary>
public sealed record JobRequest(
    JobKey Key,
    DatasetSource Dataset,
    string CacheDirectory,
    string Device,
    IReadOnlyDictionary<string, string> TrainingOverrides);

/// <summary>
/// Runs one job end to end on the calling thread: features (cached) then two-stage training.
/// Implementations: the real trainer (features + TorchSharp) and a simulated one for orchestration tests.
/// Throws <see cref="BadInputException"/> for input that cannot succeed on retry,
/// <see cref="OperationCanceledException"/> when cancelled.
/// </summary>
public interface IJobTrainer
{
    TrainingOutcome Run(JobRequest request, Action<EpochReport> onEpoch, CancellationToken cancellationToken);
}
