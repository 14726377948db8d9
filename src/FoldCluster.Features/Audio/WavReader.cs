using System.Buffers.Binary;
using FoldCluster.Core;

namespace FoldCluster.Features.Audio;

/// <summary>Mono samples in [-1, 1) at a known rate.</summary>
public sealed record AudioSignal(float[] Samples, int SampleRate)
{
    public double Seconds => Samples.Length / (double)SampleRate;
}

/// <summary>
/// RIFF/WAVE reader for the formats DESIGN.md 4.1 accepts: PCM 8/16/24/32-bit integer and 32-bit IEEE float
/// (plain or WAVE_FORMAT_EXTENSIBLE). Channels are averaged to mono; integers are scaled to [-1, 1)
/// (8-bit is unsigned with offset 128; 16-bit x / 32768; 24-bit x / 2^23; 32-bit x / 2^31).
/// Sample rates from 1 kHz to 384 kHz and 1 to 256 channels; header fields are unsigned and reported so.
/// Anything else is a <see cref="BadInputException"/> naming the file.
/// </summary>
public static class WavReader
{
    public const uint MinSampleRate = 1_000;
    public const uint MaxSampleRate = 384_000;
    public const ushort MaxChannels = 256;

    private const ushort FormatPcm = 1;
    private const ushort FormatFloat = 3;
    private const ushort FormatExtensible = 0xFFFE;

    /// <summary>Reads the file and resamples it to 16 kHz when it has another rate.</summary>
    public static AudioSignal ReadAt16k(string path)
    {
        var signal = Read(path);
        return signal.SampleRate == LogMelExtractor.SampleRate
            ? signal
            : new AudioSignal(Resampler.Resample(signal.Samples, signal.SampleRate, LogMelExtractor.SampleRate), LogMelExtractor.SampleRate);
    }

    public static AudioSignal Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{path}: cannot read WAV file: {e.Message}");
        }
        return Parse(bytes, path);
    }

    public static AudioSignal Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 12 || !bytes[..4].SequenceEqual("RIFF"u8) || !bytes.Slice(8, 4).SequenceEqual("WAVE"u8))
        {
            throw new BadInputException($"{name}: not a WAV file (expected a RIFF/WAVE header)");
        }
        long pos = 12;
        ushort format = 0, channels = 0, bits = 0, blockAlign = 0;
        uint rate = 0;
        bool haveFormat = false;
        while (pos + 8 <= bytes.Length)
        {
            var id = bytes.Slice((int)pos, 4);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice((int)pos + 4, 4));
            int body = (int)pos + 8;
            if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16 || body + size > bytes.Length)
                {
                    throw new BadInputException($"{name}: truncated WAV 'fmt ' chunk");
                }
                format = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body, 2));
                channels = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body + 2, 2));
                rate = BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice(body + 4, 4));
                blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body + 12, 2));
                bits = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body + 14, 2));
                if (format == FormatExtensible)
                {
                    if (size < 40)
                    {
                        throw new BadInputException($"{name}: truncated WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk");
                    }
                    // The sub-format GUID starts with the plain format code.
                    format = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body + 24, 2));
                }
                haveFormat = true;
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (!haveFormat)
                {
                    throw new BadInputException($"{name}: WAV 'data' chunk before the 'fmt ' chunk");
                }
                // Streaming writers leave 0 or 0xFFFFFFFF as the size; take what is there. A size past the end is truncation.
                if (size == 0 || size == 0xFFFFFFFF)
                {
                    size = bytes.Length - body;
                }
                else if (body + size > bytes.Length)
                {
                    throw new BadInputException($"{name}: truncated WAV: 'data' chunk declares {size} bytes but only {bytes.Length - body} are present");
                }
                return Decode(bytes.Slice(body, (int)size), format, channels, rate, bits, blockAlign, name);
            }
            pos = body + size + (size & 1); // a long: a chunk size near 4 GiB ends the walk, never wraps it
        }
        throw new BadInputException(haveFormat ? $"{name}: WAV file has no 'data' chunk (truncated?)" : $"{name}: WAV file has no 'fmt ' chunk");
    }

    private static AudioSignal Decode(ReadOnlySpan<byte> data, ushort format, ushort channels, uint rate, ushort bits, ushort blockAlign, string name)
    {
        if (channels is 0 or > MaxChannels)
        {
            throw new BadInputException($"{name}: WAV header has {channels} channels; expected 1 to {MaxChannels}");
        }
        if (rate is < MinSampleRate or > MaxSampleRate)
        {
            // A 1 Hz file would be resampled to 16,000 samples per sample.
            throw new BadInputException($"{name}: WAV sample rate {rate} Hz is outside {MinSampleRate} Hz to {MaxSampleRate} Hz");
        }
        bool supported = (format == FormatPcm && bits is 8 or 16 or 24 or 32) || (format == FormatFloat && bits == 32);
        if (!supported)
        {
            throw new BadInputException(
                $"{name}: unsupported WAV encoding (format code {format}, {bits} bits): expected PCM 8/16/24/32-bit integer or 32-bit float");
        }
        int bytesPerSample = bits / 8;
        int frameBytes = bytesPerSample * channels;
        if (blockAlign != 0 && blockAlign != frameBytes)
        {
            throw new BadInputException($"{name}: WAV block align {blockAlign} does not match {channels} channels x {bits} bits");
        }
        int frames = data.Length / frameBytes;
        var mono = new float[frames];
        double inv = 1.0 / channels;
        for (int f = 0; f < frames; f++)
        {
            var frame = data.Slice(f * frameBytes, frameBytes);
            double sum = 0;
            for (int c = 0; c < channels; c++)
            {
                var s = frame.Slice(c * bytesPerSample, bytesPerSample);
                sum += (format, bits) switch
                {
                    (FormatPcm, 8) => (s[0] - 128) / 128.0,
                    (FormatPcm, 16) => BinaryPrimitives.ReadInt16LittleEndian(s) / 32768.0,
                    (FormatPcm, 24) => ((s[0] | (s[1] << 8) | (s[2] << 16)) << 8 >> 8) / 8388608.0,
                    (FormatPcm, 32) => BinaryPrimitives.ReadInt32LittleEndian(s) / 2147483648.0,
                    _ => BinaryPrimitives.ReadSingleLittleEndian(s),
                };
            }
            mono[f] = (float)(sum * inv);
            if (!float.IsFinite(mono[f]))
            {
                throw new BadInputException($"{name}: WAV sample {f} is not a finite number (32-bit float data holding NaN or infinity)");
            }
        }
        return new AudioSignal(mono, (int)rate);
    }
}

/// <summary>Writes 16-bit PCM mono WAV (the generated corpus and test fixtures).</summary>
public static class WavWriter
{
    public static byte[] Pcm16(ReadOnlySpan<float> samples, int sampleRate)
    {
        var bytes = new byte[44 + samples.Length * 2];
        var span = bytes.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], 36 + samples.Length * 2);
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], sampleRate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], samples.Length * 2);
        for (int i = 0; i < samples.Length; i++)
        {
            var v = (int)Math.Round(samples[i] * 32768.0);
            BinaryPrimitives.WriteInt16LittleEndian(span[(44 + 2 * i)..], (short)Math.Clamp(v, short.MinValue, short.MaxValue));
        }
        return bytes;
    }
}
