using System.Buffers.Binary;
using System.Text;
using FoldCluster.Core;
using FoldCluster.Features.Audio;
using FoldCluster.Features.Corpus;
using FoldCluster.Features.Tests.Fuzz;
using FoldCluster.Features.Text;

namespace FoldCluster.Features.Tests;

/// <summary>Numbers read from files are range-checked: out of range is bad input (or a corpus problem), never a crash or a runaway.</summary>
public sealed class HostileInputTests
{
    private static byte[] Pcm16(uint rate, int samples = 64) => ParserFuzzTests.Wav(1, 1, rate, 16, new byte[samples * 2]);

    [Theory]
    [InlineData(1u, "WAV sample rate 1 Hz is outside 1000 Hz to 384000 Hz")]
    [InlineData(999u, "WAV sample rate 999 Hz is outside 1000 Hz to 384000 Hz")]
    [InlineData(384_001u, "WAV sample rate 384001 Hz is outside 1000 Hz to 384000 Hz")]
    [InlineData(0xFFFFFFFFu, "WAV sample rate 4294967295 Hz is outside 1000 Hz to 384000 Hz")] // unsigned, not -1
    public void Wav_sample_rates_outside_1_kHz_to_384_kHz_are_bad_input(uint rate, string message)
    {
        var error = Assert.Throws<BadInputException>(() => WavReader.Parse(Pcm16(rate), "x.wav"));
        Assert.Equal($"x.wav: {message}", error.Message);
    }

    [Theory]
    [InlineData(1_000u)]
    [InlineData(384_000u)]
    public void Wav_sample_rates_at_the_bounds_are_read(uint rate)
    {
        var signal = WavReader.Parse(Pcm16(rate), "x.wav");
        Assert.Equal((int)rate, signal.SampleRate);
        Assert.Equal(64, signal.Samples.Length);
    }

    [Fact]
    public void Wav_channel_counts_and_chunk_sizes_near_4_GiB_are_bad_input()
    {
        var many = ParserFuzzTests.Wav(1, 300, 16000, 16, new byte[600 * 4]);
        Assert.Equal("x.wav: WAV header has 300 channels; expected 1 to 256",
            Assert.Throws<BadInputException>(() => WavReader.Parse(many, "x.wav")).Message);

        // A chunk before 'data' that claims 4 GiB - 1 bytes: the walk ends, it does not wrap around.
        var bytes = Pcm16(16000).ToList();
        bytes.InsertRange(12, [.. "LIST"u8, 0xFF, 0xFF, 0xFF, 0xFF]);
        var error = Assert.Throws<BadInputException>(() => WavReader.Parse(bytes.ToArray(), "x.wav"));
        Assert.Equal("x.wav: WAV file has no 'fmt ' chunk", error.Message);
    }

    [Fact]
    public void Wav_float_data_holding_nan_is_bad_input()
    {
        var data = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(data, 0.5f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), float.NaN);
        var error = Assert.Throws<BadInputException>(() => WavReader.Parse(ParserFuzzTests.Wav(3, 1, 16000, 32, data), "x.wav"));
        Assert.Contains("WAV sample 1 is not a finite number", error.Message, StringComparison.Ordinal);
    }

    private static BadInputException Word2VecRefused(string text, int dim = 4) =>
        Assert.Throws<BadInputException>(() =>
            Word2VecReader.Load(new MemoryStream(Encoding.UTF8.GetBytes(text)), "w.txt", new HashSet<string> { "a" }, dim));

    [Fact]
    public void Word2vec_header_counts_are_range_checked_against_the_file()
    {
        Assert.Equal("w.txt: line 1: Word2Vec header promises 100000001 words; at most 100000000 are read",
            Word2VecRefused("100000001 4\na 1 2 3 4\n").Message);
        Assert.Equal("w.txt: line 1: Word2Vec header promises 1000 words of dimension 4, but the 10 bytes after it hold at most 2",
            Word2VecRefused("1000 4\na 1 2 3 4\n").Message);
        Assert.Equal("w.txt: line 1: bad Word2Vec header: expected \"<word count> <dimension>\" (positive integers)",
            Word2VecRefused("-1 4\na 1 2 3 4\n").Message);
        Assert.Equal("w.txt: line 1: bad Word2Vec header: expected \"<word count> <dimension>\" (positive integers)",
            Word2VecRefused("1 99999999999\na 1 2 3 4\n").Message);
        Assert.Equal("w.txt: line 1: Word2Vec dimension is 5, expected 4", Word2VecRefused("1 5\na 1 2 3 4 5\n").Message);
    }

    [Fact]
    public void Word2vec_values_must_be_finite_and_lines_bounded()
    {
        Assert.Equal("w.txt: line 2: '1e400' is not a finite number", Word2VecRefused("1 4\na 1 2 3 1e400\n").Message);
        Assert.Equal("w.txt: line 3: Word2Vec text file has more entries than the 1 its header promises",
            Word2VecRefused("1 4\na 1 2 3 4\nb 1 2 3 4\n").Message);
        var longLine = "2 4\na 1 2 3 4\n" + new string('x', 20_000) + "\n";
        Assert.Contains("longer than", Word2VecRefused(longLine).Message, StringComparison.Ordinal);

        var binary = new List<byte>("1 4\na "u8.ToArray());
        foreach (var v in new[] { 1f, float.PositiveInfinity, 0f, 0f })
        {
            binary.AddRange(BitConverter.GetBytes(v));
        }
        var error = Assert.Throws<BadInputException>(() =>
            Word2VecReader.Load(new MemoryStream(binary.ToArray()), "w.bin", new HashSet<string> { "a" }, 4));
        Assert.Equal("w.bin: Word2Vec vector of 'a' (word 1) has a value that is not a finite number", error.Message);
    }

    [Fact]
    public void Iemocap_label_times_out_of_range_or_in_other_scripts_digits_are_problems_not_crashes()
    {
        var entries = new List<CorpusUtterance>();
        var problems = new List<CorpusProblem>();
        IemocapReader.ReadEvaluation(Fuzzing.Lines(
            "[1.0 - 99999999999999999999999999]\tSes01F_impro01_F000\tneu\t[2.5, 2.5, 2.5]\n" +
            "[1.0 - 8\u1095.5]\tSes01F_impro01_F001\tneu\t[2.5, 2.5, 2.5]\n" +
            "[1.0 - 2.0]\tSes01F_impro01_F002\tneu\t[2.5, 2.5, 2.5]\n"),
            "e.txt", "Ses01F_impro01", "Session1", null, null, entries, problems);
        Assert.Equal(["Ses01F_impro01_F002"], entries.Select(e => e.Id));
        Assert.Equal(2, problems.Count);
        Assert.Contains("is outside 0 to 86400 s", problems[0].Message, StringComparison.Ordinal);
        Assert.Contains("label line does not parse", problems[1].Message, StringComparison.Ordinal);
    }
}
