using FoldCluster.Core;
using FoldCluster.Features.Cache;
using FoldCluster.Features.Corpus;

namespace FoldCluster.Features.Tests;

/// <summary>One small generated IEMOCAP corpus shared by the store tests (generation costs a few seconds).</summary>
public sealed class GeneratedIemocapFixture
{
    public GeneratedIemocapFixture()
    {
        Root = Path.Combine(TestFolders.Create(), "iemocap");
        Summary = SyntheticCorpus.Write("iemocap", Root, speakers: 4, utterances: 40, seed: 7);
    }

    public string Root { get; }
    public SyntheticCorpusSummary Summary { get; }

    /// <summary>Small frames and a low rate keep the tests fast; the numbers are still the real pipeline's.</summary>
    public static ExtractionOptions Options { get; } = new(VideoFps: 2, FrameSize: 64);

    public DatasetSource Source(string name = "gen", string? root = null) =>
        new(name, "iemocap", root ?? Root, null, "resnet50", null, AllowRandomWeights: true);
}

public class FeatureStoreTests(GeneratedIemocapFixture corpus) : IClassFixture<GeneratedIemocapFixture>
{
    [Fact]
    public void Generated_corpus_round_trips_through_inspect_extract_and_load()
    {
        var index = CorpusReader.Read("iemocap", corpus.Root);
        Assert.Empty(index.Problems);
        Assert.Equal(40, index.Entries.Count);
        Assert.Equal(corpus.Summary.FourClass, index.Utterances.Count);
        Assert.Equal(4, index.BySpeaker.Count);
        Assert.Equal(new MissingCounts(0, 0, 0), index.Missing);

        var cache = TestFolders.Create();
        var (features, report) = FeatureStore.LoadOrExtract(corpus.Source(), GeneratedIemocapFixture.Options, cache, null, CancellationToken.None);
        Assert.Equal(index.Utterances.Count, features.Utterances.Count);
        Assert.Equal("resnet50-random", features.Extractor);
        Assert.Equal(2048, features.VideoWidth);
        Assert.All(features.Utterances, u =>
        {
            Assert.Equal(FeatureSet.AudioLength, u.Audio!.Length);
            Assert.Equal(FeatureSet.SequenceLength * 2048, u.Video!.Length);
            Assert.Equal(FeatureSet.TextLength, u.Text!.Length);
            Assert.All(u.Video, v => Assert.True(float.IsFinite(v)));
        });
        Assert.Equal(features.Utterances.Count, report.Extracted);
        Assert.Equal(0, report.FromCache);
        Assert.Empty(report.Skipped);
        Assert.True(report.Tokens > 0);
        Assert.InRange(report.OovRate, 0.0, 0.5);
        Assert.True(File.Exists(FeatureStore.ReportPath(cache, "gen")));

        var (again, second) = FeatureStore.LoadOrExtract(corpus.Source(), GeneratedIemocapFixture.Options, cache, null, CancellationToken.None);
        Assert.Equal(0, second.Extracted);
        Assert.Equal(features.Utterances.Count, second.FromCache);
        Assert.Equal(report.OovTokens, second.OovTokens);

        var loaded = FeatureStore.Load(cache, "gen");
        Assert.Equal(features.Utterances.Select(u => u.UtteranceId), loaded.Utterances.Select(u => u.UtteranceId));
        for (int i = 0; i < features.Utterances.Count; i++)
        {
            Assert.Equal(features.Utterances[i].Label, loaded.Utterances[i].Label);
            Assert.Equal(features.Utterances[i].Speaker, loaded.Utterances[i].Speaker);
            Assert.Equal(features.Utterances[i].Audio, loaded.Utterances[i].Audio);
            Assert.Equal(features.Utterances[i].Video, again.Utterances[i].Video);
            Assert.Equal(features.Utterances[i].Text, loaded.Utterances[i].Text);
        }
        Assert.Equal("resnet50-random", FeatureStore.Load(cache, "gen", "resnet50-random").Extractor);
    }

    [Fact]
    public void The_trainer_entry_point_uses_the_generated_corpus_settings_and_its_word2vec()
    {
        Assert.Equal(ExtractionOptions.Generated, ExtractionOptions.DefaultFor(corpus.Root));
        Assert.Equal(ExtractionOptions.Paper, ExtractionOptions.DefaultFor(CorpusFixtures.Iemocap()));
        Assert.Equal(new ExtractionOptions(2, 112), ExtractionOptions.Generated);
        var cache = TestFolders.Create();
        var messages = new List<string>();
        var features = FeatureStore.LoadOrExtract(corpus.Source("trainer"), cache, new SyncMessages(messages.Add), CancellationToken.None);
        Assert.Equal(CorpusReader.Read("iemocap", corpus.Root).Utterances.Count, features.Utterances.Count);
        Assert.Equal("trainer", features.Dataset);
        Assert.Contains(messages, m => m.Contains("word2vec.bin", StringComparison.Ordinal));
        var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(FeatureStore.ReportPath(cache, "trainer")));
        Assert.Equal("fps=2;size=112;crop=F=Left,M=Right", report.RootElement.GetProperty("settings").GetString());
    }

    private sealed class SyncMessages(Action<string> handler) : IProgress<string>
    {
        public void Report(string value) => handler(value);
    }

    [Fact]
    public void Corrupt_and_truncated_entries_are_detected_and_recomputed()
    {
        var cache = TestFolders.Create();
        var (first, _) = FeatureStore.LoadOrExtract(corpus.Source(), GeneratedIemocapFixture.Options, cache, null, CancellationToken.None);
        var entries = Directory.GetFiles(Path.Combine(cache, "entries"), "*.fcf", SearchOption.AllDirectories).Order().ToArray();
        var flipped = File.ReadAllBytes(entries[0]);
        flipped[flipped.Length / 2] ^= 0x40;
        File.WriteAllBytes(entries[0], flipped);
        var whole = File.ReadAllBytes(entries[1]);
        File.WriteAllBytes(entries[1], whole[..(whole.Length - 100)]);

        Assert.Throws<BadInputException>(() => FeatureStore.Load(cache, "gen"));
        var (second, report) = FeatureStore.LoadOrExtract(corpus.Source(), GeneratedIemocapFixture.Options, cache, null, CancellationToken.None);
        Assert.Equal(2, report.CorruptRecomputed);
        Assert.Equal(2, report.Extracted);
        Assert.Equal(first.Utterances.Count - 2, report.FromCache);
        for (int i = 0; i < first.Utterances.Count; i++)
        {
            Assert.Equal(first.Utterances[i].Audio, second.Utterances[i].Audio);
            Assert.Equal(first.Utterances[i].Video, second.Utterances[i].Video);
        }
        Assert.Equal(first.Utterances.Count, FeatureStore.Load(cache, "gen").Utterances.Count);
    }

    [Fact]
    public void Two_threads_extracting_the_same_dataset_extract_each_utterance_once()
    {
        var cache = TestFolders.Create();
        var results = new (FeatureSet Features, ExtractionReport Report)[2];
        var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
            results[i] = FeatureStore.LoadOrExtract(corpus.Source(), GeneratedIemocapFixture.Options, cache, null, CancellationToken.None))).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        int n = results[0].Features.Utterances.Count;
        Assert.Equal(n, results[1].Features.Utterances.Count);
        Assert.Equal(n, results[0].Report.Extracted + results[1].Report.Extracted);
        Assert.Equal(n, Directory.GetFiles(Path.Combine(cache, "entries"), "*.fcf", SearchOption.AllDirectories).Length);
        Assert.Empty(Directory.GetFiles(Path.Combine(cache, "entries"), "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task An_extraction_waits_while_another_process_holds_the_dataset_lock()
    {
        var cache = TestFolders.Create();
        var lockFile = Path.Combine(cache, "locks", "gen.lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        // util-linux flock takes the same advisory lock (flock(2)) that .NET takes for FileShare.None.
        using var holder = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("flock", [lockFile, "-c", "read line"])
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
        })!;
        var messages = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var progress = new SyncProgress(p => messages.Enqueue(p.Message));
        await Task.Delay(300); // let flock take the lock before the extraction asks for it
        var run = Task.Run(() => FeatureStore.LoadOrExtract(corpus.Source(), GeneratedIemocapFixture.Options, cache, progress, CancellationToken.None));
        SpinWait.SpinUntil(() => messages.Any(m => m.StartsWith("waiting for another extraction", StringComparison.Ordinal)), TimeSpan.FromSeconds(60));
        Assert.Contains(messages, m => m.StartsWith("waiting for another extraction", StringComparison.Ordinal));
        Assert.False(run.IsCompleted);
        Assert.False(Directory.Exists(Path.Combine(cache, "entries")));
        holder.StandardInput.WriteLine("release");
        await holder.WaitForExitAsync();
        var (features, report) = await run;
        Assert.Equal(features.Utterances.Count, report.Extracted);
    }

    private sealed class SyncProgress(Action<ExtractionProgress> handler) : IProgress<ExtractionProgress>
    {
        public void Report(ExtractionProgress value) => handler(value);
    }

    [Fact]
    public void Different_settings_are_different_cache_entries()
    {
        var cache = TestFolders.Create();
        FeatureStore.LoadOrExtract(corpus.Source(), GeneratedIemocapFixture.Options, cache, null, CancellationToken.None);
        var (_, other) = FeatureStore.LoadOrExtract(corpus.Source(), GeneratedIemocapFixture.Options with { VideoFps = 1 }, cache, null, CancellationToken.None);
        Assert.Equal(0, other.FromCache);
    }

    [Fact]
    public void Broken_inputs_skip_their_utterance_with_the_file_and_reason_and_a_missing_input_is_left_empty()
    {
        var root = Path.Combine(TestFolders.Create(), "copy");
        CopyDirectory(corpus.Root, root);
        var index = CorpusReader.Read("iemocap", root);
        var badWav = index.Utterances[0];
        File.WriteAllBytes(badWav.AudioPath!, File.ReadAllBytes(badWav.AudioPath!)[..60]);
        // Move one utterance past the end of its dialog's video (labels say 500 s, the video is much shorter).
        var late = index.Utterances.Last(u => u.Group != badWav.Group);
        var text = File.ReadAllText(late.LabelFile);
        File.WriteAllText(late.LabelFile, text.Replace(
            $"[{late.Start:F4} - {late.End:F4}]\t{late.Id}", $"[500.0000 - 501.5000]\t{late.Id}", StringComparison.Ordinal));

        var noWav = index.Utterances.First(u => u.Id != badWav.Id && u.Id != late.Id);
        File.Delete(noWav.AudioPath!);

        var (features, report) = FeatureStore.LoadOrExtract(corpus.Source("broken", root), GeneratedIemocapFixture.Options, TestFolders.Create(), null, CancellationToken.None);
        // The utterance without its WAV keeps its video and words; the two with unreadable inputs are left out.
        Assert.Equal(index.Utterances.Count - 2, features.Utterances.Count);
        Assert.Equal(1, report.Missing.Audio);
        Assert.Equal(new ModalityCounts(features.Utterances.Count - 1, features.Utterances.Count, features.Utterances.Count), report.Modalities);
        var noAudio = features.Utterances.Single(u => u.UtteranceId == noWav.Id);
        Assert.Null(noAudio.Audio);
        Assert.Equal(FeatureSet.SequenceLength * 2048, noAudio.Video!.Length);
        Assert.Equal(FeatureSet.TextLength, noAudio.Text!.Length);
        Assert.DoesNotContain(report.Skipped, s => s.Utterance == noWav.Id);
        var wav = report.Skipped.Single(s => s.Utterance == badWav.Id);
        Assert.Equal(badWav.AudioPath, wav.File);
        Assert.Contains("truncated", wav.Reason);
        var video = report.Skipped.Single(s => s.Utterance == late.Id);
        Assert.EndsWith(".avi", video.File);
        Assert.Contains("shorter than the utterance's range", video.Reason);
    }

    [Fact]
    public void A_copy_without_videos_extracts_audio_and_text_and_the_utterance_set_leaves_out_what_a_sweep_cannot_use()
    {
        var root = Path.Combine(TestFolders.Create(), "no-video");
        CopyDirectory(corpus.Root, root);
        var dialogs = Directory.GetFiles(root, "*.avi", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        foreach (var video in dialogs)
        {
            File.Delete(video);
        }
        var cache = TestFolders.Create();
        var (features, report) = FeatureStore.LoadOrExtract(corpus.Source("no-video", root), GeneratedIemocapFixture.Options, cache, null, CancellationToken.None);
        var labelled = CorpusReader.Read("iemocap", root).Utterances.Count;
        Assert.Equal(labelled, features.Utterances.Count);
        Assert.Equal(new ModalityCounts(labelled, 0, labelled), report.Modalities);
        Assert.Empty(report.Skipped);
        Assert.All(features.Utterances, u =>
        {
            Assert.Equal(FeatureSet.AudioLength, u.Audio!.Length);
            Assert.Null(u.Video);
            Assert.Equal(FeatureSet.TextLength, u.Text!.Length);
        });
        Assert.Matches("^[0-9a-f]{64}$", report.CacheKey);
        // The manifest gives the same: absent video loads as null.
        Assert.All(FeatureStore.Load(cache, "no-video").Utterances, u => Assert.Null(u.Video));

        var at = UtteranceSet.Select(features, report, ModalitySet.Parse("AT"));
        Assert.Equal(labelled, at.Features.Utterances.Count);
        Assert.Empty(at.LeftOut);
        var avt = UtteranceSet.Select(features, report, ModalitySet.Parse("AVT"));
        Assert.Empty(avt.Features.Utterances);
        Assert.Equal(new Dictionary<string, int> { ["no video"] = labelled }, avt.LeftOut);
        Assert.Equal("no audio and text", UtteranceSet.Reason(Modality.Audio | Modality.Video | Modality.Text, Modality.Video));
        Assert.Null(UtteranceSet.Reason(Modality.Audio, Modality.Audio | Modality.Text));
    }

    [Fact]
    public void A_real_corpus_without_word2vec_and_a_network_without_weights_are_refused()
    {
        var fixture = CorpusFixtures.Iemocap();
        var noW2v = Assert.Throws<BadInputException>(() => FeatureStore.LoadOrExtract(
            new DatasetSource("x", "iemocap", fixture, null, "resnet50", null, true), TestFolders.Create(), null, CancellationToken.None));
        Assert.Contains("--word2vec", noW2v.Message);
        var noWeights = Assert.Throws<BadInputException>(() => FeatureStore.LoadOrExtract(
            new DatasetSource("x", "iemocap", corpus.Root, null, "resnet50", null, false), TestFolders.Create(), null, CancellationToken.None));
        Assert.Contains("--allow-random-weights", noWeights.Message);
        var missing = Assert.Throws<BadInputException>(() => FeatureStore.Load(TestFolders.Create(), "never-extracted"));
        Assert.Contains("features extract", missing.Message);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        }
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }
}

public class FeatureCacheTests
{
    [Fact]
    public void Entries_round_trip_and_misses_are_misses()
    {
        var cache = new FeatureCache(TestFolders.Create());
        var key = FeatureCache.Key("some canonical settings");
        Assert.Equal(FeatureCache.ReadResult.Missing, cache.TryRead(key, out _));
        var f = new CachedFeatures([1, 2, 3], [4, 5], [6], 2, 10, 3);
        cache.Write(key, f);
        Assert.Equal(FeatureCache.ReadResult.Hit, cache.TryRead(key, out var read));
        Assert.Equal(f.Audio, read!.Audio);
        Assert.Equal(f.Video, read.Video);
        Assert.Equal(f.Text, read.Text);
        Assert.Equal((2, 10, 3), (read.VideoWidth, read.Tokens, read.OovTokens));
        // An entry copied under another key is not accepted for it.
        var other = FeatureCache.Key("other");
        Directory.CreateDirectory(Path.GetDirectoryName(cache.EntryPath(other))!);
        File.Copy(cache.EntryPath(key), cache.EntryPath(other));
        Assert.Equal(FeatureCache.ReadResult.Corrupt, cache.TryRead(other, out _));
    }
}

public class GeneratedCorpusTests
{
    [Fact]
    public void Same_seed_gives_the_same_files()
    {
        var a = Path.Combine(TestFolders.Create(), "a");
        var b = Path.Combine(TestFolders.Create(), "b");
        SyntheticCorpus.Write("msp-improv", a, 2, 10, 3);
        SyntheticCorpus.Write("msp-improv", b, 2, 10, 3);
        var filesA = Directory.GetFiles(a, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a, f)).Order().ToArray();
        var filesB = Directory.GetFiles(b, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(b, f)).Order().ToArray();
        Assert.Equal(filesA, filesB);
        foreach (var f in filesA)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(a, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, f))), f);
        }
    }

    [Fact]
    public void Generated_msp_improv_corpus_reads_and_extracts()
    {
        var root = Path.Combine(TestFolders.Create(), "msp");
        SyntheticCorpus.Write("msp-improv", root, 4, 16, 5);
        var index = CorpusReader.Read("msp-improv", root);
        Assert.Empty(index.Problems);
        Assert.Equal(16, index.Entries.Count);
        Assert.All(index.Utterances, u => Assert.Matches(@"^[FM]0[12]$", u.Speaker));
        var (features, report) = FeatureStore.LoadOrExtract(
            new DatasetSource("msp", "msp-improv", root, null, "resnet50-random", null, false),
            new ExtractionOptions(VideoFps: 2, FrameSize: 64), TestFolders.Create(), null, CancellationToken.None);
        Assert.Equal(index.Utterances.Count, features.Utterances.Count);
        Assert.Empty(report.Skipped);
    }

    [Fact]
    public void An_existing_non_empty_output_folder_is_refused()
    {
        var dir = TestFolders.Create();
        File.WriteAllText(Path.Combine(dir, "keep.txt"), "x");
        Assert.Throws<BadInputException>(() => SyntheticCorpus.Write("iemocap", dir, 2, 10, 1));
        Assert.Throws<BadInputException>(() => SyntheticCorpus.Write("iemocap", Path.Combine(dir, "new"), 3, 10, 1));
        Assert.True(File.Exists(Path.Combine(dir, "keep.txt")));
    }
}
