using System.Globalization;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Features.Corpus;

namespace FoldCluster.Features;

/// <summary>
/// Settings of the video front end that change the features, so they are part of every cache key.
/// VideoFps: frames per second sampled from each utterance's range. FrameSize: the square input size of the frame
/// network (224 as the networks were trained; the generated corpus uses 112). CropMap: which half of an IEMOCAP
/// dialog frame shows which actor, "F=left,M=right" by default (the female actor on the left; "full" keeps the whole
/// frame). BatchSize only changes speed.
/// </summary>
public sealed record ExtractionOptions(double VideoFps = 4, int FrameSize = 224, string CropMap = ExtractionOptions.DefaultCropMap, int BatchSize = 16)
{
    public const string DefaultCropMap = "F=left,M=right";

    /// <summary>The marker file a generated corpus writes in its root (it holds the extraction settings it was drawn for).</summary>
    public const string GeneratedCorpusMarker = "foldcluster-corpus.json";

    public static ExtractionOptions Paper { get; } = new();

    /// <summary>The settings the generated corpus is meant for: 112-pixel frames at 2 frames per second (its faces change per utterance, not within one).</summary>
    public static ExtractionOptions Generated { get; } = new(VideoFps: 2, FrameSize: 112);

    /// <summary>Paper settings, unless the root is a generated corpus, whose marker file names its own.</summary>
    public static ExtractionOptions DefaultFor(string root)
    {
        var marker = Path.Combine(root, GeneratedCorpusMarker);
        if (!File.Exists(marker))
        {
            return Paper;
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(marker));
            if (doc.RootElement.TryGetProperty("extraction", out var e))
            {
                return new ExtractionOptions(
                    e.TryGetProperty("video_fps", out var fps) ? fps.GetDouble() : Generated.VideoFps,
                    e.TryGetProperty("frame_size", out var size) ? size.GetInt32() : Generated.FrameSize);
            }
            return Generated;
        }
        catch (JsonException)
        {
            return Generated;
        }
    }

    /// <summary>Keys a sweep's dataset `options:` map accepts (<see cref="WithOverrides"/>).</summary>
    public static readonly IReadOnlyList<string> OverrideKeys = ["frame_size", "video_fps", "crop_map", "batch_size"];

    /// <summary>A copy with a sweep dataset's `options:` applied; an unknown key or a bad value is bad input naming it.</summary>
    public ExtractionOptions WithOverrides(IReadOnlyDictionary<string, string> options)
    {
        var result = this;
        foreach (var (key, value) in options)
        {
            result = key switch
            {
                "frame_size" => result with { FrameSize = SettingValues.Int(Setting(key), value) },
                "video_fps" => result with { VideoFps = SettingValues.Real(Setting(key), value) },
                "crop_map" => result with { CropMap = value },
                "batch_size" => result with { BatchSize = SettingValues.Int(Setting(key), value) },
                _ => throw new BadInputException(
                    $"dataset option '{key}' is not known: expected one of {string.Join(", ", OverrideKeys)}"),
            };
        }
        return result.Validated();
    }

    private static string Setting(string key) => $"dataset option {key}";

    public ExtractionOptions Validated()
    {
        if (!(VideoFps > 0 && VideoFps <= 60))
        {
            throw new BadInputException($"video frame rate {VideoFps} is out of range: expected 0 < fps <= 60");
        }
        if (FrameSize < 32 || FrameSize > 1024)
        {
            throw new BadInputException($"frame size {FrameSize} is out of range: expected 32 to 1024 pixels");
        }
        if (BatchSize < 1)
        {
            throw new BadInputException($"batch size {BatchSize} must be positive");
        }
        _ = Regions;
        return this;
    }

    /// <summary>Gender letter -> frame region, from <see cref="CropMap"/>.</summary>
    public IReadOnlyDictionary<string, FrameRegion> Regions
    {
        get
        {
            var map = new Dictionary<string, FrameRegion>(StringComparer.OrdinalIgnoreCase) { ["F"] = FrameRegion.Full, ["M"] = FrameRegion.Full };
            if (CropMap.Trim().Equals("full", StringComparison.OrdinalIgnoreCase))
            {
                return map;
            }
            foreach (var part in CropMap.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var kv = part.Split('=', StringSplitOptions.TrimEntries);
                if (kv.Length != 2 || kv[0].ToUpperInvariant() is not ("F" or "M"))
                {
                    throw new BadInputException($"crop map '{CropMap}' is not valid: expected e.g. F=left,M=right or full");
                }
                map[kv[0].ToUpperInvariant()] = kv[1].ToLowerInvariant() switch
                {
                    "left" => FrameRegion.Left,
                    "right" => FrameRegion.Right,
                    "full" => FrameRegion.Full,
                    _ => throw new BadInputException($"crop map '{CropMap}': '{kv[1]}' is not left, right or full"),
                };
            }
            return map;
        }
    }

    /// <summary>Canonical text of the settings that change features (part of the cache key).</summary>
    public string Canonical => string.Create(CultureInfo.InvariantCulture,
        $"fps={VideoFps:R};size={FrameSize};crop={string.Join(',', Regions.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"))}");
}
