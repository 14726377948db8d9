using System.Buffers.Binary;
using System.Text;
using FoldCluster.Core;
using FoldCluster.Core.Sweeps;
using FoldCluster.Features.Audio;
using FoldCluster.Features.Corpus;
using FoldCluster.Features.Text;
using Xunit.Abstractions;

namespace FoldCluster.Features.Tests.Fuzz;

/// <summary>
/// Property tests over every parser of files that come from outside: random and mutated inputs give a result or a
/// bad-input error, nothing else (see <see cref="Fuzzing"/>). Results are checked for what the parser promises.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class ParserFuzzTests(ITestOutputHelper output)
{
    // ---- WAV ----

    internal static byte[] Wav(ushort format, ushort channels, uint rate, ushort bits, byte[] data, bool extensible = false)
    {
        var fmtSize = extensible ? 40 : 16;
        var bytes = new byte[12 + 8 + fmtSize + 8 + data.Length];
        var span = bytes.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)(bytes.Length - 8));
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], fmtSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[20..], extensible ? (ushort)0xFFFE : format);
        BinaryPrimitives.WriteUInt16LittleEndian(span[22..], channels);
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], rate);
        BinaryPrimitives.WriteUInt32LittleEndian(span[28..], rate * channels * (uint)(bits / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(span[32..], (ushort)(channels * bits / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(span[34..], bits);
        if (extensible)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span[36..], 22);
            BinaryPrimitives.WriteUInt16LittleEndian(span[44..], format);
        }
        var dataAt = 20 + fmtSize;
        "data"u8.CopyTo(span[dataAt..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[(dataAt + 4)..], data.Length);
        data.CopyTo(span[(dataAt + 8)..]);
        return bytes;
    }

    private static byte[] Noise(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }
        return bytes;
    }

    private static readonly byte[][] WavSeeds =
    [
        WavWriter.Pcm16(Enumerable.Range(0, 400).Select(i => (float)Math.Sin(i * 0.05)).ToArray(), 16000),
        WavWriter.Pcm16(Enumerable.Range(0, 200).Select(i => (float)Math.Sin(i * 0.3)).ToArray(), 8000),
        Wav(1, 2, 44100, 16, Noise(800, 1)),
        Wav(1, 1, 22050, 8, Noise(300, 2)),
        Wav(1, 1, 48000, 24, Noise(600, 3)),
        Wav(1, 2, 16000, 32, Noise(800, 4)),
        Wav(3, 1, 16000, 32, Floats(0f, 0.5f, -0.5f, 0.25f, 1f, -1f)),
        Wav(1, 1, 16000, 16, Noise(400, 5), extensible: true),
    ];

    [Fact]
    public void Wav_reader()
    {
        Fuzzing.Run("wav", Fuzzing.Bytes(WavSeeds), bytes =>
        {
            var signal = WavReader.Parse(bytes, "fuzz.wav");
            Assert.InRange(signal.SampleRate, (int)WavReader.MinSampleRate, (int)WavReader.MaxSampleRate);
            Assert.All(signal.Samples, s => Assert.True(float.IsFinite(s)));
            if (signal.SampleRate != LogMelExtractor.SampleRate)
            {
                var resampled = Resampler.Resample(signal.Samples, signal.SampleRate, LogMelExtractor.SampleRate);
                Assert.True(resampled.Length <= (long)signal.Samples.Length * 16 + 16);
            }
        }, output, Fuzzing.Show);
    }

    // ---- Word2Vec ----

    private const int Dimension = 4;

    private static readonly IReadOnlySet<string> Vocabulary = new HashSet<string>(StringComparer.Ordinal) { "hello", "world", "the", "émotion" };

    private static readonly (string, float[])[] Entries =
    [
        ("hello", [0.1f, -0.2f, 0.3f, 0.4f]), ("World", [1f, 2f, 3f, 4f]), ("the", [0f, 0f, 0f, 1e-7f]), ("émotion", [-1f, 0.5f, 0.25f, 8f]),
    ];

    private static byte[] Word2VecFile(bool binary)
    {
        var path = Path.Combine(TestFolders.Create(), binary ? "w.bin" : "w.txt");
        if (binary)
        {
            Word2VecReader.WriteBinary(path, Entries);
        }
        else
        {
            Word2VecReader.WriteText(path, Entries);
        }
        return File.ReadAllBytes(path);
    }

    private static void LoadWord2Vec(byte[] bytes, string name)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        var vectors = Word2VecReader.Load(stream, name, Vocabulary, Dimension);
        Assert.Equal(Dimension, vectors.Dimension);
        Assert.InRange(vectors.FileWords, 1, Word2VecReader.MaxWords);
        Assert.All(vectors.Vectors, kv =>
        {
            Assert.Contains(kv.Key, Vocabulary);
            Assert.Equal(Dimension, kv.Value.Length);
            Assert.All(kv.Value, v => Assert.True(float.IsFinite(v)));
        });
    }

    [Fact]
    public void Word2vec_binary_format()
    {
        Fuzzing.Run("word2vec-binary", Fuzzing.Bytes(Word2VecFile(binary: true)), bytes => LoadWord2Vec(bytes, "fuzz.bin"), output, Fuzzing.Show);
    }

    [Fact]
    public void Word2vec_text_format()
    {
        var seed = Encoding.UTF8.GetString(Word2VecFile(binary: false));
        Fuzzing.Run("word2vec-text", Fuzzing.Text(seed), text => LoadWord2Vec(Encoding.UTF8.GetBytes(text), "fuzz.txt"), output, Fuzzing.Show);
    }

    // ---- IEMOCAP ----

    private const string Dialog = "Ses01F_impro05a";

    private const string Evaluation =
        "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n" +
        "[6.2901 - 8.2357]\tSes01F_impro05a_F000\tneu\t[2.5000, 2.5000, 2.5000]\n" +
        "C-E1:\tNeutral state;\t()\nC-E3:\tNeutral state;\t()\nA-E3:\tval 3; act 2; dom  2;\t()\n\n" +
        "[10.0100 - 11.5000]\tSes01F_impro05a_M000\texc\t[3.5000, 3.5000, 3.0000]\n" +
        "C-E2:\tExcited;\t()\n\n" +
        "[12.0000 - 13.0000]\tSes01F_impro05a_F001\tfru\t[2.0000, 3.0000, 3.0000]\n\n" +
        "[13.5000 - 14.0000]\tSes01F_impro05a_M001\txxx\t[2.0000, 3.0000, 3.0000]\n\n";

    private const string Transcription =
        "Ses01F_impro05a_F000 [006.2901-008.2357]: Excuse me.\n" +
        "Ses01F_impro05a_MXX0 [007.0000-007.5000]: [LAUGHTER]\n" +
        "Ses01F_impro05a_M000 [010.0100-011.5000]: Oh, that's great!\n" +
        "Ses01F_impro05a_F001 [012.0000-013.0000]: Whatever.\n";

    [Fact]
    public void Iemocap_emoevaluation_parser()
    {
        Fuzzing.Run("iemocap-emoevaluation", Fuzzing.Text(Evaluation), text =>
        {
            var entries = new List<CorpusUtterance>();
            var problems = new List<CorpusProblem>();
            IemocapReader.ReadEvaluation(Fuzzing.Lines(text), "fuzz.txt", Dialog, "Session1", null, null, entries, problems);
            Assert.All(entries, u =>
            {
                Assert.StartsWith(Dialog + "_", u.Id, StringComparison.Ordinal);
                Assert.True(u.Start >= 0 && u.End > u.Start && u.End <= CorpusText.MaxSeconds);
                Assert.InRange(u.LabelLine, 1, int.MaxValue);
            });
            Assert.All(problems, p => Assert.False(string.IsNullOrWhiteSpace(p.Message)));
        }, output, Fuzzing.Show);
    }

    [Fact]
    public void Iemocap_transcription_parser()
    {
        Fuzzing.Run("iemocap-transcription", Fuzzing.Text(Transcription), text =>
        {
            var problems = new List<CorpusProblem>();
            var words = IemocapReader.ParseTranscripts(Fuzzing.Lines(text), "fuzz.txt", Dialog, problems);
            Assert.All(words, kv => Assert.False(string.IsNullOrEmpty(kv.Key)));
        }, output, Fuzzing.Show);
    }

    // ---- MSP-IMPROV ----

    private const string MspLabels =
        "UTD-IMPROV-S01A-F01-P-FM01.avi; A; A:4.000000; V:1.400000; D:4.000000 ; N:5.000000;\n" +
        "rater-0001; Angry; A:4.000000; V:1.000000; D:4.000000;\n\n" +
        "UTD-IMPROV-S02H-M01-R-MF02.avi; H; A:3.000000; V:4.200000; D:3.000000 ; N:5.000000;\n\n" +
        "UTD-IMPROV-S03N-F02-S-FM03.avi; O; A:3.000000; V:3.000000; D:3.000000 ; N:5.000000;\n\n" +
        "UTD-IMPROV-S06N-M02-P-MF06.avi; N; A:2.000000; V:3.000000; D:3.000000 ; N:5.000000;\n";

    [Fact]
    public void Msp_improv_label_parser()
    {
        var media = new Dictionary<string, string>(StringComparer.Ordinal);
        Fuzzing.Run("msp-improv-labels", Fuzzing.Text(MspLabels), text =>
        {
            var index = MspImprovReader.ParseLabels(Fuzzing.Lines(text), "root", "Evaluation.txt", media);
            Assert.All(index.Entries, u => Assert.StartsWith("MSP-IMPROV-S", u.Id, StringComparison.Ordinal));
            Assert.Equal(index.Entries.Count, index.Entries.Select(u => u.Id).Distinct().Count());
        }, output, Fuzzing.Show);
    }

    // ---- sweep specs ----

    private const string MinimalSpec = """
        name: mine
        datasets:
          - name: iemocap
            layout: iemocap
            root: corpora/IEMOCAP_full_release
            extractor: resnet50
            weights: weights/resnet50.pt
            options: {frame_size: 112}
        methods: [cmha, concat]
        modalities: [AVT, AT, A]
        pretraining: [with, np]
        folds: [0, 1, 2]
        seeds: [1, 2]
        split: utterance
        profile: tiny
        training: {epochs: 3}
        exclusions:
          - {method: concat, modalities: [AT]}
        max_attempts: 3
        max_jobs: 500
        """;

    [Fact]
    public void Sweep_spec_parser()
    {
        var seeds = new[] { MinimalSpec, SweepPresets.Yaml("smoke"), SweepPresets.Yaml("paper-table2") };
        Fuzzing.Run("sweep-spec", Fuzzing.Text(seeds), text =>
        {
            var spec = SweepSpecParser.Parse(text, "fuzz.yaml");
            Assert.InRange(spec.GridSize(), 1, spec.MaxJobs);
            var jobs = spec.Expand();
            Assert.InRange(jobs.Count, 1, spec.MaxJobs);
            // What the database stores reads back as the same spec.
            Assert.Equal(spec.Hash(), SweepSpecParser.Parse(spec.ToYaml(), "stored").Hash());
        }, output, Fuzzing.Show, ciCases: 2000);
    }
}
