using System.Globalization;
using FoldCluster.Core;
using static TorchSharp.torch;

namespace FoldCluster.Model.Training;

/// <summary>
/// A feature set as tensors on the training device, standardised per feature with the mean and standard
/// deviation of the training folds only (DESIGN.md section 5: no test or validation leakage).
/// </summary>
internal sealed class FeatureTensors : IDisposable
{
    private FeatureTensors(Tensor? audio, Tensor? video, Tensor? text, Tensor labels)
    {
        Audio = audio;
        Video = video;
        Text = text;
        Labels = labels;
    }

    public Tensor? Audio { get; }
    public Tensor? Video { get; }
    public Tensor? Text { get; }

    /// <summary>Class indices [N] (int64).</summary>
    public Tensor Labels { get; }

    /// <summary>Checks shapes and values of the modalities the job uses; throws <see cref="BadInputException"/> naming the utterance.</summary>
    public static void Validate(FeatureSet features, ModalitySet modalities)
    {
        if (features.Utterances.Count == 0)
        {
            throw new BadInputException($"feature set '{features.Dataset}' has no utterances");
        }
        if (modalities.HasVideo && features.VideoWidth <= 0)
        {
            throw new BadInputException($"feature set '{features.Dataset}' has video width {features.VideoWidth}: expected a positive width (2048 ResNet-50, 4096 VGG-Face)");
        }
        var videoLength = FeatureSet.SequenceLength * features.VideoWidth;
        foreach (var u in features.Utterances)
        {
            if ((int)u.Label is < 0 or >= Emotions.Count)
            {
                throw new BadInputException($"utterance '{u.UtteranceId}' has label {(int)u.Label}: expected 0 to {Emotions.Count - 1} (angry, happy, sad, neutral)");
            }
            if (modalities.HasAudio)
            {
                Check(u, "audio", u.Audio, FeatureSet.AudioLength, $"[{FeatureSet.AudioChannels}][{FeatureSet.MelBands}][{FeatureSet.AudioFrames}]");
            }
            if (modalities.HasVideo)
            {
                Check(u, "video", u.Video, videoLength, $"[{FeatureSet.SequenceLength}][{features.VideoWidth}]");
            }
            if (modalities.HasText)
            {
                Check(u, "text", u.Text, FeatureSet.TextLength, $"[{FeatureSet.SequenceLength}][{FeatureSet.TextWidth}]");
            }
        }
    }

    private static void Check(UtteranceFeatures u, string modality, float[]? values, int expected, string shape)
    {
        if (values is null)
        {
            throw new BadInputException($"utterance '{u.UtteranceId}' has no {modality} features: the job's modality set needs them");
        }
        if (values.Length != expected)
        {
            throw new BadInputException(
                $"utterance '{u.UtteranceId}' has {values.Length.ToString(CultureInfo.InvariantCulture)} {modality} values: expected {shape} = {expected.ToString(CultureInfo.InvariantCulture)}");
        }
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new BadInputException(
                    $"utterance '{u.UtteranceId}' has a {(float.IsNaN(values[i]) ? "NaN" : "infinite")} {modality} value at index {i}: features must be finite");
            }
        }
    }

    public static FeatureTensors Build(FeatureSet features, ModalitySet modalities, int[] trainIndices, Device device)
    {
        var n = features.Utterances.Count;
        Tensor? audio = null, video = null, text = null;
        try
        {
            if (modalities.HasAudio)
            {
                audio = Stack(features, u => u.Audio!, [FeatureSet.AudioChannels, FeatureSet.MelBands, FeatureSet.AudioFrames], trainIndices, device);
            }
            if (modalities.HasVideo)
            {
                video = Stack(features, u => u.Video!, [FeatureSet.SequenceLength, features.VideoWidth], trainIndices, device);
            }
            if (modalities.HasText)
            {
                text = Stack(features, u => u.Text!, [FeatureSet.SequenceLength, FeatureSet.TextWidth], trainIndices, device);
            }
            var labels = tensor(features.Utterances.Select(u => (long)u.Label).ToArray(), new long[] { n }, ScalarType.Int64, device);
            return new FeatureTensors(audio, video, text, labels);
        }
        catch
        {
            audio?.Dispose();
            video?.Dispose();
            text?.Dispose();
            throw;
        }
    }

    private static Tensor Stack(FeatureSet features, Func<UtteranceFeatures, float[]> select, long[] shape, int[] trainIndices, Device device)
    {
        var n = features.Utterances.Count;
        var length = (int)shape.Aggregate(1L, (a, b) => a * b);
        var all = new float[(long)n * length];
        for (var i = 0; i < n; i++)
        {
            select(features.Utterances[i]).CopyTo(all, (long)i * length);
        }
        using var scope = NewDisposeScope();
        var x = tensor(all, [n, .. shape], ScalarType.Float32, CPU);
        using var train = tensor(trainIndices.Select(i => (long)i).ToArray(), ScalarType.Int64);
        var trainRows = x.index_select(0, train);
        var mean = trainRows.mean([0], keepdim: true);
        var std = trainRows.std(0, unbiased: false, keepdim: true);
        // A constant feature (zero padding, for instance) keeps its scale instead of dividing by zero.
        std = where(std < 1e-6, ones_like(std), std);
        return x.sub_(mean).div_(std).to(device).MoveToOuterDisposeScope();
    }

    public ModelInputs Batch(Tensor indices) => new(
        Audio?.index_select(0, indices),
        Video?.index_select(0, indices),
        Text?.index_select(0, indices));

    public void Dispose()
    {
        Audio?.Dispose();
        Video?.Dispose();
        Text?.Dispose();
        Labels.Dispose();
    }
}
