using FoldCluster.Features.Video;

namespace FoldCluster.Features.Tests;

public class FrameFeatureExtractorTests
{
    [Fact]
    public void Random_resnet50_gives_2048_features_per_frame_and_is_the_same_in_every_instance()
    {
        var spec = FrameNetworkSpec.From("resnet50", null, allowRandomWeights: true);
        Assert.Equal("resnet50-random", spec.RecordedName);
        var frames = new[] { Frame(64, 10), Frame(64, 200) };
        float[] a, b;
        using (var x = FrameFeatureExtractor.Create(spec))
        {
            a = x.Extract(frames, 64);
        }
        using (var y = FrameFeatureExtractor.Create(spec))
        {
            b = y.Extract(frames, 64);
        }
        Assert.Equal(2 * 2048, a.Length);
        Assert.Equal(a, b);
        Assert.NotEqual(a[..2048], a[2048..]);
        Assert.All(a, v => Assert.True(float.IsFinite(v)));
    }

    internal static byte[] Frame(int size, byte value)
    {
        var f = new byte[size * size * 3];
        for (int i = 0; i < f.Length; i++)
        {
            f[i] = (byte)((value + i * 7) % 256);
        }
        return f;
    }
}
