using System.Buffers.Binary;
using FoldCluster.Core;
using FoldCluster.Features.Audio;

namespace FoldCluster.Features.Tests;

public class WavReaderTests
{
    internal static byte[] Wav(ushort format, ushort channels, int rate, ushort bits, byte[] data, bool extensible = false)
    {
        int fmtSize = extensible ? 40 : 16;
        var bytes = new byte[12 + 8 + fmtSize + 8 + data.Length];
        var s = bytes.AsSpan();
        "RIFF"u8.CopyTo(s);
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], bytes.Length - 8);
        "WAVE"u8.CopyTo(s[8..]);
        "fmt "u8.CopyTo(s[12..]);
        BinaryPrimitives.WriteInt32LittleEndian(s[16..], fmtSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[20..], extensible ? (ushort)0xFFFE : format);
        BinaryPrimitives.WriteUInt16LittleEndian(s[22..], channels);
        BinaryPrimitives.WriteInt32LittleEndian(s[24..], rate);
        BinaryPrimitives.WriteInt32LittleEndian(s[28..], rate * channels * bits / 8);
        BinaryPrimitives.WriteUInt16LittleEndian(s[32..], (ushort)(channels * bits / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(s[34..], bits);
        if (extensible)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(s[36..], 22);
            BinaryPrimitives.WriteUInt16LittleEndian(s[38..], bits);
            BinaryPrimitives.WriteUInt16LittleEndian(s[44..], format); // sub-format GUID starts with the format code
        }
        int d = 20 + fmtSize;
        "data"u8.CopyTo(s[d..]);
        BinaryPrimitives.WriteInt32LittleEndian(s[(d + 4)..], data.Length);
        data.CopyTo(s[(d + 8)..]);
        return bytes;
    }

    [Fact]
    public void Reads_16_bit_pcm_as_x_over_32768()
    {
        var data = new byte[6];
        BinaryPrimitives.WriteInt16LittleEndian(data, -32768);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(2), 16384);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(4), 32767);
        var s = WavReader.Parse(Wav(1, 1, 16000, 16, data), "a.wav");
        Assert.Equal(16000, s.SampleRate);
        Assert.Equal([-1f, 0.5f, 32767f / 32768f], s.Samples);
    }

    [Fact]
    public void Reads_8_bit_unsigned_pcm_around_128()
    {
        var s = WavReader.Parse(Wav(1, 1, 8000, 8, [0, 128, 192]), "a.wav");
        Assert.Equal([-1f, 0f, 0.5f], s.Samples);
    }

    [Fact]
    public void Reads_24_bit_pcm_with_sign_extension()
    {
        // 0x800000 = -2^23 -> -1; 0x400000 = 2^22 -> 0.5; 0xFFFFFF = -1 -> -2^-23.
        var s = WavReader.Parse(Wav(1, 1, 16000, 24, [0x00, 0x00, 0x80, 0x00, 0x00, 0x40, 0xFF, 0xFF, 0xFF]), "a.wav");
        Assert.Equal([-1f, 0.5f, (float)(-1.0 / 8388608)], s.Samples);
    }

    [Fact]
    public void Reads_32_bit_pcm_and_32_bit_float_including_extensible_headers()
    {
        var ints = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(ints, int.MinValue);
        BinaryPrimitives.WriteInt32LittleEndian(ints.AsSpan(4), 1 << 30);
        Assert.Equal([-1f, 0.5f], WavReader.Parse(Wav(1, 1, 16000, 32, ints, extensible: true), "a.wav").Samples);
        var floats = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(floats, 0.25f);
        BinaryPrimitives.WriteSingleLittleEndian(floats.AsSpan(4), -0.75f);
        Assert.Equal([0.25f, -0.75f], WavReader.Parse(Wav(3, 1, 16000, 32, floats), "a.wav").Samples);
    }

    [Fact]
    public void Averages_stereo_channels_to_mono()
    {
        var data = new byte[8];
        BinaryPrimitives.WriteInt16LittleEndian(data, 16384);            // L 0.5
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(2), -16384); // R -0.5
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(4), 8192);   // L 0.25
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(6), 24576);  // R 0.75
        Assert.Equal([0f, 0.5f], WavReader.Parse(Wav(1, 2, 16000, 16, data), "a.wav").Samples);
    }

    [Fact]
    public void Truncated_data_chunk_is_refused_naming_the_file()
    {
        var bytes = Wav(1, 1, 16000, 16, new byte[100]);
        var e = Assert.Throws<BadInputException>(() => WavReader.Parse(bytes.AsSpan(0, bytes.Length - 10), "broken.wav"));
        Assert.Contains("broken.wav", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Unsupported_encodings_and_non_wav_files_are_refused()
    {
        var adpcm = Assert.Throws<BadInputException>(() => WavReader.Parse(Wav(2, 1, 16000, 4, new byte[10]), "adpcm.wav"));
        Assert.Contains("unsupported WAV encoding", adpcm.Message);
        var float64 = Assert.Throws<BadInputException>(() => WavReader.Parse(Wav(3, 1, 16000, 64, new byte[16]), "f64.wav"));
        Assert.Contains("f64.wav", float64.Message);
        var text = Assert.Throws<BadInputException>(() => WavReader.Parse("hello world, not audio"u8, "notes.wav"));
        Assert.Contains("not a WAV file", text.Message);
    }

    [Fact]
    public void Reads_files_from_disk_and_resamples_other_rates_to_16k()
    {
        var dir = TestFolders.Create();
        var path = Path.Combine(dir, "tone44k.wav");
        var samples = Enumerable.Range(0, 44100).Select(i => (float)(0.5 * Math.Sin(2 * Math.PI * 1000 * i / 44100.0))).ToArray();
        var data = new byte[samples.Length * 4];
        for (int i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), samples[i]);
        }
        File.WriteAllBytes(path, Wav(3, 1, 44100, 32, data));
        var s = WavReader.ReadAt16k(path);
        Assert.Equal(16000, s.SampleRate);
        Assert.Equal(16000, s.Samples.Length);
        for (int i = 1000; i < 15000; i += 37)
        {
            Assert.Equal(0.5 * Math.Sin(2 * Math.PI * 1000 * i / 16000.0), s.Samples[i], 1e-3);
        }
    }
}

public class ResamplerTests
{
    [Fact]
    public void Upsampling_keeps_a_tone_in_band()
    {
        var x = Enumerable.Range(0, 8000).Select(i => (float)Math.Sin(2 * Math.PI * 440 * i / 8000.0)).ToArray();
        var y = Resampler.Resample(x, 8000, 16000);
        Assert.Equal(16000, y.Length);
        for (int i = 2000; i < 14000; i += 53)
        {
            Assert.Equal(Math.Sin(2 * Math.PI * 440 * i / 16000.0), y[i], 1e-3);
        }
    }

    [Fact]
    public void Downsampling_removes_tones_above_the_new_nyquist()
    {
        // 11 kHz at 48 kHz would alias to 5 kHz at 16 kHz without the low-pass.
        var x = Enumerable.Range(0, 48000).Select(i => (float)Math.Sin(2 * Math.PI * 11000 * i / 48000.0)).ToArray();
        var y = Resampler.Resample(x, 48000, 16000);
        Assert.Equal(16000, y.Length);
        double rms = Math.Sqrt(y.Skip(1000).Take(14000).Average(v => (double)v * v));
        Assert.True(rms < 1e-3, $"alias rms {rms}");
    }
}
