using System.Numerics;
using FoldCluster.Features.Audio;
using MathNet.Numerics.IntegralTransforms;

namespace FoldCluster.Features.Tests;

public class LogMelTests
{
    [Theory]
    [InlineData(400, 1)]
    [InlineData(559, 1)]
    [InlineData(560, 2)]
    [InlineData(16000, 98)]
    [InlineData(100, 1)]
    [InlineData(0, 1)]
    public void Frame_count_is_one_plus_floor_of_length_minus_400_over_160(int samples, int frames)
    {
        Assert.Equal(frames, LogMelExtractor.FrameCount(samples));
        var logMel = LogMelExtractor.Compute(new float[samples]);
        Assert.Equal(frames, logMel.Frames);
        Assert.Equal(3 * 64 * frames, logMel.Values.Length);
    }

    [Fact]
    public void Silence_gives_ln_1e_minus_10_and_zero_deltas()
    {
        var logMel = LogMelExtractor.Compute(new float[8000]);
        float floor = (float)Math.Log(1e-10);
        for (int b = 0; b < 64; b++)
        {
            for (int t = 0; t < logMel.Frames; t++)
            {
                Assert.Equal(floor, logMel[0, b, t]);
                Assert.Equal(0f, logMel[1, b, t]);
                Assert.Equal(0f, logMel[2, b, t]);
            }
        }
    }

    [Fact]
    public void Filter_edges_run_from_20_hz_to_8000_hz_equally_spaced_in_htk_mel()
    {
        var h = LogMelExtractor.FilterEdgesHz();
        Assert.Equal(66, h.Length);
        Assert.Equal(20, h[0], 9);
        Assert.Equal(8000, h[65], 6);
        // 2595 log10(1 + f / 700), computed here independently.
        double Mel(double f) => 2595 * Math.Log10(1 + f / 700);
        double step = (Mel(8000) - Mel(20)) / 65;
        for (int i = 1; i < 66; i++)
        {
            Assert.Equal(step, Mel(h[i]) - Mel(h[i - 1]), 6);
        }
    }

    [Theory]
    [InlineData(440.0)]
    [InlineData(1000.0)]
    [InlineData(3000.0)]
    public void Pure_tone_energy_peaks_in_the_band_centred_nearest_its_frequency(double hz)
    {
        var samples = new float[16000];
        for (int i = 0; i < samples.Length; i++)
        {
            samples[i] = (float)(0.5 * Math.Sin(2 * Math.PI * hz * i / 16000));
        }
        var logMel = LogMelExtractor.Compute(samples);
        var h = LogMelExtractor.FilterEdgesHz();
        // Band k (0-based) peaks at h[k + 1]; the tone must land in a band whose triangle contains it, the nearest centre.
        int expected = Enumerable.Range(0, 64).MinBy(k => Math.Abs(h[k + 1] - hz));
        int t = logMel.Frames / 2;
        int best = Enumerable.Range(0, 64).MaxBy(k => logMel[0, k, t]);
        Assert.InRange(best, expected - 1, expected + 1);
        Assert.True(h[best] <= hz && hz <= h[best + 2], $"band {best} [{h[best]}, {h[best + 2]}] does not contain {hz} Hz");
        // Far bands see only window leakage: many orders of magnitude less energy.
        Assert.True(logMel[0, best, t] - logMel[0, 63, t] > 10);
    }

    [Fact]
    public void Tone_energy_matches_a_direct_dft_of_the_windowed_frame()
    {
        var rng = new Random(3);
        var samples = Enumerable.Range(0, 1200).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var logMel = LogMelExtractor.Compute(samples);
        // Frame 2 by the definition: samples [320, 720), periodic Hamming, 512-point DFT, triangles, ln.
        var power = new double[257];
        for (int j = 0; j < 257; j++)
        {
            Complex sum = 0;
            for (int n = 0; n < 400; n++)
            {
                double w = 0.54 - 0.46 * Math.Cos(2 * Math.PI * n / 400);
                sum += samples[320 + n] * w * Complex.Exp(new Complex(0, -2 * Math.PI * j * n / 512));
            }
            power[j] = sum.Magnitude * sum.Magnitude;
        }
        var h = LogMelExtractor.FilterEdgesHz();
        for (int k = 1; k <= 64; k++)
        {
            double e = 0;
            for (int j = 0; j < 257; j++)
            {
                double f = j * 16000.0 / 512;
                double w = f >= h[k - 1] && f <= h[k] ? (f - h[k - 1]) / (h[k] - h[k - 1])
                    : f > h[k] && f <= h[k + 1] ? (h[k + 1] - f) / (h[k + 1] - h[k]) : 0;
                e += w * power[j];
            }
            Assert.Equal((float)Math.Log(Math.Max(e, 1e-10)), logMel[0, k - 1, 2], 4);
        }
    }

    [Fact]
    public void Real_fft_agrees_with_mathnet()
    {
        var rng = new Random(5);
        var frame = Enumerable.Range(0, 512).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var power = new double[257];
        new RealFft512().Power(frame, power);
        var reference = new double[514];
        frame.CopyTo(reference, 0);
        Fourier.ForwardReal(reference, 512, FourierOptions.NoScaling);
        for (int j = 0; j < 257; j++)
        {
            double p = reference[2 * j] * reference[2 * j] + reference[2 * j + 1] * reference[2 * j + 1];
            Assert.Equal(p, power[j], 9);
        }
    }

    [Fact]
    public void Delta_of_a_linear_ramp_is_its_slope_away_from_the_clamped_edges()
    {
        const int frames = 10;
        var ramp = Enumerable.Range(0, frames).Select(t => 3.0 + 0.5 * t).ToArray();
        var d = LogMelExtractor.Delta(ramp, frames);
        for (int t = 2; t < frames - 2; t++)
        {
            Assert.Equal(0.5, d[t], 12);
        }
        // Edges by hand: t = 0 sees c_{-1} = c_{-2} = c_0: (1 (c1 - c0) + 2 (c2 - c0)) / 10 = (0.5 + 2) / 10.
        Assert.Equal(0.25, d[0], 12);
        // t = 1: (1 (c2 - c0) + 2 (c3 - c0)) / 10 = (1 + 3) / 10.
        Assert.Equal(0.4, d[1], 12);
        Assert.Equal(0.25, d[frames - 1], 12);
        // Delta-delta of a ramp: zero in the middle.
        var dd = LogMelExtractor.Delta(d, frames);
        Assert.Equal(0, dd[frames / 2], 12);
    }

    [Fact]
    public void Deltas_in_the_spectrogram_are_the_operator_applied_to_the_static_channel()
    {
        var rng = new Random(9);
        var samples = Enumerable.Range(0, 4000).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var m = LogMelExtractor.Compute(samples);
        int T = m.Frames;
        for (int b = 0; b < 64; b += 9)
        {
            for (int t = 0; t < T; t++)
            {
                double expected = 0;
                for (int n = 1; n <= 2; n++)
                {
                    expected += n * (m[0, b, Math.Min(t + n, T - 1)] - m[0, b, Math.Max(t - n, 0)]);
                }
                Assert.Equal(expected / 10, m[1, b, t], 3);
            }
        }
    }
}

public class LtppTests
{
    [Fact]
    public void Pools_regions_with_floor_and_ceil_bounds_then_the_global_max()
    {
        // L = 1: levels 1 and 2 of [1, 2, 3]: mean 2; [0, 2) -> 1.5; [1, 3) -> 2.5; max 3.
        var pooled = Ltpp.Pool([1f, 2f, 3f], 1, 3, 1);
        Assert.Equal([2f, 1.5f, 2.5f, 3f], pooled);
    }

    [Fact]
    public void Shorter_input_is_zero_padded_to_two_to_the_l_and_the_max_ignores_the_padding()
    {
        // L = 2, T = 3 < 4: X' = [-1, -2, -3, 0]. Levels: 1 -> -1.5; 2 -> -1.5, -1.5; 4 -> -1, -2, -3, 0; max over [-1, -2, -3] = -1.
        var pooled = Ltpp.Pool([-1f, -2f, -3f], 1, 3, 2);
        Assert.Equal([-1.5f, -1.5f, -1.5f, -1f, -2f, -3f, 0f, -1f], pooled);
    }

    [Fact]
    public void Audio_output_is_3_by_64_by_128_and_rows_are_pooled_independently()
    {
        var values = new float[3 * 64 * 200];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = i / 200; // row r is constant r
        }
        var pooled = Ltpp.PoolLogMel(new LogMelSpectrogram(200, values));
        Assert.Equal(3 * 64 * 128, pooled.Length);
        for (int row = 0; row < 3 * 64; row += 37)
        {
            Assert.All(pooled.Skip(row * 128).Take(128), v => Assert.Equal(row, v));
        }
    }

    [Fact]
    public void Seven_frames_at_level_four_use_overlapping_regions()
    {
        // T = 7, L = 2 (T >= 4): level 4 region i covers [floor(7i/4), ceil(7(i+1)/4)) = [0,2), [1,4), [3,6), [5,7).
        float[] x = [0, 1, 2, 3, 4, 5, 6];
        var pooled = Ltpp.Pool(x, 1, 7, 2);
        Assert.Equal(3f, pooled[0]);
        Assert.Equal(1.5f, pooled[1]); // [0, 4)
        Assert.Equal(4.5f, pooled[2]); // [3, 7)
        Assert.Equal([0.5f, 2f, 4f, 5.5f], pooled[3..7]);
        Assert.Equal(6f, pooled[7]);
    }

    [Fact]
    public void Sequences_are_pooled_along_time_and_returned_time_major()
    {
        // 3 frames x 2 features, L = 4 -> [32][2].
        float[] timeMajor = [1, 10, 2, 20, 3, 30];
        var pooled = Ltpp.PoolSequence(timeMajor, 3, 2, 4);
        Assert.Equal(64, pooled.Length);
        var feature0 = Ltpp.Pool([1f, 2f, 3f], 1, 3, 4);
        var feature1 = Ltpp.Pool([10f, 20f, 30f], 1, 3, 4);
        for (int s = 0; s < 32; s++)
        {
            Assert.Equal(feature0[s], pooled[s * 2]);
            Assert.Equal(feature1[s], pooled[s * 2 + 1]);
        }
        Assert.Equal(6f / 16, pooled[0]); // level 1: [1, 2, 3] zero-padded to 16 frames
        Assert.Equal(3f, pooled[31 * 2]); // global max over the 3 real frames
    }
}
