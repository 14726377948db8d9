using System.Text.Json;
using System.Text.RegularExpressions;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Cli.Tests;

public sealed class TrainFeaturesTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("fc-train-features-");

    [Fact]
    public async Task Train_on_a_cache_leaves_out_the_utterances_without_a_needed_modality_and_says_how_many()
    {
        var corpus = Path.Combine(_folder.FullName, "corpus");
        var cache = Path.Combine(_folder.FullName, "cache");
        await Succeed(["corpus", "synth", "--layout", "iemocap", "--out", corpus, "--speakers", "2", "--utterances", "40"]);
        // One dialog's video gone: its utterances keep audio and text.
        var videos = Directory.GetFiles(corpus, "*.avi", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.True(videos.Count >= 2, $"{videos.Count} dialog videos");
        File.Delete(videos[0]);
        using var inspect = JsonDocument.Parse((await Succeed(["corpus", "inspect", "--layout", "iemocap", "--root", corpus, "--json"])).StandardOutput);
        var labelled = inspect.RootElement.GetProperty("utterances").GetInt32();
        var withVideo = inspect.RootElement.GetProperty("modalities").GetProperty("video").GetInt32();
        Assert.InRange(withVideo, 1, labelled - 1);
        await Succeed(["features", "extract", "--layout", "iemocap", "--root", corpus, "--cache", cache, "--dataset", "part", "--allow-random-weights"]);

        var train = await Succeed(["train", "--features", cache, "--dataset", "part", "--modalities", "AVT", "--profile", "tiny",
            "--set", "epochs_stage1=1", "--set", "epochs_stage2=1", "--json"]);

        using var json = JsonDocument.Parse(train.StandardOutput);
        Assert.Equal("AVT", json.RootElement.GetProperty("modalities").GetString());
        Assert.InRange(json.RootElement.GetProperty("test_utterances").GetInt32(), 1, withVideo - 1);
        var leftOut = train.StandardError.Split('\n').Single(l => l.StartsWith("left out ", StringComparison.Ordinal));
        Assert.Equal([labelled - withVideo, labelled], Regex.Matches(leftOut, "[0-9]+").Take(2).Select(m => int.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static async Task<CliResult> Succeed(string[] args)
    {
        var result = await CliProcess.RunAsync(args, timeout: TimeSpan.FromMinutes(10));
        Assert.True(result.ExitCode == 0, $"foldcluster {string.Join(' ', args)} exited {result.ExitCode}: {result.StandardError}");
        return result;
    }

    public void Dispose() => _folder.Delete(recursive: true);
}
