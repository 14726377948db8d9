using Xunit.Abstractions;
using FoldCluster.Core;

namespace FoldCluster.Model.Tests;

/// <summary>
/// The model must learn what the generated set hides: classes need arousal (audio) and valence (video),
/// with text as a noisy hint of both. One modality alone cannot exceed about 0.45 UA.
/// </summary>
public class LearningTests(ITestOutputHelper output)
{
    private double TestUa(string method, string modalities) =>
        Report(method, modalities, ModelTrainer.Train(TestData.LearningSet, TestData.Key(method: method, modalities: modalities), null, "cpu", null, CancellationToken.None));

    private double Report(string method, string modalities, TrainingOutcome outcome)
    {
        output.WriteLine($"{method} {modalities}: test UA {outcome.Test.Ua:F4}, best epoch {outcome.BestEpoch}, {outcome.Seconds:F1} s");
        return outcome.Test.Ua;
    }

    [Fact]
    public void Cmha_with_all_three_modalities_learns_what_one_modality_cannot()
    {
        var avt = TestUa("cmha", "AVT");
        var audio = TestUa("none", "A");
        var video = TestUa("none", "V");
        Assert.True(avt >= 0.85, $"CMHA A+V+T test UA {avt:F3} should be at least 0.85");
        Assert.True(audio < 0.75, $"audio alone test UA {audio:F3} should stay below 0.75");
        Assert.True(video < 0.75, $"video alone test UA {video:F3} should stay below 0.75");
    }
}
