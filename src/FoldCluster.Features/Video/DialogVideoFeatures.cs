using System.Globalization;
using FoldCluster.Core;
using FoldCluster.Features.Corpus;

namespace FoldCluster.Features.Video;

/// <summary>
/// The video input of IEMOCAP-style utterances: one dialog video holds many utterances, each a time range and (side by
/// side) one half of the frame (DESIGN.md 4.3). Frames are LTPP-pooled per utterance to [32][width].
/// </summary>
internal static class DialogVideoFeatures
{
    /// <summary>
    /// Decodes one video once for all its utterances that need features: frame k (time k / fps) belongs to an utterance
    /// when start &lt;= k / fps &lt; end; an utterance shorter than one frame interval takes the frame at its midpoint.
    /// Only the frames and halves some utterance needs go through the network. Returns [32][width] per utterance id.
    /// </summary>
    public static Dictionary<string, float[]> Extract(
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
                    batch.Add((k, region, FrameCrop.Crop(frame, region, size, sideBySide)));
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

    /// <summary>Frames k with start &lt;= k / fps &lt; end; the midpoint frame when none falls inside.</summary>
    public static (int First, int Last) FrameRange(CorpusUtterance u, double fps)
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
}
