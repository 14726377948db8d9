namespace FoldCluster.Features;

/// <summary>
/// Large-scale Temporal Pyramid Pooling exactly as DESIGN.md 4.4 fixes it (paper Section III-A): levels
/// 1, 2, 4, ..., 2^L of region means over the (zero right-padded to 2^L when shorter) time axis, regions
/// [floor(i T'/n), ceil((i+1) T'/n)), then the global max over the original frames. [F][T] -> [F][2^(L+1)].
/// </summary>
public static class Ltpp
{
    public const int AudioLevels = 6;
    public const int SequenceLevels = 4;

    public static int OutputLength(int levels) => 1 << (levels + 1);

    /// <summary>Pools x, a row-major [features][frames] array, into a row-major [features][2^(L+1)] array.</summary>
    public static float[] Pool(ReadOnlySpan<float> x, int features, int frames, int levels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frames);
        ArgumentOutOfRangeException.ThrowIfNegative(levels);
        if (x.Length != features * frames)
        {
            throw new ArgumentException($"expected {features} x {frames} values, got {x.Length}", nameof(x));
        }
        int top = 1 << levels;
        int padded = Math.Max(frames, top);
        int width = OutputLength(levels);
        var output = new float[features * width];
        // Prefix sums make every region mean O(1); zeros past the original frames add nothing.
        var prefix = new double[padded + 1];
        for (int f = 0; f < features; f++)
        {
            var row = x.Slice(f * frames, frames);
            double max = double.NegativeInfinity;
            for (int t = 0; t < padded; t++)
            {
                double v = t < frames ? row[t] : 0.0;
                prefix[t + 1] = prefix[t] + v;
                if (t < frames && v > max)
                {
                    max = v;
                }
            }
            int o = f * width;
            for (int n = 1; n <= top; n <<= 1)
            {
                for (int i = 0; i < n; i++)
                {
                    int start = (int)((long)i * padded / n);
                    int end = (int)(((long)(i + 1) * padded + n - 1) / n);
                    output[o++] = (float)((prefix[end] - prefix[start]) / (end - start));
                }
            }
            output[o] = (float)max;
        }
        return output;
    }

    /// <summary>
    /// Pools a time-major [frames][width] sequence (video frames, words) along time and returns it time-major again:
    /// [2^(L+1)][width], as the model's [32][2048] and [32][300] inputs expect.
    /// </summary>
    public static float[] PoolSequence(ReadOnlySpan<float> timeMajor, int frames, int width, int levels)
    {
        var transposed = new float[width * frames];
        for (int t = 0; t < frames; t++)
        {
            for (int c = 0; c < width; c++)
            {
                transposed[c * frames + t] = timeMajor[t * width + c];
            }
        }
        var pooled = Pool(transposed, width, frames, levels);
        int slots = OutputLength(levels);
        var result = new float[slots * width];
        for (int c = 0; c < width; c++)
        {
            for (int s = 0; s < slots; s++)
            {
                result[s * width + c] = pooled[c * slots + s];
            }
        }
        return result;
    }

    /// <summary>Audio: each of the 3 channels of a [3][64][T] log-Mel is pooled with L = 6 -> [3][64][128].</summary>
    public static float[] PoolLogMel(Audio.LogMelSpectrogram logMel) =>
        Pool(logMel.Values, 3 * Audio.LogMelExtractor.Bands, logMel.Frames, AudioLevels);
}
