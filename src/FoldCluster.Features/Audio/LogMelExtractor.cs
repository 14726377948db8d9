
namespace FoldCluster.Features.Audio;

/// <summary>Log-Mel spectrogram with deltas, flattened [3][64][Frames] (channel: static, delta, delta-delta; band; frame).</summary>
public sealed record LogMelSpectrogram(int Frames, float[] Values)
{
    public float this[int channel, int band, int frame] =>
        Values[(channel * LogMelExtractor.Bands + band) * Frames + frame];
}

/// <summary>
/// The audio front end exactly as DESIGN.md 4.1 fixes it: 25 ms periodic-Hamming frames every 10 ms without
/// centring or padding, 512-point power spectrum, 64 HTK-mel triangles from 20 Hz to 8 kHz without area
/// normalisation, ln(max(E, 1e-10)), and regression deltas over +/-2 frames with clamped edges.
/// <para>
/// FFT: <see cref="RealFft512"/>, a 512-point real FFT in double precision (why not a library FFT: see there), so the
/// numbers agree with a NumPy/librosa double-precision reference to about 1e-12 before the final float32 rounding.
/// The filterbank is applied sparsely (each triangle touches only its own bins: about 500 multiply-adds per frame
/// instead of a dense 257 x 64 product), the window and filter tables are computed once.
/// </para>
/// </summary>
public static class LogMelExtractor
{
    public const int SampleRate = 16000;
    public const int WindowLength = 400;
    public const int Hop = 160;
    public const int FftSize = 512;
    public const int Bins = FftSize / 2 + 1;
    public const int Bands = 64;
    public const double MinHz = 20;
    public const double MaxHz = 8000;
    public const double Floor = 1e-10;

    private static readonly double[] Window = BuildWindow();
    private static readonly MelFilter[] Filters = BuildFilters();

    /// <summary>T = 1 + floor((L - 400) / 160); signals shorter than one window count as one zero-padded frame.</summary>
    public static int FrameCount(int samples) => samples < WindowLength ? 1 : 1 + (samples - WindowLength) / Hop;

    /// <summary>mel(f) = 2595 log10(1 + f / 700) (HTK).</summary>
    public static double HzToMel(double hz) => 2595.0 * Math.Log10(1.0 + hz / 700.0);

    public static double MelToHz(double mel) => 700.0 * (Math.Pow(10.0, mel / 2595.0) - 1.0);

    /// <summary>The 66 filter edge frequencies h_0..h_65 in Hz.</summary>
    public static double[] FilterEdgesHz()
    {
        double lo = HzToMel(MinHz), hi = HzToMel(MaxHz);
        var edges = new double[Bands + 2];
        for (int i = 0; i < edges.Length; i++)
        {
            edges[i] = MelToHz(lo + (hi - lo) * i / (Bands + 1));
        }
        return edges;
    }

    public static LogMelSpectrogram Compute(ReadOnlySpan<float> samples)
    {
        int frames = FrameCount(samples.Length);
        var power = PowerSpectrum(samples, frames);
        var logMel = new double[Bands * frames];
        for (int t = 0; t < frames; t++)
        {
            int row = t * Bins;
            for (int k = 0; k < Bands; k++)
            {
                var filter = Filters[k];
                double energy = 0;
                var weights = filter.Weights;
                int first = row + filter.FirstBin;
                for (int i = 0; i < weights.Length; i++)
                {
                    energy += weights[i] * power[first + i];
                }
                logMel[k * frames + t] = Math.Log(Math.Max(energy, Floor));
            }
        }
        var delta = Delta(logMel, frames);
        var deltaDelta = Delta(delta, frames);
        var values = new float[3 * Bands * frames];
        int plane = Bands * frames;
        for (int i = 0; i < plane; i++)
        {
            values[i] = (float)logMel[i];
            values[plane + i] = (float)delta[i];
            values[2 * plane + i] = (float)deltaDelta[i];
        }
        return new LogMelSpectrogram(frames, values);
    }

    /// <summary>|X_j|^2 of every windowed, zero-padded frame: row-major [frames][257].</summary>
    private static double[] PowerSpectrum(ReadOnlySpan<float> samples, int frames)
    {
        var power = new double[frames * Bins];
        var frame = new double[FftSize];
        var fft = new RealFft512();
        for (int t = 0; t < frames; t++)
        {
            int start = t * Hop;
            int available = Math.Min(WindowLength, samples.Length - start);
            for (int n = 0; n < available; n++)
            {
                frame[n] = samples[start + n] * Window[n];
            }
            frame.AsSpan(available).Clear();
            fft.Power(frame, power.AsSpan(t * Bins, Bins));
        }
        return power;
    }

    /// <summary>d_t = sum_{n=1..2} n (c_{t+n} - c_{t-n}) / 10 with indices clamped to [0, T-1], per band.</summary>
    public static double[] Delta(double[] c, int frames)
    {
        var d = new double[c.Length];
        int bands = c.Length / frames;
        int last = frames - 1;
        for (int k = 0; k < bands; k++)
        {
            int row = k * frames;
            for (int t = 0; t < frames; t++)
            {
                double sum = 0;
                for (int n = 1; n <= 2; n++)
                {
                    sum += n * (c[row + Math.Min(t + n, last)] - c[row + Math.Max(t - n, 0)]);
                }
                d[row + t] = sum / 10.0;
            }
        }
        return d;
    }

    private static double[] BuildWindow()
    {
        var w = new double[WindowLength];
        for (int n = 0; n < WindowLength; n++)
        {
            w[n] = 0.54 - 0.46 * Math.Cos(2 * Math.PI * n / WindowLength);
        }
        return w;
    }

    /// <summary>Dense [64][257] filterbank weights (for tests and documentation; the extractor uses the sparse form).</summary>
    public static double[,] FilterbankMatrix()
    {
        var m = new double[Bands, Bins];
        for (int k = 0; k < Bands; k++)
        {
            var f = Filters[k];
            for (int i = 0; i < f.Weights.Length; i++)
            {
                m[k, f.FirstBin + i] = f.Weights[i];
            }
        }
        return m;
    }

    private static MelFilter[] BuildFilters()
    {
        var h = FilterEdgesHz();
        var filters = new MelFilter[Bands];
        for (int k = 1; k <= Bands; k++)
        {
            var weights = new double[Bins];
            int first = -1, last = -1;
            for (int j = 0; j < Bins; j++)
            {
                double f = j * (double)SampleRate / FftSize;
                double w = 0;
                if (f >= h[k - 1] && f <= h[k])
                {
                    w = (f - h[k - 1]) / (h[k] - h[k - 1]);
                }
                else if (f > h[k] && f <= h[k + 1])
                {
                    w = (h[k + 1] - f) / (h[k + 1] - h[k]);
                }
                weights[j] = w;
                if (w != 0)
                {
                    if (first < 0)
                    {
                        first = j;
                    }
                    last = j;
                }
            }
            filters[k - 1] = first < 0
                ? new MelFilter(0, [])
                : new MelFilter(first, weights[first..(last + 1)]);
        }
        return filters;
    }

    private sealed record MelFilter(int FirstBin, double[] Weights);
}
