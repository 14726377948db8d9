namespace FoldCluster.Features.Audio;

/// <summary>
/// Band-limited resampling by windowed-sinc interpolation (the method of Smith's "digital audio resampling";
/// libsamplerate and sox use the same idea). The low-pass cut-off is 0.95 x the lower of the two Nyquist
/// frequencies, so downsampling removes what would alias; the sinc is windowed by a Kaiser window
/// (beta 8.6, about 90 dB stop-band attenuation) over 24 zero crossings on each side, and tabulated at
/// 256 points per zero crossing with linear interpolation between table points. Output sample n sits at input
/// time n * inRate / outRate; signal edges are treated as zeros. Output length: ceil(L * outRate / inRate).
/// </summary>
public static class Resampler
{
    private const int ZeroCrossings = 24;
    private const int TableDensity = 256;
    private const double Rolloff = 0.95;
    private const double KaiserBeta = 8.6;
    private static readonly double[] Kernel = BuildKernel();

    public static float[] Resample(float[] input, int inRate, int outRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outRate);
        if (inRate == outRate)
        {
            return (float[])input.Clone();
        }
        long outLength = ((long)input.Length * outRate + inRate - 1) / inRate;
        var output = new float[outLength];
        double step = (double)inRate / outRate;
        // Cut-off relative to the input rate's Nyquist; downsampling scales the kernel wider.
        double scale = Rolloff * Math.Min(1.0, (double)outRate / inRate);
        double halfWidth = ZeroCrossings / scale;
        for (long n = 0; n < outLength; n++)
        {
            double t = n * step;
            int first = Math.Max(0, (int)Math.Ceiling(t - halfWidth));
            int last = Math.Min(input.Length - 1, (int)Math.Floor(t + halfWidth));
            double acc = 0;
            for (int k = first; k <= last; k++)
            {
                acc += input[k] * KernelAt(Math.Abs(t - k) * scale);
            }
            output[n] = (float)(acc * scale);
        }
        return output;
    }

    /// <summary>Windowed sinc at u zero crossings from the centre (u >= 0).</summary>
    private static double KernelAt(double u)
    {
        double position = u * TableDensity;
        int index = (int)position;
        if (index >= Kernel.Length - 1)
        {
            return 0;
        }
        double frac = position - index;
        return Kernel[index] + frac * (Kernel[index + 1] - Kernel[index]);
    }

    private static double[] BuildKernel()
    {
        var table = new double[ZeroCrossings * TableDensity + 2];
        double i0Beta = BesselI0(KaiserBeta);
        for (int i = 0; i < table.Length; i++)
        {
            double u = (double)i / TableDensity;
            if (u > ZeroCrossings)
            {
                table[i] = 0;
                continue;
            }
            double sinc = u == 0 ? 1.0 : Math.Sin(Math.PI * u) / (Math.PI * u);
            double r = u / ZeroCrossings;
            double window = BesselI0(KaiserBeta * Math.Sqrt(Math.Max(0, 1 - r * r))) / i0Beta;
            table[i] = sinc * window;
        }
        return table;
    }

    private static double BesselI0(double x)
    {
        double sum = 1, term = 1, half = x / 2;
        for (int k = 1; k < 50; k++)
        {
            term *= half / k;
            double t2 = term * term;
            sum += t2;
            if (t2 < sum * 1e-17)
            {
                break;
            }
        }
        return sum;
    }
}
