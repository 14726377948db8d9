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

public class FrameWeightsTests
{
    [Fact]
    public void PyTorch_and_TorchSharp_weight_files_load_and_bad_ones_are_refused_with_the_key()
    {
        var dir = TestFolders.Create();
        using var source = TorchSharp.torchvision.models.resnet50();
        var pth = Path.Combine(dir, "resnet50.pth");
        var dat = Path.Combine(dir, "resnet50.dat");
        var stateDict = source.state_dict();
        TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(pth, new System.Collections.Hashtable(stateDict.ToDictionary(kv => (object)kv.Key, kv => (object?)kv.Value)));
        source.save(dat);
        var frames = new[] { FrameFeatureExtractorTests.Frame(64, 3) };
        float[] fromPth, fromDat, random;
        using (var x = FrameFeatureExtractor.Create(FrameNetworkSpec.From("resnet50", pth, false)))
        {
            Assert.Equal("resnet50", x.Spec.RecordedName);
            fromPth = x.Extract(frames, 64);
        }
        using (var x = FrameFeatureExtractor.Create(FrameNetworkSpec.From("resnet50", dat, false)))
        {
            fromDat = x.Extract(frames, 64);
        }
        using (var x = FrameFeatureExtractor.Create(FrameNetworkSpec.From("resnet50", null, true)))
        {
            random = x.Extract(frames, 64);
        }
        Assert.Equal(fromPth, fromDat);
        Assert.NotEqual(fromPth, random);

        var missing = Path.Combine(dir, "missing.pth");
        var partial = stateDict.Where(kv => kv.Key != "layer4.2.bn3.weight").ToDictionary(kv => (object)kv.Key, kv => (object?)kv.Value);
        TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(missing, new System.Collections.Hashtable(partial));
        var e = Assert.Throws<FoldCluster.Core.BadInputException>(() => FrameFeatureExtractor.Create(FrameNetworkSpec.From("resnet50", missing, false)));
        Assert.Contains("missing keys (layer4.2.bn3.weight)", e.Message);
        Assert.Contains(missing, e.Message);

        var wrong = Path.Combine(dir, "wrong.pth");
        var reshaped = stateDict.ToDictionary(kv => (object)kv.Key, kv => (object?)(kv.Key == "conv1.weight" ? TorchSharp.torch.zeros(64, 3, 5, 5) : kv.Value));
        TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(wrong, new System.Collections.Hashtable(reshaped));
        var w = Assert.Throws<FoldCluster.Core.BadInputException>(() => FrameFeatureExtractor.Create(FrameNetworkSpec.From("resnet50", wrong, false)));
        Assert.Contains("conv1.weight is [64, 3, 5, 5], expected [64, 3, 7, 7]", w.Message);

        var garbage = Path.Combine(dir, "garbage.pth");
        File.WriteAllText(garbage, "PK not really a zip");
        Assert.Throws<FoldCluster.Core.BadInputException>(() => FrameFeatureExtractor.Create(FrameNetworkSpec.From("resnet50", garbage, false)));
    }

    [Fact]
    public void Random_vggface_gives_4096_fc7_features()
    {
        var spec = FrameNetworkSpec.From("vggface", null, allowRandomWeights: true);
        Assert.Equal("vggface-random", spec.RecordedName);
        using var x = FrameFeatureExtractor.Create(spec);
        var f = x.Extract([FrameFeatureExtractorTests.Frame(64, 1)], 64);
        Assert.Equal(4096, f.Length);
        Assert.All(f, v => Assert.True(v >= 0)); // after fc7's ReLU
    }
}
