using System.Globalization;
using System.Text;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Features.Audio;
using FoldCluster.Features.Corpus;
using FoldCluster.Features.Synthesis;
using FoldCluster.Features.Text;
using FoldCluster.Features.Video;

namespace FoldCluster.Features;

/// <summary>What <see cref="SyntheticCorpus.Write"/> produced.</summary>
public sealed record SyntheticCorpusSummary(string Layout, string Root, int Speakers, int Utterances, int FourClass, int Seed, string Word2VecPath);

/// <summary>
/// A generated corpus in the real IEMOCAP or MSP-IMPROV layout and formats (16 kHz PCM WAV, label and transcript files,
/// MPEG-4 AVI video encoded by ffmpeg, a GoogleNews-format Word2Vec binary at &lt;root&gt;/word2vec.bin), read by the same
/// readers as the licensed corpora. It is the data of the local demo and of the tests.
/// <para>
/// The emotion is carried by complementary modalities so that fusing all three beats every pair:
/// the voice carries arousal (angry and happy: high pitch, loud, fast syllables; sad and neutral: low, soft, slow) in
/// <see cref="AudioCueRate"/> of the utterances; the drawn face carries valence (happy and neutral: smile and raised
/// brows; angry and sad: frown and lowered inner brows) in <see cref="VideoCueRate"/>; the words name the class in
/// <see cref="TextCueRate"/> (and mislead in some of the rest). Where a cue is absent the modality shows an in-between,
/// uninformative value. Labels are flipped to another class for <see cref="LabelNoiseRate"/> of the utterances, and
/// <see cref="ExcludedRate"/> carry labels outside the four classes (fru, sur, xxx, oth / O, X). The output depends
/// only on the arguments (one seeded generator; ffmpeg encodes bit-exact).
/// </para>
/// </summary>
public static class SyntheticCorpus
{
    public const double AudioCueRate = 0.75;
    public const double VideoCueRate = 0.75;
    public const double TextCueRate = 0.5;
    public const double LabelNoiseRate = 0.05;
    public const double ExcludedRate = 0.08;
    public const int SampleRate = 16000;
    public const double VideoFps = 5;
    public const int FaceSize = 112;

    private static readonly string[][] CueWords =
    [
        ["furious", "hate", "unfair", "ridiculous", "stupid", "yelling", "enough", "angry", "outrageous", "sick"],
        ["wonderful", "great", "love", "amazing", "excited", "fantastic", "glad", "congratulations", "beautiful", "fun"],
        ["miss", "lonely", "sorry", "lost", "crying", "hurts", "gone", "alone", "funeral", "depressed"],
        ["schedule", "okay", "office", "address", "tomorrow", "paper", "meeting", "form", "number", "station"],
    ];

    private static readonly string[] Fillers =
    [
        "i", "you", "the", "it", "is", "we", "that", "this", "just", "really", "know", "think", "what", "well", "so",
        "and", "to", "a", "about", "there", "was", "going", "right", "now", "me", "my", "your", "here", "don't",
    ];

    /// <summary>Words the generated Word2Vec file leaves out, so the OOV count is exercised.</summary>
    private static readonly string[] OutOfVocabulary = ["um", "uh", "hmm", "mhm"];

    private static readonly string[] IemocapExcluded = ["fru", "fru", "xxx", "sur", "oth"];
    private static readonly string[] IemocapLabels = ["ang", "hap", "sad", "neu"];

    private static readonly (string Lead, string Name)[] DialogTemplates =
    [
        ("F", "impro01"), ("M", "script01_1b"), ("F", "script03_1"), ("F", "impro05a"),
        ("M", "impro02"), ("M", "script02_2"), ("F", "impro04"), ("M", "impro05b"),
    ];

    public static int DefaultSpeakers(string layout) => CorpusReader.NormalizeLayout(layout) == CorpusReader.Iemocap ? 10 : 12;

    public static SyntheticCorpusSummary Write(string layout, string outDir, int speakers, int utterances, int seed) =>
        Write(layout, outDir, speakers, utterances, seed, null);

    public static SyntheticCorpusSummary Write(string layout, string outDir, int speakers, int utterances, int seed, IProgress<string>? progress)
    {
        layout = CorpusReader.NormalizeLayout(layout);
        int maxSpeakers = DefaultSpeakers(layout);
        if (speakers < 2 || speakers > maxSpeakers || speakers % 2 != 0)
        {
            throw new BadInputException($"--speakers {speakers}: expected an even number from 2 to {maxSpeakers} for {layout} (one female and one male actor per session)");
        }
        if (utterances < 8 || utterances > 20000)
        {
            throw new BadInputException($"--utterances {utterances}: expected 8 to 20000");
        }
        var target = Path.GetFullPath(outDir);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new BadInputException($"{target}: output folder exists and is not empty; choose a new folder");
        }
        if (File.Exists(target))
        {
            throw new BadInputException($"{target}: is a file; choose a new folder");
        }
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        // Everything goes to a sibling folder first and is renamed into place at the end: never a half corpus.
        var work = Path.Combine(parent, $".{Path.GetFileName(target)}.partial-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            var rng = new Random(seed);
            var plan = Plan(layout, speakers, utterances, rng);
            WriteWord2Vec(Path.Combine(work, FeatureStore.DefaultWord2VecFile), rng);
            if (layout == CorpusReader.Iemocap)
            {
                WriteIemocap(work, plan, seed, progress);
            }
            else
            {
                WriteMspImprov(work, plan, seed, progress);
            }
            WriteMarker(work, layout, speakers, utterances, seed, plan);
            if (Directory.Exists(target))
            {
                Directory.Delete(target);
            }
            Directory.Move(work, target);
        }
        catch
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // best effort: leave the hidden partial folder rather than hide the original error
            }
            throw;
        }
        return new SyntheticCorpusSummary(layout, target, speakers, utterances, CountUsable(target, layout), seed,
            Path.Combine(target, FeatureStore.DefaultWord2VecFile));
    }

    private static int CountUsable(string root, string layout) => CorpusReader.Read(layout, root).Utterances.Count;

    /// <summary>One generated utterance: what it shows in each modality and how it is labelled.</summary>
    private sealed record Item(
        int Index, int Session, string Gender, int SpeakerIndex, int Latent, string RawLabel, bool AudioCue, bool VideoCue,
        string Transcript, double Duration);

    private static List<Item> Plan(string layout, int speakers, int count, Random rng)
    {
        int sessions = speakers / 2;
        var items = new List<Item>(count);
        for (int i = 0; i < count; i++)
        {
            int latent = rng.Next(4);
            bool excluded = rng.NextDouble() < ExcludedRate;
            string raw;
            if (excluded)
            {
                raw = layout == CorpusReader.Iemocap ? IemocapExcluded[rng.Next(IemocapExcluded.Length)] : (rng.Next(3) == 0 ? "X" : "O");
            }
            else
            {
                int label = rng.NextDouble() < LabelNoiseRate ? (latent + 1 + rng.Next(3)) % 4 : latent;
                raw = layout == CorpusReader.Iemocap
                    ? (label == 1 && rng.Next(2) == 0 ? "exc" : IemocapLabels[label])
                    : "AHSN"[label].ToString();
            }
            bool audioCue = rng.NextDouble() < AudioCueRate;
            bool videoCue = rng.NextDouble() < VideoCueRate;
            bool textCue = rng.NextDouble() < TextCueRate;
            var transcript = Sentence(latent, textCue, rng);
            int session = i % sessions + 1;
            string gender = rng.Next(2) == 0 ? "F" : "M";
            items.Add(new Item(i, session, gender, (session - 1) * 2 + (gender == "F" ? 0 : 1), latent, raw, audioCue, videoCue,
                transcript, 1.5 + rng.NextDouble()));
        }
        return items;
    }

    private static string Sentence(int latent, bool cue, Random rng)
    {
        var words = new List<string>();
        int fillers = 3 + rng.Next(3);
        for (int i = 0; i < fillers; i++)
        {
            words.Add(Fillers[rng.Next(Fillers.Length)]);
        }
        if (cue)
        {
            int n = 1 + rng.Next(2);
            for (int i = 0; i < n; i++)
            {
                words.Insert(rng.Next(words.Count + 1), CueWords[latent][rng.Next(CueWords[latent].Length)]);
            }
        }
        else if (rng.NextDouble() < 0.3)
        {
            int other = rng.Next(4);
            words.Insert(rng.Next(words.Count + 1), CueWords[other][rng.Next(CueWords[other].Length)]);
        }
        if (rng.NextDouble() < 0.25)
        {
            words.Insert(rng.Next(words.Count + 1), OutOfVocabulary[rng.Next(OutOfVocabulary.Length)]);
        }
        var text = string.Join(' ', words);
        text = char.ToUpperInvariant(text[0]) + text[1..];
        text += rng.Next(3) switch { 0 => ".", 1 => "!", _ => "?" };
        if (rng.NextDouble() < 0.1)
        {
            text = "[LAUGHTER] " + text;
        }
        return text;
    }

    private static void WriteWord2Vec(string path, Random rng)
    {
        const int dim = Word2VecReader.ExpectedDimension;
        float[] Gaussian(double scale)
        {
            var v = new float[dim];
            for (int i = 0; i < dim; i++)
            {
                v[i] = (float)(scale * Normal(rng) / Math.Sqrt(dim));
            }
            return v;
        }
        var directions = Enumerable.Range(0, 4).Select(_ => Gaussian(1.0)).ToArray();
        var entries = new List<(string, float[])>();
        for (int c = 0; c < 4; c++)
        {
            foreach (var w in CueWords[c])
            {
                var noise = Gaussian(0.6);
                entries.Add((w, directions[c].Zip(noise, (a, b) => a + b).ToArray()));
            }
        }
        foreach (var w in Fillers.Select(f => f.Replace("'", "", StringComparison.Ordinal)).Distinct())
        {
            entries.Add((w, Gaussian(1.0)));
        }
        // A capitalised duplicate, as GoogleNews has: the exact lower-case entry must win over it.
        entries.Insert(0, ("Great", Gaussian(1.0)));
        Word2VecReader.WriteBinary(path, entries);
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static void WriteMarker(string root, string layout, int speakers, int utterances, int seed, List<Item> plan)
    {
        var marker = new
        {
            generator = "foldcluster corpus synth",
            layout,
            speakers,
            utterances,
            seed,
            word2vec = FeatureStore.DefaultWord2VecFile,
            extraction = new { video_fps = ExtractionOptions.Generated.VideoFps, frame_size = ExtractionOptions.Generated.FrameSize },
            cues = new { audio_arousal = AudioCueRate, video_valence = VideoCueRate, text_class = TextCueRate, label_noise = LabelNoiseRate, excluded = ExcludedRate },
        };
        File.WriteAllText(Path.Combine(root, ExtractionOptions.GeneratedCorpusMarker),
            JsonSerializer.Serialize(marker, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    // ---------------------------------------------------------------- audio

    /// <summary>
    /// A voiced, syllable-modulated harmonic tone. Arousal (angry, happy) = higher pitch, louder, faster syllables and
    /// more harmonics; without the cue, middle values. Each speaker has its own base pitch.
    /// </summary>
    private static float[] Voice(Item item, Random rng)
    {
        bool high = item.Latent is 0 or 1;
        double basePitch = (item.Gender == "F" ? 185 : 105) + 6 * item.SpeakerIndex;
        (double pitch, double amp, double rate, int harmonics) = !item.AudioCue
            ? (1.12, 0.22, 4.5, 10)
            : high ? (1.45, 0.42, 6.5, 14) : (0.85, 0.1, 2.5, 6);
        double Jitter() => 1 + 0.08 * (2 * rng.NextDouble() - 1);
        pitch *= basePitch * Jitter();
        amp *= Jitter();
        rate *= Jitter();
        int n = (int)(item.Duration * SampleRate);
        var samples = new float[n];
        var phases = new double[harmonics];
        double norm = 1.0 / Enumerable.Range(1, harmonics).Sum(h => 1.0 / h);
        double syllablePhase = rng.NextDouble();
        for (int i = 0; i < n; i++)
        {
            double t = (double)i / SampleRate;
            double f0 = pitch * (1 + 0.04 * Math.Sin(2 * Math.PI * 0.8 * t + syllablePhase));
            double sum = 0;
            for (int h = 0; h < harmonics; h++)
            {
                double f = f0 * (h + 1);
                if (f < SampleRate / 2.0)
                {
                    phases[h] += 2 * Math.PI * f / SampleRate;
                    sum += Math.Sin(phases[h]) / (h + 1);
                }
            }
            double syllable = Math.Abs(Math.Sin(Math.PI * (rate * t + syllablePhase)));
            double fade = Math.Min(1, Math.Min(t, item.Duration - t) / 0.03);
            samples[i] = (float)(amp * norm * (0.3 + 0.7 * syllable) * fade * sum + 0.003 * Normal(rng));
        }
        return samples;
    }

    // ---------------------------------------------------------------- video

    private enum Expression
    {
        Rest,
        Positive,
        Negative,
        Flat,
    }

    private static Expression ExpressionOf(Item item) =>
        !item.VideoCue ? Expression.Flat : item.Latent is 1 or 3 ? Expression.Positive : Expression.Negative;

    /// <summary>Draws one actor's face in a FaceSize square at horizontal offset x0.</summary>
    private static void DrawFace(FaceCanvas canvas, int x0, int speakerIndex, Expression expression, bool speaking, int frame, Random rng)
    {
        var s = FaceSize / 112.0;
        byte bg = (byte)(70 + 15 * (speakerIndex % 5));
        canvas.Fill(bg, (byte)(bg + 10), (byte)(bg + 25), x0, x0 + FaceSize);
        double dx = rng.Next(-2, 3) * s, dy = rng.Next(-2, 3) * s;
        double cx = x0 + 56 * s + dx, cy = 58 * s + dy;
        byte skin = (byte)(200 - 12 * (speakerIndex % 4));
        canvas.Ellipse(cx, cy, 36 * s, 44 * s, skin, (byte)(skin * 0.8), (byte)(skin * 0.65));
        canvas.Ellipse(cx - 14 * s, cy - 10 * s, 4.5 * s, 4.5 * s, 30, 30, 40);
        canvas.Ellipse(cx + 14 * s, cy - 10 * s, 4.5 * s, 4.5 * s, 30, 30, 40);
        // Brows: inner ends lowered for negative valence, raised for positive.
        double tilt = expression switch { Expression.Positive => -7, Expression.Negative => 9, _ => 0 } * s;
        double browY = cy - 22 * s;
        canvas.Line(cx - 25 * s, browY, cx - 5 * s, browY + tilt, 5.5 * s, 50, 30, 20);
        canvas.Line(cx + 25 * s, browY, cx + 5 * s, browY + tilt, 5.5 * s, 50, 30, 20);
        // Mouth: corners up (smile) or down (frown); the mouth opens and closes while speaking.
        double curvature = expression switch { Expression.Positive => -14, Expression.Negative => 14, _ => 0 } * s;
        double mouthY = cy + 22 * s;
        if (speaking && frame % 2 == 1)
        {
            canvas.Ellipse(cx, mouthY + curvature * 0.3, 8 * s, 5 * s, 90, 20, 30);
        }
        canvas.Curve(cx, mouthY, 21 * s, curvature, 6 * s, 140, 30, 40);
    }

    // ---------------------------------------------------------------- IEMOCAP

    private static void WriteIemocap(string root, List<Item> plan, int seed, IProgress<string>? progress)
    {
        var bySession = plan.GroupBy(p => p.Session).OrderBy(g => g.Key);
        var dialogs = new List<(int Index, int Session, string Name, List<(Item Item, string Id, double Start, double End)> Turns, double Length)>();
        foreach (var session in bySession)
        {
            var items = session.ToList();
            int dialogCount = Math.Max(1, (int)Math.Round(items.Count / 12.0));
            for (int d = 0; d < dialogCount; d++)
            {
                var (lead, template) = DialogTemplates[d % DialogTemplates.Length];
                var name = $"Ses{session.Key:00}{lead}_{template}" + (d >= DialogTemplates.Length ? $"{d / DialogTemplates.Length}" : "");
                var turns = new List<(Item, string, double, double)>();
                var counters = new Dictionary<string, int> { ["F"] = 0, ["M"] = 0 };
                var dialogRng = new Random(unchecked(seed * 31 + session.Key * 1009 + d));
                double t = 1.0 + dialogRng.NextDouble();
                foreach (var item in items.Where((_, i) => i % dialogCount == d))
                {
                    var id = $"{name}_{item.Gender}{counters[item.Gender]++:000}";
                    double start = Math.Round(t, 4), end = Math.Round(t + item.Duration, 4);
                    turns.Add((item, id, start, end));
                    t = end + 0.3 + 0.5 * dialogRng.NextDouble();
                }
                dialogs.Add((dialogs.Count, session.Key, name, turns, t + 1.0));
            }
        }
        int done = 0;
        Parallel.ForEach(dialogs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, dialog =>
        {
            var sessionDir = Path.Combine(root, $"Session{dialog.Session}");
            var wavDir = Path.Combine(sessionDir, "sentences", "wav", dialog.Name);
            Directory.CreateDirectory(wavDir);
            var rng = new Random(unchecked(seed * 7919 + dialog.Index * 131 + 7));
            foreach (var (item, id, _, _) in dialog.Turns)
            {
                var itemRng = new Random(unchecked(seed * 1_000_003 + item.Index));
                File.WriteAllBytes(Path.Combine(wavDir, id + ".wav"), WavWriter.Pcm16(Voice(item, itemRng), SampleRate));
            }
            WriteEvaluation(Path.Combine(sessionDir, "dialog", "EmoEvaluation", dialog.Name + ".txt"), dialog.Turns, rng);
            WriteTranscriptions(Path.Combine(sessionDir, "dialog", "transcriptions", dialog.Name + ".txt"), dialog.Name, dialog.Turns, rng);
            WriteDialogVideo(Path.Combine(sessionDir, "dialog", "avi", "DivX", dialog.Name + ".avi"), dialog.Turns, dialog.Length, seed);
            progress?.Report($"dialog {Interlocked.Increment(ref done)}/{dialogs.Count} {dialog.Name}");
        });
    }

    private static void WriteEvaluation(string path, List<(Item Item, string Id, double Start, double End)> turns, Random rng)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var sb = new StringBuilder();
        sb.Append("% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n");
        foreach (var (item, id, start, end) in turns)
        {
            var (v, a) = item.Latent switch { 0 => (1.5, 4.0), 1 => (4.0, 3.5), 2 => (1.5, 1.5), _ => (3.0, 2.0) };
            sb.Append(CultureInfo.InvariantCulture, $"[{start:F4} - {end:F4}]\t{id}\t{item.RawLabel}\t[{v:F4}, {a:F4}, {2.5:F4}]\n");
            string[] names = ["Neutral state", "Anger", "Happiness", "Sadness", "Frustration", "Excited"];
            sb.Append(CultureInfo.InvariantCulture, $"C-E1:\t{names[rng.Next(names.Length)]};\t()\n");
            sb.Append(CultureInfo.InvariantCulture, $"C-E2:\t{names[rng.Next(names.Length)]};\t()\n");
            sb.Append(CultureInfo.InvariantCulture, $"A-E3:\tval {rng.Next(1, 6)}; act {rng.Next(1, 6)}; dom  {rng.Next(1, 6)};\t()\n\n");
        }
        File.WriteAllText(path, sb.ToString());
    }

    private static void WriteTranscriptions(string path, string dialog, List<(Item Item, string Id, double Start, double End)> turns, Random rng)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var sb = new StringBuilder();
        foreach (var (item, id, start, end) in turns)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{id} [{start:000.0000}-{end:000.0000}]: {item.Transcript}\n");
            if (rng.NextDouble() < 0.15)
            {
                // An overlap by the other actor: not a labelled utterance, readers skip it.
                var other = item.Gender == "F" ? "M" : "F";
                sb.Append(CultureInfo.InvariantCulture, $"{dialog}_{other}XX0 [{end - 0.4:000.0000}-{end:000.0000}]: [LAUGHTER]\n");
            }
        }
        File.WriteAllText(path, sb.ToString());
    }

    private static void WriteDialogVideo(string path, List<(Item Item, string Id, double Start, double End)> turns, double length, int seed)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        int frames = (int)Math.Ceiling(length * VideoFps);
        var canvas = new FaceCanvas(2 * FaceSize, FaceSize);
        var rng = new Random(unchecked(seed * 17 + frames));
        using var encoder = Ffmpeg.StartEncoder(path, canvas.Width, canvas.Height, VideoFps);
        int speakerF = turns.Count > 0 ? turns[0].Item.SpeakerIndex / 2 * 2 : 0;
        for (int f = 0; f < frames; f++)
        {
            double t = f / VideoFps;
            var active = turns.FirstOrDefault(x => x.Start <= t && t < x.End);
            var activeItem = active.Id is null ? null : active.Item;
            DrawFace(canvas, 0, speakerF, activeItem?.Gender == "F" ? ExpressionOf(activeItem) : Expression.Rest, activeItem?.Gender == "F", f, rng);
            DrawFace(canvas, FaceSize, speakerF + 1, activeItem?.Gender == "M" ? ExpressionOf(activeItem) : Expression.Rest, activeItem?.Gender == "M", f, rng);
            encoder.Write(canvas.Pixels);
        }
        encoder.Finish();
    }

    // ---------------------------------------------------------------- MSP-IMPROV

    private static void WriteMspImprov(string root, List<Item> plan, int seed, IProgress<string>? progress)
    {
        var stems = plan.Select(item =>
        {
            int sentence = item.Index % 20 + 1;
            int take = item.Index / 20 + 1;
            char target = "AHSN"[item.Latent];
            char condition = "PRST"[item.Index % 4];
            var dyad = item.Gender == "F" ? "FM" : "MF";
            return $"S{sentence:00}{target}-{item.Gender}{item.Session:00}-{condition}-{dyad}{take:00}";
        }).ToList();
        var evaluation = new StringBuilder();
        var labelRng = new Random(unchecked(seed * 13 + 5));
        for (int i = 0; i < plan.Count; i++)
        {
            var item = plan[i];
            var (v, a) = item.Latent switch { 0 => (1.6, 4.1), 1 => (4.2, 3.6), 2 => (1.7, 1.6), _ => (3.0, 2.1) };
            evaluation.Append(CultureInfo.InvariantCulture,
                $"UTD-IMPROV-{stems[i]}.avi; {item.RawLabel}; A:{a:F6}; V:{v:F6}; D:{2.8:F6} ; N:{5.0:F6};\n");
            int raters = 3 + labelRng.Next(3);
            string[] names = ["Angry", "Happy", "Sad", "Neutral", "Other"];
            for (int r = 0; r < raters; r++)
            {
                evaluation.Append(CultureInfo.InvariantCulture,
                    $"rater-{labelRng.Next(1, 60):0000}; {names[labelRng.Next(names.Length)]}; A:{labelRng.Next(1, 6):F6}; V:{labelRng.Next(1, 6):F6}; D:{labelRng.Next(1, 6):F6};\n");
            }
            evaluation.Append('\n');
        }
        File.WriteAllText(Path.Combine(root, "Evaluation.txt"), evaluation.ToString());
        int done = 0;
        Parallel.For(0, plan.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, i =>
        {
            var item = plan[i];
            var stem = "MSP-IMPROV-" + stems[i];
            var folder = Path.Combine($"session{item.Session}", stems[i][..4], stems[i].Split('-')[2]);
            var rng = new Random(unchecked(seed * 1_000_003 + item.Index));
            var audioDir = Path.Combine(root, "Audio", folder);
            var videoDir = Path.Combine(root, "Video", folder);
            var textDir = Path.Combine(root, "Transcripts", $"session{item.Session}");
            Directory.CreateDirectory(audioDir);
            Directory.CreateDirectory(videoDir);
            Directory.CreateDirectory(textDir);
            File.WriteAllBytes(Path.Combine(audioDir, stem + ".wav"), WavWriter.Pcm16(Voice(item, rng), SampleRate));
            File.WriteAllText(Path.Combine(textDir, stem + ".txt"), item.Transcript + "\n");
            var canvas = new FaceCanvas(FaceSize, FaceSize);
            int frames = (int)Math.Ceiling(item.Duration * VideoFps);
            using var encoder = Ffmpeg.StartEncoder(Path.Combine(videoDir, stem + ".avi"), FaceSize, FaceSize, VideoFps);
            for (int f = 0; f < frames; f++)
            {
                DrawFace(canvas, 0, item.SpeakerIndex, ExpressionOf(item), true, f, rng);
                encoder.Write(canvas.Pixels);
            }
            encoder.Finish();
            int n = Interlocked.Increment(ref done);
            if (n % 25 == 0 || n == plan.Count)
            {
                progress?.Report($"utterance {n}/{plan.Count}");
            }
        });
    }
}
