using System.Diagnostics;
using FoldCluster.Core;
using FoldCluster.Features.Audio;
using FoldCluster.Features.Cache;
using FoldCluster.Features.Corpus;
using FoldCluster.Features.Text;
using FoldCluster.Features.Video;

namespace FoldCluster.Features;

/// <summary>
/// One extraction of one dataset: read the corpus, look every utterance up in the cache, take the dataset's lock,
/// extract what is missing (each utterance's inputs that exist), write the manifest and the report.
/// </summary>
internal sealed class ExtractionRun
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _dataset;
    private readonly string _layout;
    private readonly ExtractionOptions _options;
    private readonly FrameNetworkSpec _spec;
    private readonly FeatureCache _cache;
    private readonly CorpusIndex _index;
    private readonly string? _word2vec;
    private readonly IProgress<ExtractionProgress>? _progress;

    /// <summary>The utterances to extract: 4-class, with at least one input.</summary>
    private readonly IReadOnlyList<CorpusUtterance> _targets;
    private readonly Dictionary<string, string> _keys;
    private readonly Dictionary<string, CachedFeatures> _found = new(StringComparer.Ordinal);
    private readonly List<SkippedUtterance> _skipped = [];
    private int _corrupt;

    public ExtractionRun(DatasetSource source, ExtractionOptions? options, string cacheDirectory, IProgress<ExtractionProgress>? progress)
    {
        _dataset = FeatureStore.ValidateName(source.Name);
        _layout = CorpusReader.NormalizeLayout(source.Layout);
        _options = (options ?? ExtractionOptions.DefaultFor(source.Root)).Validated();
        _spec = FrameNetworkSpec.From(source.Extractor, source.WeightsPath, source.AllowRandomWeights);
        _cache = new FeatureCache(cacheDirectory);
        _index = CorpusReader.Read(_layout, source.Root, source.TranscriptsPath);
        _progress = progress;
        _targets = _index.Utterances.Where(u => u.Modalities != Modality.None).ToList();
        foreach (var u in _index.Utterances.Where(u => u.Modalities == Modality.None))
        {
            _skipped.Add(new SkippedUtterance(u.Id, u.LabelFile, u.LabelLine, "no audio file, video file or transcript"));
        }
        // Word2Vec is needed only for transcripts: a corpus without any gives A, V and A+V features without it.
        _word2vec = _targets.Any(u => u.Transcript is not null) ? TextFeatures.ResolveWord2Vec(source) : null;
        var key = new FeatureKey(_layout, _spec, _word2vec, _options);
        _keys = _targets.ToDictionary(u => u.Id, key.Of, StringComparer.Ordinal);
    }

    private void Report(int done, string message) => _progress?.Report(new ExtractionProgress(done, _targets.Count, message));

    public (FeatureSet Features, ExtractionReport Report) Execute(CancellationToken ct)
    {
        Report(0, $"reading cache for {_targets.Count} utterances");
        var missing = Missing();
        int fromCache = _found.Count;
        int extracted = 0;
        if (missing.Count > 0)
        {
            using var held = _cache.AcquireLock(_dataset, m => Report(_found.Count, m), ct);
            // Another thread or process may have extracted them while this one waited.
            _corrupt = 0;
            missing = Missing();
            fromCache = _found.Count;
            if (missing.Count > 0)
            {
                extracted = Extract(missing, ct);
            }
        }
        var kept = _targets.Where(u => _found.ContainsKey(u.Id)).ToList();
        var features = new FeatureSet(_dataset, _spec.RecordedName, _spec.FeatureWidth,
            kept.Select(u => FeatureStore.ToUtterance(u.Id, u.Speaker, u.Label!.Value, _found[u.Id])).ToList());
        long tokens = kept.Sum(u => (long)_found[u.Id].Tokens);
        long oov = kept.Sum(u => (long)_found[u.Id].OovTokens);
        var report = new ExtractionReport(
            _dataset, _layout, _index.Root, _spec.RecordedName, _spec.FeatureWidth, _options.Canonical,
            _index.Entries.Count, _index.Utterances.Count, kept.Count, extracted, fromCache, _corrupt,
            Emotions.All.ToDictionary(e => e.Name(), e => kept.Count(u => u.Label == e), StringComparer.Ordinal),
            _index.Excluded, _index.Missing, _skipped, _index.Problems, tokens, oov, tokens == 0 ? 0 : (double)oov / tokens,
            Math.Round(_clock.Elapsed.TotalSeconds, 3), DateTime.UtcNow,
            new ModalityCounts(
                features.Utterances.Count(u => u.Audio is not null),
                features.Utterances.Count(u => u.Video is not null),
                features.Utterances.Count(u => u.Text is not null)),
            FeatureCache.Key(string.Join('\n', kept.Select(u => _keys[u.Id]).Order(StringComparer.Ordinal))));
        FeatureManifest.Write(_cache, _dataset, _layout, _spec, kept, _keys, report);
        Report(kept.Count, $"done: {kept.Count} utterances ({extracted} extracted, {fromCache} from cache) in {_clock.Elapsed.TotalSeconds:F1} s");
        return (features, report);
    }

    private List<CorpusUtterance> Missing()
    {
        var missing = new List<CorpusUtterance>();
        foreach (var u in _targets)
        {
            if (_found.ContainsKey(u.Id))
            {
                continue;
            }
            switch (_cache.TryRead(_keys[u.Id], out var f))
            {
                case FeatureCache.ReadResult.Hit:
                    _found[u.Id] = f!;
                    break;
                case FeatureCache.ReadResult.Corrupt:
                    _corrupt++;
                    missing.Add(u);
                    break;
                default:
                    missing.Add(u);
                    break;
            }
        }
        return missing;
    }

    /// <summary>
    /// Extracts each utterance's existing inputs. An input that exists but cannot be read (a broken WAV, an
    /// undecodable video) leaves the utterance out, uncached, with the reason, so it is tried again next time.
    /// </summary>
    private int Extract(List<CorpusUtterance> missing, CancellationToken ct)
    {
        var tokens = missing.Where(u => u.Transcript is not null)
            .ToDictionary(u => u.Id, u => Tokenizer.Tokenize(u.Transcript!), StringComparer.Ordinal);
        WordVectors? vectors = null;
        if (tokens.Count > 0)
        {
            var vocabulary = tokens.Values.SelectMany(t => t).ToHashSet(StringComparer.Ordinal);
            Report(_found.Count, $"reading Word2Vec {_word2vec} for {vocabulary.Count} words");
            vectors = Word2VecReader.Load(_word2vec!, vocabulary);
        }
        FrameFeatureExtractor? network = null;
        if (missing.Any(u => u.VideoPath is not null))
        {
            Report(_found.Count, $"loading {_spec.RecordedName} frame network");
            network = FrameFeatureExtractor.Create(_spec);
        }
        using var owned = network;
        var regions = _options.Regions;
        int extracted = 0;
        // IEMOCAP: one unit per dialog video (decoded once, streamed). Whole clips (MSP-IMPROV): units of several
        // clips, decoded in parallel and batched together, since one short clip gives too few frames for a batch.
        bool wholeClips = _index.Layout != CorpusReader.Iemocap;
        var units = wholeClips
            ? missing.Chunk(Math.Max(4, _options.BatchSize)).Select(c => c.ToList()).ToList()
            : missing.GroupBy(u => u.VideoPath ?? "", StringComparer.Ordinal).Select(g => g.ToList()).ToList();
        foreach (var items in units)
        {
            ct.ThrowIfCancellationRequested();
            var partial = new Dictionary<string, (float[] Audio, float[] Text, int Tokens, int Oov)>(StringComparer.Ordinal);
            foreach (var u in items)
            {
                try
                {
                    var audio = u.AudioPath is null ? [] : AudioFeatures.Compute(u.AudioPath);
                    var (text, oov) = tokens.TryGetValue(u.Id, out var words) ? TextFeatures.Pool(words, vectors!) : ([], 0);
                    partial[u.Id] = (audio, text, words?.Count ?? 0, oov);
                }
                catch (BadInputException e)
                {
                    _skipped.Add(new SkippedUtterance(u.Id, u.AudioPath!, 0, e.Message));
                }
            }
            var readable = items.Where(u => partial.ContainsKey(u.Id)).ToList();
            var withVideo = readable.Where(u => u.VideoPath is not null).ToList();
            var video = withVideo.Count == 0
                ? []
                : wholeClips
                    ? ClipVideoFeatures.Extract(withVideo, network!, _options, _skipped, ct)
                    : DialogVideoFeatures.Extract(withVideo[0].VideoPath!, withVideo, regions, network!, _options, _skipped, ct);
            foreach (var u in readable)
            {
                float[] v = [];
                if (u.VideoPath is not null && !video.TryGetValue(u.Id, out v!))
                {
                    continue;
                }
                var p = partial[u.Id];
                var features = new CachedFeatures(p.Audio, v, p.Text, _spec.FeatureWidth, p.Tokens, p.Oov);
                _cache.Write(_keys[u.Id], features);
                _found[u.Id] = features;
                extracted++;
            }
            Report(_found.Count, $"{_found.Count}/{_targets.Count} {Path.GetFileName(items[^1].VideoPath ?? items[^1].AudioPath ?? items[^1].Id)}");
        }
        return extracted;
    }
}
