using FoldCluster.Core;
using FoldCluster.Model.Training;
using static TorchSharp.torch;

namespace FoldCluster.Model;

/// <summary>Entry point for one training job (the CLI's `train` and the cluster's worker slots).</summary>
public static class ModelTrainer
{
    /// <summary>
    /// Sets libtorch's intra-op thread count (<c>torch.set_num_threads</c>). libtorch keeps one intra-op pool per
    /// process, so every slot of a worker should pass the same value (cores / slots); call it on the slot's
    /// training thread before <see cref="Train"/>.
    /// </summary>
    public static void ConfigureThreads(int threads)
    {
        if (threads < 1)
        {
            throw new BadInputException($"thread count {threads} is not valid: expected at least 1");
        }
        set_num_threads(threads);
    }

    /// <summary>
    /// Runs job <paramref name="key"/> on the calling thread: fold plan over <paramref name="features"/>, standardisation
    /// from the training folds, stage 1 (unless NP), stage 2, test-fold evaluation with the best-validation weights.
    /// Throws <see cref="BadInputException"/> for input that cannot succeed and <see cref="OperationCanceledException"/>
    /// when <paramref name="cancellationToken"/> fires (checked every batch).
    /// </summary>
    public static TrainingOutcome Train(
        FeatureSet features,
        JobKey key,
        IReadOnlyDictionary<string, string>? overrides,
        string device,
        Action<EpochReport>? onEpoch,
        CancellationToken cancellationToken)
    {
        using var run = TrainingRun.Create(features, key, overrides, device, onEpoch, cancellationToken);
        return run.Execute();
    }

    /// <summary>
    /// <see cref="Train(FeatureSet, JobKey, IReadOnlyDictionary{string, string}?, string, Action{EpochReport}?, CancellationToken)"/>,
    /// also handing back the time-pooled vectors of the test utterances at <paramref name="storeFeatures"/>.
    /// </summary>
    public static TrainingOutcome Train(
        FeatureSet features,
        JobKey key,
        IReadOnlyDictionary<string, string>? overrides,
        string device,
        StoredFeatureLevel storeFeatures,
        Action<EpochReport>? onEpoch,
        CancellationToken cancellationToken)
    {
        using var run = TrainingRun.Create(features, key, overrides, device, onEpoch, cancellationToken);
        run.StoreFeatures = storeFeatures;
        return run.Execute();
    }
}
