using System.Diagnostics;
using FoldCluster.Core;
using FoldCluster.Core.Folds;
using FoldCluster.Core.Metrics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Training;

/// <summary>
/// One job: fold plan, standardised tensors, stage 1 (reconstruction, eq. 8-10; skipped for NP), stage 2
/// (cross-entropy fine-tuning from stage 1's weights), each keeping its best-validation weights, then the
/// test fold evaluated with stage 2's best weights. Runs on the calling thread; holds its tensors until disposed.
/// </summary>
internal sealed class TrainingRun : IDisposable
{
    private readonly Generator _generator;
    private readonly Random _shuffle;
    private readonly Device _device;
    private readonly Action<EpochReport> _onEpoch;
    private readonly CancellationToken _cancellation;
    private readonly List<EpochReport> _epochs = [];

    private TrainingRun(FeatureSet features, JobKey key, TrainingProfile profile, Device device, Action<EpochReport> onEpoch, CancellationToken cancellation)
    {
        Features = features;
        Key = key;
        Profile = profile;
        _device = device;
        _onEpoch = onEpoch;
        _cancellation = cancellation;
        Modalities = ModalitySet.Parse(key.Modalities);
        var method = EmotionModel.CheckMethod(key.Method, Modalities);
        FeatureTensors.Validate(features, Modalities);

        Plan = FoldPlan.Create(features.Utterances.Select(u => (u.Speaker, u.Label)).ToList(), key.Split, key.Seed);
        TrainIndices = Plan.Train(key.Fold);
        ValidationIndices = Plan.Validation(key.Fold);
        TestIndices = Plan.Test(key.Fold);
        foreach (var emotion in Emotions.All)
        {
            if (!TrainIndices.Any(i => features.Utterances[i].Label == emotion))
            {
                throw new BadInputException(
                    $"class '{emotion.Name()}' has no utterance in the training folds of fold {key.Fold} ({key.Split} split, seed {key.Seed}): every class must be trained");
            }
        }

        _generator = new Generator((ulong)key.Seed, device);
        _shuffle = new Random(key.Seed);
        Data = FeatureTensors.Build(features, Modalities, TrainIndices, device);
        Model = new EmotionModel(Modalities, method, features.VideoWidth, profile, _generator);
        // Initial weights from the job's own generator (on the CPU, before the move), never from the global one.
        using (var init = new Generator((ulong)key.Seed, CPU))
        {
            Layers.SeededInit.Apply(Model, init);
        }
        Model.to(device);
    }

    public FeatureSet Features { get; }
    public JobKey Key { get; }
    public TrainingProfile Profile { get; }
    public ModalitySet Modalities { get; }
    public FoldPlan Plan { get; }
    public int[] TrainIndices { get; }
    public int[] ValidationIndices { get; }
    public int[] TestIndices { get; }
    public FeatureTensors Data { get; }
    public EmotionModel Model { get; }
    public IReadOnlyList<EpochReport> Epochs => _epochs;
    public int BestEpoch { get; private set; }

    /// <summary>Which time-pooled vectors of the test utterances <see cref="Execute"/> hands back (sweep field store_features).</summary>
    public StoredFeatureLevel StoreFeatures { get; set; }

    public static TrainingRun Create(FeatureSet features, JobKey key, IReadOnlyDictionary<string, string>? overrides, string device,
        Action<EpochReport>? onEpoch, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(key);
        var profile = TrainingProfile.Get(key.Profile).WithOverrides(overrides);
        profile.Validate();
        return new TrainingRun(features, key, profile, ComputeDevice.Resolve(device), onEpoch ?? (_ => { }), cancellation);
    }

    public TrainingOutcome Execute()
    {
        var clock = Stopwatch.StartNew();
        var captured = new List<FeatureVector>();
        if (Key.Pretrained && Profile.EpochsStage1 > 0)
        {
            RunStage(1, Profile.EpochsStage1);
            if (StoreFeatures != StoredFeatureLevel.None)
            {
                captured.AddRange(FeatureCapture.Capture(Model, Data, Features, TestIndices, Math.Max(Profile.BatchSize, 128), FeatureKinds.FusedStage1, false, _device));
            }
        }
        BestEpoch = RunStage(2, Profile.EpochsStage2);
        if (StoreFeatures != StoredFeatureLevel.None)
        {
            captured.AddRange(FeatureCapture.Capture(Model, Data, Features, TestIndices, Math.Max(Profile.BatchSize, 128), FeatureKinds.FusedStage2,
                StoreFeatures == StoredFeatureLevel.All, _device));
        }
        var (predicted, _) = Predict(TestIndices);
        var truth = TestIndices.Select(i => Features.Utterances[i].Label).ToArray();
        var metrics = ClassificationScorer.Score(truth, predicted);
        var predictions = TestIndices.Select((i, j) => new UtterancePrediction(Features.Utterances[i].UtteranceId, truth[j], predicted[j])).ToList();
        return new TrainingOutcome(metrics, BestEpoch, clock.Elapsed.TotalSeconds, predictions, _epochs.ToList()) { Features = captured };
    }

    /// <summary>Trains one stage; returns its best epoch (1-based) after loading that epoch's weights.</summary>
    private int RunStage(int stage, int epochs)
    {
        using var optimizer = CreateOptimizer(stage);
        Dictionary<string, Tensor>? best = null;
        var bestScore = double.NegativeInfinity;
        var bestLoss = double.PositiveInfinity;
        var bestEpoch = 0;
        var sinceBest = 0;
        try
        {
            for (var epoch = 1; epoch <= epochs; epoch++)
            {
                var trainLoss = TrainEpoch(stage, optimizer);
                double validationLoss;
                double? validationUa = null;
                double score;
                if (stage == 1)
                {
                    validationLoss = ReconstructionLoss(ValidationIndices);
                    score = -validationLoss;
                }
                else
                {
                    var (predicted, loss) = Predict(ValidationIndices);
                    validationLoss = loss;
                    var truth = ValidationIndices.Select(i => Features.Utterances[i].Label).ToArray();
                    validationUa = ClassificationScorer.Score(truth, predicted).Ua;
                    score = validationUa.Value;
                }
                var report = new EpochReport(stage, epoch, epochs, trainLoss, validationLoss, validationUa);
                _epochs.Add(report);
                _onEpoch(report);
                // Section IV-C: weights are kept only when the validation score improves. On a small validation
                // fold UA often repeats for several epochs; then a lower validation loss counts as the improvement.
                if (score > bestScore || (stage == 2 && score == bestScore && validationLoss < bestLoss))
                {
                    bestScore = score;
                    bestLoss = validationLoss;
                    bestEpoch = epoch;
                    sinceBest = 0;
                    Dispose(best);
                    best = Snapshot();
                }
                else if (Profile.Patience > 0 && ++sinceBest >= Profile.Patience)
                {
                    break;
                }
            }
            if (best is not null)
            {
                Restore(best);
            }
            return bestEpoch;
        }
        finally
        {
            Dispose(best);
        }
    }

    /// <summary>The optimiser of a stage: the paper's Adam over the parameters that stage trains.</summary>
    internal Adam CreateOptimizer(int stage)
    {
        var parameters = (stage == 1 ? Model.ReconstructionParameters() : Model.ClassificationParameters()).ToList();
        return PaperAdam.Create(parameters, Profile.LearningRate, Profile.WeightDecay);
    }

    private double TrainEpoch(int stage, OptimizerHelper optimizer)
    {
        Model.train();
        var order = (int[])TrainIndices.Clone();
        _shuffle.Shuffle(order);
        double total = 0;
        var seen = 0;
        for (var start = 0; start < order.Length; start += Profile.BatchSize)
        {
            _cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var count = Math.Min(Profile.BatchSize, order.Length - start);
            if (count < 2 && order.Length >= 2)
            {
                continue;   // batch norm needs two samples; the utterance is seen in other epochs' shuffles
            }
            var indices = Indices(order.AsSpan(start, count));
            var inputs = Data.Batch(indices);
            optimizer.zero_grad();
            var loss = stage == 1
                ? ReconstructionLoss(inputs, Model.Reconstruct(Model.Fuse(inputs)))
                : nn.functional.cross_entropy(Model.forward(inputs), Data.Labels.index_select(0, indices));
            loss.backward();
            optimizer.step();
            total += loss.item<float>() * count;
            seen += count;
        }
        return total / Math.Max(1, seen);
    }

    /// <summary>eq. (8)-(9): the sum over present modalities of the mean squared reconstruction error.</summary>
    private static Tensor ReconstructionLoss(ModelInputs inputs, ModelInputs rebuilt)
    {
        var terms = new List<Tensor>(3);
        if (inputs.Audio is not null)
        {
            terms.Add(nn.functional.mse_loss(rebuilt.Audio!, inputs.Audio));
        }
        if (inputs.Video is not null)
        {
            terms.Add(nn.functional.mse_loss(rebuilt.Video!, inputs.Video));
        }
        if (inputs.Text is not null)
        {
            terms.Add(nn.functional.mse_loss(rebuilt.Text!, inputs.Text));
        }
        return terms.Aggregate((a, b) => a + b);
    }

    private double ReconstructionLoss(int[] rows)
    {
        Model.eval();
        using var noGrad = no_grad();
        double total = 0;
        foreach (var (start, count) in Chunks(rows.Length))
        {
            using var scope = NewDisposeScope();
            var inputs = Data.Batch(Indices(rows.AsSpan(start, count)));
            total += ReconstructionLoss(inputs, Model.Reconstruct(Model.Fuse(inputs))).item<float>() * count;
        }
        return total / rows.Length;
    }

    /// <summary>Predicted classes and mean cross-entropy of the given utterances, in eval mode without gradients.</summary>
    public (Emotion[] Predicted, double Loss) Predict(int[] rows)
    {
        Model.eval();
        using var noGrad = no_grad();
        var predicted = new Emotion[rows.Length];
        double total = 0;
        foreach (var (start, count) in Chunks(rows.Length))
        {
            _cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var indices = Indices(rows.AsSpan(start, count));
            var logits = Model.forward(Data.Batch(indices));
            total += nn.functional.cross_entropy(logits, Data.Labels.index_select(0, indices)).item<float>() * count;
            var classes = logits.argmax(1).cpu().data<long>().ToArray();
            for (var j = 0; j < count; j++)
            {
                predicted[start + j] = (Emotion)classes[j];
            }
        }
        return (predicted, total / rows.Length);
    }

    private IEnumerable<(int Start, int Count)> Chunks(int length)
    {
        var size = Math.Max(Profile.BatchSize, 128);
        for (var start = 0; start < length; start += size)
        {
            yield return (start, Math.Min(size, length - start));
        }
    }

    private Tensor Indices(ReadOnlySpan<int> rows)
    {
        var values = new long[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            values[i] = rows[i];
        }
        return tensor(values, ScalarType.Int64, _device);
    }

    private Dictionary<string, Tensor> Snapshot()
    {
        using var noGrad = no_grad();
        return Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
    }

    private void Restore(Dictionary<string, Tensor> state)
    {
        using var noGrad = no_grad();
        foreach (var (name, current) in Model.state_dict())
        {
            current.copy_(state[name]);
        }
    }

    private static void Dispose(Dictionary<string, Tensor>? state)
    {
        if (state is null)
        {
            return;
        }
        foreach (var t in state.Values)
        {
            t.Dispose();
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        Data.Dispose();
        _generator.Dispose();
    }
}
