using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using FoldCluster.Core;
using FoldCluster.Features.Audio;
using FoldCluster.Features.Cache;
using FoldCluster.Features.Corpus;
using FoldCluster.Features.Text;
using FoldCluster.Features.Video;

namespace FoldCluster.Features;

/// <summary>Progress of one extraction: utterances done of total, and a line saying what happens.</summary>
public sealed record ExtractionProgress(int Done, int Total, string Message);

/// <summary>
/// Raw corpus to the trainer's <see cref="FeatureSet"/> through the content-addressed cache (DESIGN.md 4.5).
/// <para>
/// Cache folder: entries/ (one file per utterance and settings, shared by all datasets), &lt;dataset&gt;/manifest.json
/// (the utterances of the last extraction, read by <see cref="Load(string, string)"/>), &lt;dataset&gt;/manifest-&lt;extractor&gt;.json,
/// &lt;dataset&gt;/report.json, and locks/. Key of an entry: SHA-256 over the feature version, the layout, the utterance id,
/// the utterance's own inputs (audio and video file size and modification time, time range, transcript text), the
/// recorded extractor name, the weights and Word2Vec files (name, size, modification time) and the video settings.
/// </para>
/// <para>
/// Word2Vec: <see cref="DatasetSource.Word2VecPath"/>, else &lt;root&gt;/word2vec.bin when that file exists (the generated
/// corpus writes its vocabulary there); with neither, extraction stops with a <see cref="BadInputException"/>.
/// </para>
/// </summary>
public static partial class FeatureStore
{
    /// <summary>Bump when the numbers an extraction produces change; every cached entry then becomes a miss.</summary>
    public const int FeatureVersion = 1;

    public const string DefaultWord2VecFile = "word2vec.bin";

    public static FeatureSet LoadOrExtract(DatasetSource source, string cacheDirectory, IProgress<string>? progress, CancellationToken ct) =>
        LoadOrExtract(source, null, cacheDirectory, progress is null ? null : new MessageProgress(progress), ct).Features;

    /// <summary>Forwards on the reporting thread, so messages keep their order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class MessageProgress(IProgress<string> inner) : IProgress<ExtractionProgress>
    {
        public void Report(ExtractionProgress value) => inner.Report(value.Message);
    }

    /// <summary>The same, with explicit video settings (null: <see cref="ExtractionOptions.DefaultFor"/> the root) and the report.</summary>
    public static (FeatureSet Features, ExtractionReport Report) LoadOrExtract(
        DatasetSource source, ExtractionOptions? options, string cacheDirectory, IProgress<ExtractionProgress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var datasetName = ValidateName(source.Name);
        var layout = CorpusReader.NormalizeLayout(source.Layout);
        options = (options ?? ExtractionOptions.DefaultFor(source.Root)).Validated();
        var spec = FrameNetworkSpec.From(source.Extractor, source.WeightsPath, source.AllowRandomWeights);
        var cache = new FeatureCache(cacheDirectory);
        var index = CorpusReader.Read(layout, source.Root);
        var word2vec = ResolveWord2Vec(source);
        var settings = string.Join('|',
            $"feature-version={FeatureVersion}", $"layout={layout}", $"extractor={spec.RecordedName}",
            $"weights={FileIdentity(spec.WeightsPath)}", $"word2vec={FileIdentity(word2vec)}", options.Canonical);
        var keys = index.Usable.ToDictionary(u => u.Id, u => FeatureCache.Key(settings + "|" + UtteranceFingerprint(u)), StringComparer.Ordinal);
        void Report(int done, string message) => progress?.Report(new ExtractionProgress(done, index.Usable.Count, message));

        var found = new Dictionary<string, CachedFeatures>(StringComparer.Ordinal);
        int corrupt = 0;
        List<CorpusUtterance> Missing()
        {
            var missing = new List<CorpusUtterance>();
            foreach (var u in index.Usable)
            {
                if (found.ContainsKey(u.Id))
                {
                    continue;
                }
                switch (cache.TryRead(keys[u.Id], out var f))
                {
                    case FeatureCache.ReadResult.Hit:
                        found[u.Id] = f!;
                        break;
                    case FeatureCache.ReadResult.Corrupt:
                        corrupt++;
                        missing.Add(u);
                        break;
                    default:
                        missing.Add(u);
                        break;
                }
            }
            return missing;
        }

        Report(0, $"reading cache for {index.Usable.Count} utterances");
        var missing = Missing();
        int fromCache = found.Count;
        var skipped = index.Incomplete().Select(x => new SkippedUtterance(x.Utterance.Id, x.Utterance.LabelFile, x.Utterance.LabelLine, x.Reason)).ToList();
        int extracted = 0;
        if (missing.Count > 0)
        {
            using var held = cache.AcquireLock(datasetName, m => Report(found.Count, m), ct);
            // Another thread or process may have extracted them while this one waited.
            corrupt = 0;
            missing = Missing();
            fromCache = found.Count;
            if (missing.Count > 0)
            {
                extracted = Extract(index, missing, keys, spec, options, word2vec, cache, found, skipped, Report, ct);
            }
        }
        var kept = index.Usable.Where(u => found.ContainsKey(u.Id)).ToList();
        var features = new FeatureSet(datasetName, spec.RecordedName, spec.FeatureWidth, kept.Select(u =>
        {
            var f = found[u.Id];
            return new UtteranceFeatures(u.Id, u.Speaker, u.Label!.Value, f.Audio, f.Video, f.Text);
        }).ToList());
        long tokens = kept.Sum(u => (long)found[u.Id].Tokens);
        long oov = kept.Sum(u => (long)found[u.Id].OovTokens);
        var report = new ExtractionReport(
            datasetName, layout, index.Root, spec.RecordedName, spec.FeatureWidth, options.Canonical,
            index.Entries.Count, index.Entries.Count(e => e.Label is not null), kept.Count, extracted, fromCache, corrupt,
            Emotions.All.ToDictionary(e => e.Name(), e => kept.Count(u => u.Label == e), StringComparer.Ordinal),
            index.Excluded, index.Missing, skipped, index.Problems, tokens, oov, tokens == 0 ? 0 : (double)oov / tokens,
            Math.Round(clock.Elapsed.TotalSeconds, 3), DateTime.UtcNow);
        WriteManifest(cache, datasetName, layout, spec, kept, keys, report);
        Report(kept.Count, $"done: {kept.Count} utterances ({extracted} extracted, {fromCache} from cache) in {clock.Elapsed.TotalSeconds:F1} s");
        return (features, report);
    }

    /// <summary>The features that `features extract` last wrote for <paramref name="datasetName"/> into the cache.</summary>
    public static FeatureSet Load(string cacheDirectory, string datasetName) => Load(cacheDirectory, datasetName, null);

    /// <summary>The same for one extractor's extraction (resnet50, vggface, resnet50-random, ...).</summary>
    public static FeatureSet Load(string cacheDirectory, string datasetName, string? extractor)
    {
        var cache = new FeatureCache(cacheDirectory);
        var name = ValidateName(datasetName);
        var file = Path.Combine(cache.Directory, name, extractor is null ? "manifest.json" : $"manifest-{ValidateName(extractor)}.json");
        if (!File.Exists(file))
        {
            throw new BadInputException(
                $"{file}: no extracted features for dataset '{name}'{(extractor is null ? "" : $" and extractor {extractor}")} in {cache.Directory}: run `foldcluster features extract --dataset {name} --cache {cacheDirectory} ...` first");
        }
        Manifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(file), ExtractionReport.Json)
                ?? throw new JsonException("empty manifest");
        }
        catch (JsonException e)
        {
            throw new BadInputException($"{file}: unreadable feature manifest ({e.Message}): run `foldcluster features extract` again");
        }
        var utterances = new List<UtteranceFeatures>(manifest.Utterances.Count);
        foreach (var u in manifest.Utterances)
        {
            if (cache.TryRead(u.Key, out var f) != FeatureCache.ReadResult.Hit)
            {
                throw new BadInputException(
                    $"{cache.EntryPath(u.Key)}: cache entry of {u.Id} is missing or corrupt: run `foldcluster features extract` again to recompute it");
            }
            utterances.Add(new UtteranceFeatures(u.Id, u.Speaker, ParseEmotion(u.Label, file), f!.Audio, f.Video, f.Text));
        }
        return new FeatureSet(manifest.Dataset, manifest.Extractor, manifest.VideoWidth, utterances);
    }

    /// <summary>The report of the last extraction of a dataset, if any.</summary>
    public static string ReportPath(string cacheDirectory, string datasetName) =>
        Path.Combine(new FeatureCache(cacheDirectory).Directory, ValidateName(datasetName), "report.json");

    private static Emotion ParseEmotion(string label, string file) =>
        Emotions.All.FirstOrDefault(e => e.Name() == label) is var e && e.Name() == label
            ? e
            : throw new BadInputException($"{file}: unknown label '{label}' in feature manifest");

    private sealed record Manifest(string Dataset, string Layout, string Extractor, int VideoWidth, int FeatureVersion, IReadOnlyList<ManifestUtterance> Utterances);

    private sealed record ManifestUtterance(string Id, string Speaker, string Label, string Key);

    private static void WriteManifest(FeatureCache cache, string dataset, string layout, FrameNetworkSpec spec,
        IReadOnlyList<CorpusUtterance> kept, IReadOnlyDictionary<string, string> keys, ExtractionReport report)
    {
        var manifest = new Manifest(dataset, layout, spec.RecordedName, spec.FeatureWidth, FeatureVersion,
            kept.Select(u => new ManifestUtterance(u.Id, u.Speaker, u.Label!.Value.Name(), keys[u.Id])).ToList());
        var json = JsonSerializer.SerializeToUtf8Bytes(manifest, ExtractionReport.Json);
        var folder = Path.Combine(cache.Directory, dataset);
        FeatureCache.WriteAtomically(Path.Combine(folder, $"manifest-{spec.RecordedName}.json"), json);
        FeatureCache.WriteAtomically(Path.Combine(folder, "manifest.json"), json);
        FeatureCache.WriteAtomically(Path.Combine(folder, "report.json"), System.Text.Encoding.UTF8.GetBytes(report.ToJson()));
    }

    private static int Extract(
        CorpusIndex index, List<CorpusUtterance> missing, IReadOnlyDictionary<string, string> keys, FrameNetworkSpec spec,
        ExtractionOptions options, string word2vecPath, FeatureCache cache, Dictionary<string, CachedFeatures> found,
        List<SkippedUtterance> skipped, Action<int, string> report, CancellationToken ct)
    {
        var tokens = missing.ToDictionary(u => u.Id, u => Tokenizer.Tokenize(u.Transcript!), StringComparer.Ordinal);
        var vocabulary = tokens.Values.SelectMany(t => t).ToHashSet(StringComparer.Ordinal);
        report(found.Count, $"reading Word2Vec {word2vecPath} for {vocabulary.Count} words");
        var vectors = Word2VecReader.Load(word2vecPath, vocabulary);
        report(found.Count, $"loading {spec.RecordedName} frame network");
        using var network = FrameFeatureExtractor.Create(spec);
        var regions = options.Regions;
        int extracted = 0;
        // IEMOCAP: one unit per dialog video (decoded once, streamed). Whole clips (MSP-IMPROV): units of several
        // clips, decoded in parallel and batched together, since one short clip gives too few frames for a batch.
        bool wholeClips = index.Layout != CorpusReader.Iemocap;
        var units = wholeClips
            ? missing.Chunk(Math.Max(4, options.BatchSize)).Select(c => c.ToList()).ToList()
            : missing.GroupBy(u => u.VideoPath!, StringComparer.Ordinal).Select(g => g.ToList()).ToList();
        foreach (var items in units)
        {
            ct.ThrowIfCancellationRequested();
            var partial = new Dictionary<string, (float[] Audio, float[] Text, int Tokens, int Oov)>(StringComparer.Ordinal);
            foreach (var u in items)
            {
                try
                {
                    var audio = Ltpp.PoolLogMel(LogMelExtractor.Compute(WavReader.ReadAt16k(u.AudioPath!).Samples));
                    var (text, oov) = TextFeatures(tokens[u.Id], vectors);
                    partial[u.Id] = (audio, text, tokens[u.Id].Count, oov);
                }
                catch (BadInputException e)
                {
                    skipped.Add(new SkippedUtterance(u.Id, u.AudioPath!, 0, e.Message));
                }
            }
            var withAudio = items.Where(u => partial.ContainsKey(u.Id)).ToList();
            if (withAudio.Count == 0)
            {
                continue;
            }
            var video = wholeClips
                ? ClipFeatures(withAudio, network, options, skipped, ct)
                : VideoFeatures(withAudio[0].VideoPath!, withAudio, regions, network, options, skipped, ct);
            foreach (var u in withAudio)
            {
                if (!video.TryGetValue(u.Id, out var v))
                {
                    continue;
                }
                var p = partial[u.Id];
                var features = new CachedFeatures(p.Audio, v, p.Text, spec.FeatureWidth, p.Tokens, p.Oov);
                cache.Write(keys[u.Id], features);
                found[u.Id] = features;
                extracted++;
            }
            report(found.Count, $"{found.Count}/{index.Usable.Count} {Path.GetFileName(items[^1].VideoPath)}");
        }
        return extracted;
    }

    /// <summary>Word2Vec rows of the tokens (OOV: zeros), pooled over words with L = 4 -> [32][300]. No words: one zero row.</summary>
    internal static (float[] Features, int Oov) TextFeatures(IReadOnlyList<string> tokens, WordVectors vectors)
    {
        int dim = vectors.Dimension;
        int n = Math.Max(1, tokens.Count);
        var rows = new float[n * dim];
        int oov = 0;
        for (int i = 0; i < tokens.Count; i++)
        {
            if (vectors.Vectors.TryGetValue(tokens[i], out var v))
            {
                v.CopyTo(rows, i * dim);
            }
            else
            {
                oov++;
            }
        }
        return (Ltpp.PoolSequence(rows, n, dim, Ltpp.SequenceLevels), oov);
    }

    /// <summary>
    /// Decodes one video once for all its utterances that need features: frame k (time k / fps) belongs to an utterance
    /// when start &lt;= k / fps &lt; end; an utterance shorter than one frame interval takes the frame at its midpoint.
    /// Only the frames and halves some utterance needs go through the network. Returns [32][width] per utterance id.
    /// </summary>
    private static Dictionary<string, float[]> VideoFeatures(
        string videoPath, List<CorpusUtterance> items, IReadOnlyDictionary<string, FrameRegion>? regions,
        FrameFeatureExtractor network, ExtractionOptions options, List<SkippedUtterance> skipped, CancellationToken ct)
    {
        double fps = options.VideoFps;
        int size = options.FrameSize;
        var regionOf = items.ToDictionary(u => u.Id, u => regions is null ? FrameRegion.Full : regions.GetValueOrDefault(u.Gender, FrameRegion.Full), StringComparer.Ordinal);
        bool sideBySide = regionOf.Values.Any(r => r != FrameRegion.Full);
        var ranges = items.ToDictionary(u => u.Id, u => FrameRange(u, fps), StringComparer.Ordinal);
        bool wholeClip = items.Any(u => double.IsPositiveInfinity(u.VideoEnd));
        int lastNeeded = wholeClip ? int.MaxValue : ranges.Values.Max(r => r.Last);
        var needed = new Dictionary<int, HashSet<FrameRegion>>();
        foreach (var u in items)
        {
            var r = ranges[u.Id];
            for (int k = r.First; k <= Math.Min(r.Last, wholeClip ? r.First : r.Last); k++)
            {
                (needed.TryGetValue(k, out var set) ? set : needed[k] = []).Add(regionOf[u.Id]);
            }
        }
        var frameFeatures = new Dictionary<(int, FrameRegion), float[]>();
        var batch = new List<(int K, FrameRegion Region, byte[] Pixels)>();
        void Flush()
        {
            if (batch.Count == 0)
            {
                return;
            }
            var f = network.Extract(batch.Select(b => b.Pixels).ToList(), size);
            int w = network.FeatureWidth;
            for (int i = 0; i < batch.Count; i++)
            {
                frameFeatures[(batch[i].K, batch[i].Region)] = f[(i * w)..((i + 1) * w)];
            }
            batch.Clear();
        }
        int frames = 0;
        string? decodeError = null;
        try
        {
            foreach (var frame in Ffmpeg.DecodeFrames(videoPath, fps, sideBySide ? 2 * size : size, size, ct))
            {
                int k = frames++;
                IEnumerable<FrameRegion> want = wholeClip
                    ? regionOf.Values.Distinct()
                    : needed.TryGetValue(k, out var set) ? set : [];
                foreach (var region in want)
                {
                    batch.Add((k, region, Crop(frame, region, size, sideBySide)));
                }
                if (batch.Count >= options.BatchSize)
                {
                    Flush();
                }
                if (k >= lastNeeded)
                {
                    break;
                }
            }
            Flush();
        }
        catch (BadInputException e)
        {
            decodeError = e.Message;
        }
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        double seconds = frames / fps;
        foreach (var u in items)
        {
            if (decodeError is not null)
            {
                skipped.Add(new SkippedUtterance(u.Id, videoPath, 0, decodeError));
                continue;
            }
            var (first, last) = ranges[u.Id];
            if (wholeClip)
            {
                last = frames - 1;
            }
            // Half a second of slack: container durations and label times are rounded differently.
            if (!wholeClip && u.VideoEnd > seconds + 0.5)
            {
                skipped.Add(new SkippedUtterance(u.Id, videoPath, 0, string.Create(CultureInfo.InvariantCulture,
                    $"video is {seconds:F2} s long, shorter than the utterance's range [{u.VideoStart:F2} - {u.VideoEnd:F2}]")));
                continue;
            }
            var rows = new List<float[]>();
            for (int k = first; k <= Math.Min(last, frames - 1); k++)
            {
                if (frameFeatures.TryGetValue((k, regionOf[u.Id]), out var f))
                {
                    rows.Add(f);
                }
            }
            if (rows.Count == 0 && frameFeatures.Keys.Where(x => x.Item2 == regionOf[u.Id]).OrderByDescending(x => x.Item1).FirstOrDefault() is var lastKey
                && frameFeatures.TryGetValue(lastKey, out var fallback))
            {
                rows.Add(fallback); // range ends in the slack past the last frame: its last frame stands in
            }
            if (rows.Count == 0)
            {
                skipped.Add(new SkippedUtterance(u.Id, videoPath, 0, "no video frame inside the utterance's range"));
                continue;
            }
            int width = network.FeatureWidth;
            var timeMajor = new float[rows.Count * width];
            for (int i = 0; i < rows.Count; i++)
            {
                rows[i].CopyTo(timeMajor, i * width);
            }
            result[u.Id] = Ltpp.PoolSequence(timeMajor, rows.Count, width, Ltpp.SequenceLevels);
        }
        return result;
    }

    /// <summary>
    /// Whole single-speaker clips: every frame of each clip (time k / fps), clips decoded two at a time, frames of all
    /// clips batched through the network together. Returns [32][width] per utterance id.
    /// </summary>
    private static Dictionary<string, float[]> ClipFeatures(
        List<CorpusUtterance> items, FrameFeatureExtractor network, ExtractionOptions options, List<SkippedUtterance> skipped, CancellationToken ct)
    {
        int size = options.FrameSize;
        var decoded = new List<byte[]>?[items.Count];
        var errors = new string?[items.Count];
        Parallel.For(0, items.Count, new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = ct }, i =>
        {
            try
            {
                decoded[i] = Ffmpeg.DecodeFrames(items[i].VideoPath!, options.VideoFps, size, size, ct).ToList();
            }
            catch (BadInputException e)
            {
                errors[i] = e.Message;
            }
        });
        var all = new List<byte[]>();
        var owner = new List<int>();
        for (int i = 0; i < items.Count; i++)
        {
            if (errors[i] is not null)
            {
                skipped.Add(new SkippedUtterance(items[i].Id, items[i].VideoPath!, 0, errors[i]!));
                continue;
            }
            foreach (var frame in decoded[i]!)
            {
                all.Add(frame);
                owner.Add(i);
            }
        }
        int width = network.FeatureWidth;
        var features = new float[all.Count * width];
        for (int start = 0; start < all.Count; start += options.BatchSize)
        {
            ct.ThrowIfCancellationRequested();
            var batch = all.GetRange(start, Math.Min(options.BatchSize, all.Count - start));
            network.Extract(batch, size).CopyTo(features, start * width);
        }
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            var rows = Enumerable.Range(0, owner.Count).Where(j => owner[j] == i).ToList();
            if (rows.Count == 0)
            {
                continue;
            }
            var timeMajor = new float[rows.Count * width];
            for (int r = 0; r < rows.Count; r++)
            {
                Array.Copy(features, rows[r] * width, timeMajor, r * width, width);
            }
            result[items[i].Id] = Ltpp.PoolSequence(timeMajor, rows.Count, width, Ltpp.SequenceLevels);
        }
        return result;
    }

    /// <summary>Frames k with start &lt;= k / fps &lt; end; the midpoint frame when none falls inside.</summary>
    internal static (int First, int Last) FrameRange(CorpusUtterance u, double fps)
    {
        if (double.IsPositiveInfinity(u.VideoEnd))
        {
            return (0, int.MaxValue);
        }
        int first = (int)Math.Ceiling(u.VideoStart * fps - 1e-9);
        int last = (int)Math.Ceiling(u.VideoEnd * fps - 1e-9) - 1;
        if (last < first)
        {
            first = last = (int)Math.Floor((u.VideoStart + u.VideoEnd) / 2 * fps);
        }
        return (first, last);
    }

    private static byte[] Crop(byte[] frame, FrameRegion region, int size, bool sideBySide)
    {
        if (!sideBySide)
        {
            return frame;
        }
        if (region == FrameRegion.Full)
        {
            // Both halves squeezed into one square: average horizontally adjacent pixel pairs.
            var full = new byte[size * size * 3];
            for (int y = 0; y < size; y++)
            {
                for (int x = 0; x < size; x++)
                {
                    for (int c = 0; c < 3; c++)
                    {
                        int a = frame[(y * 2 * size + 2 * x) * 3 + c], b = frame[(y * 2 * size + 2 * x + 1) * 3 + c];
                        full[(y * size + x) * 3 + c] = (byte)((a + b + 1) / 2);
                    }
                }
            }
            return full;
        }
        var half = new byte[size * size * 3];
        int offset = region == FrameRegion.Left ? 0 : size;
        for (int y = 0; y < size; y++)
        {
            Buffer.BlockCopy(frame, (y * 2 * size + offset) * 3, half, y * size * 3, size * 3);
        }
        return half;
    }

    private static string ResolveWord2Vec(DatasetSource source)
    {
        if (!string.IsNullOrWhiteSpace(source.Word2VecPath))
        {
            if (!File.Exists(source.Word2VecPath))
            {
                throw new BadInputException($"{source.Word2VecPath}: Word2Vec file not found");
            }
            return Path.GetFullPath(source.Word2VecPath);
        }
        var beside = Path.Combine(source.Root, DefaultWord2VecFile);
        if (File.Exists(beside))
        {
            return Path.GetFullPath(beside);
        }
        throw new BadInputException(
            $"no Word2Vec file for dataset '{source.Name}': pass --word2vec FILE (GoogleNews-vectors-negative300.bin or a text-format file), or place it at {beside}");
    }

    private static string FileIdentity(string? path)
    {
        if (path is null)
        {
            return "none";
        }
        var info = new FileInfo(path);
        return string.Create(CultureInfo.InvariantCulture, $"{info.Name}:{info.Length}:{info.LastWriteTimeUtc.Ticks}");
    }

    private static string UtteranceFingerprint(CorpusUtterance u) => string.Create(CultureInfo.InvariantCulture,
        $"id={u.Id}|audio={FileIdentity(u.AudioPath)}|video={FileIdentity(u.VideoPath)}|range={u.VideoStart:R}-{u.VideoEnd:R}|gender={u.Gender}|text={u.Transcript}");

    private static string ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || !SafeName().IsMatch(name))
        {
            throw new BadInputException($"dataset name '{name}' is not valid: use letters, digits, '.', '_' and '-' only");
        }
        return name;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex SafeName();
}
