using FoldCluster.Core;
using FoldCluster.Features.Corpus;

namespace FoldCluster.Features.Video;

/// <summary>The video input of single-speaker clips (MSP-IMPROV): every frame of each clip, LTPP-pooled to [32][width].</summary>
internal static class ClipVideoFeatures
{
    /// <summary>
    /// Whole single-speaker clips: every frame of each clip (time k / fps), clips decoded two at a time, frames of all
    /// clips batched through the network together. Returns [32][width] per utterance id.
    /// </summary>
    public static Dictionary<string, float[]> Extract(
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
}
