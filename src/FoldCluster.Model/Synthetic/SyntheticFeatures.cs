using FoldCluster.Core;

namespace FoldCluster.Model;

/// <summary>
/// A generated feature set with the real LTPP shapes (audio [3][64][128], video [32][W], text [32][300]) whose
/// classes are separable only by combining modalities. The four classes are the corners of arousal x valence:
/// angry (high, negative), happy (high, positive), sad (low, negative), neutral (low, positive).
/// <list type="bullet">
/// <item>Audio shows arousal, video shows valence, each for 80 % of utterances (otherwise only noise).</item>
/// <item>Text shows both, always, but each cue's sign is wrong for 20 % of utterances (a noisy hint).</item>
/// <item>2 % of labels are replaced by another class (label noise).</item>
/// </list>
/// Best possible UA (before label noise) is therefore 0.9 x 0.5 = 0.45 for audio or video alone, 0.8^2 = 0.64 for
/// text alone, 0.96 x 0.8 = 0.77 for A+T or V+T (0.96 = 0.8 + 0.2 x 0.8), 0.9^2 = 0.81 for A+V and 0.96^2 = 0.92
/// for A+V+T, so all three modalities together beat every pair by about ten points.
/// </summary>
public static class SyntheticFeatures
{
    public const double CuePresence = 0.8;
    public const double TextFlip = 0.20;
    public const double LabelNoise = 0.02;
    public const float CueAmplitude = 1.0f;
    public const int Speakers = 10;

    // Fixed, so feature sets of different seeds share one "world" (the same cue directions).
    private const int PatternSeed = 73_411;

    private static readonly double[] ClassShare = [0.20, 0.30, 0.20, 0.30];

    public static FeatureSet Generate(int count, int seed, int videoWidth = 2048)
    {
        if (count < 1)
        {
            throw new BadInputException($"synthetic feature count {count} is not valid: expected at least 1");
        }
        if (videoWidth < 1)
        {
            throw new BadInputException($"video width {videoWidth} is not valid: expected at least 1");
        }
        var patterns = new Random(PatternSeed);
        var audioCue = Signs(patterns, FeatureSet.AudioChannels * FeatureSet.MelBands);
        var videoCue = Signs(patterns, videoWidth);
        var textArousalCue = Signs(patterns, FeatureSet.TextWidth);
        var textValenceCue = Signs(patterns, FeatureSet.TextWidth);

        var random = new Random(seed);
        var noise = new UniformNoise((ulong)seed * 0x9E3779B97F4A7C15UL + 1);
        var utterances = new List<UtteranceFeatures>(count);
        for (var i = 0; i < count; i++)
        {
            var emotion = Draw(random);
            var arousal = emotion is Emotion.Angry or Emotion.Happy ? 1f : -1f;
            var valence = emotion is Emotion.Happy or Emotion.Neutral ? 1f : -1f;

            var audio = noise.Fill(FeatureSet.AudioLength);
            if (random.NextDouble() < CuePresence)
            {
                // Constant along time: one value per (channel, mel band).
                for (var cm = 0; cm < audioCue.Length; cm++)
                {
                    var add = CueAmplitude * arousal * audioCue[cm];
                    var row = audio.AsSpan(cm * FeatureSet.AudioFrames, FeatureSet.AudioFrames);
                    for (var t = 0; t < row.Length; t++)
                    {
                        row[t] += add;
                    }
                }
            }

            var video = noise.Fill(FeatureSet.SequenceLength * videoWidth);
            if (random.NextDouble() < CuePresence)
            {
                AddPerStep(video, videoWidth, videoCue, CueAmplitude * valence);
            }

            var text = noise.Fill(FeatureSet.TextLength);
            var textArousal = random.NextDouble() < TextFlip ? -arousal : arousal;
            var textValence = random.NextDouble() < TextFlip ? -valence : valence;
            AddPerStep(text, FeatureSet.TextWidth, textArousalCue, CueAmplitude * textArousal);
            AddPerStep(text, FeatureSet.TextWidth, textValenceCue, CueAmplitude * textValence);

            var label = emotion;
            if (random.NextDouble() < LabelNoise)
            {
                label = (Emotion)(((int)emotion + 1 + random.Next(Emotions.Count - 1)) % Emotions.Count);
            }
            utterances.Add(new UtteranceFeatures(
                $"syn{seed}_{i:D5}", $"S{i % Speakers:D2}", label, audio, video, text));
        }
        return new FeatureSet("synthetic", videoWidth == 2048 ? "synthetic-2048" : $"synthetic-{videoWidth}", videoWidth, utterances);
    }

    private static Emotion Draw(Random random)
    {
        var u = random.NextDouble();
        for (var c = 0; c < ClassShare.Length; c++)
        {
            u -= ClassShare[c];
            if (u < 0)
            {
                return (Emotion)c;
            }
        }
        return Emotion.Neutral;
    }

    private static float[] Signs(Random random, int length)
    {
        var signs = new float[length];
        for (var i = 0; i < length; i++)
        {
            signs[i] = random.Next(2) == 0 ? -1f : 1f;
        }
        return signs;
    }

    private static void AddPerStep(float[] sequence, int width, float[] cue, float scale)
    {
        for (var step = 0; step < FeatureSet.SequenceLength; step++)
        {
            var row = sequence.AsSpan(step * width, width);
            for (var j = 0; j < width; j++)
            {
                row[j] += scale * cue[j];
            }
        }
    }

    /// <summary>Unit-variance uniform noise from xorshift64*; far faster than Gaussian draws for 10^8 values.</summary>
    private sealed class UniformNoise(ulong state)
    {
        private const float Scale = 3.4641016f / (1 << 24);   // 2 * sqrt(3) / 2^24

        private ulong _state = state == 0 ? 1 : state;

        public float[] Fill(int length)
        {
            var values = new float[length];
            for (var i = 0; i < length; i++)
            {
                _state ^= _state >> 12;
                _state ^= _state << 25;
                _state ^= _state >> 27;
                var bits = (_state * 0x2545F4914F6CDD1DUL) >> 40;   // 24 random bits
                values[i] = bits * Scale - 1.7320508f;
            }
            return values;
        }
    }
}
