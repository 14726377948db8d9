using FoldCluster.Core;
using static TorchSharp.torch;

namespace FoldCluster.Model.Training;

/// <summary>
/// The time-pooled vectors a job stores for its test utterances (sweep field store_features): the fused code, and
/// at level All each modality's input and each encoder's output. Runs the model in eval mode without gradients;
/// every vector is the mean over the time (sequence) axis: audio [3][64][128] -> 192, video [32][W] -> W,
/// text [32][300] -> 300, encoder outputs and fused codes [32][300] -> 300.
/// </summary>
internal static class FeatureCapture
{
    public static IReadOnlyList<FeatureVector> Capture(EmotionModel model, FeatureTensors data, FeatureSet features, int[] rows,
        int batchSize, string fusedKind, bool inputsAndEncoders, Device device)
    {
        var result = new List<FeatureVector>();
        model.eval();
        using var noGrad = no_grad();
        var modalities = FeatureKinds.Modalities.Where(m => m switch
        {
            "audio" => model.Modalities.HasAudio,
            "video" => model.Modalities.HasVideo,
            _ => model.Modalities.HasText,
        }).ToArray();
        var encoders = model.Encoders.Cast<nn.Module<Tensor, Tensor>>().ToArray();
        for (var start = 0; start < rows.Length; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var chunk = rows.Skip(start).Take(batchSize).ToArray();
            var ids = chunk.Select(i => features.Utterances[i].UtteranceId).ToArray();
            using var indices = tensor(chunk.Select(i => (long)i).ToArray(), ScalarType.Int64, device);
            var inputs = data.Batch(indices);
            Add(result, ids, fusedKind, model.Fuse(inputs).mean([1]));
            if (!inputsAndEncoders)
            {
                continue;
            }
            for (var m = 0; m < modalities.Length; m++)
            {
                var input = modalities[m] switch
                {
                    "audio" => inputs.Audio!,
                    "video" => inputs.Video!,
                    _ => inputs.Text!,
                };
                // Audio is [N][3][64][128] with time last; video and text are [N][32][width], time first.
                var pooled = modalities[m] == "audio" ? input.mean([3]).flatten(1) : input.mean([1]);
                Add(result, ids, FeatureKinds.Input(modalities[m]), pooled);
                Add(result, ids, FeatureKinds.Encoded(modalities[m]), encoders[m].forward(input).mean([1]));
            }
        }
        return result;
    }

    private static void Add(List<FeatureVector> result, string[] ids, string kind, Tensor pooled)
    {
        var width = (int)pooled.shape[1];
        var values = pooled.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        for (var r = 0; r < ids.Length; r++)
        {
            result.Add(new FeatureVector(ids[r], kind, values.AsSpan(r * width, width).ToArray()));
        }
    }
}
