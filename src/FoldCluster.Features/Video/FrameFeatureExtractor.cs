using System.Collections;
using FoldCluster.Core;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FoldCluster.Features.Video;

/// <summary>Which frame network and where its weights come from.</summary>
public sealed record FrameNetworkSpec(string Network, string? WeightsPath, bool AllowRandomWeights)
{
    public const string ResNet50 = "resnet50";
    public const string VggFace = "vggface";

    public static string NormalizeNetwork(string name) => (name ?? "").Trim().ToLowerInvariant() switch
    {
        "resnet50" or "resnet" or "resnet-50" or "resnet50-random" => ResNet50,
        "vggface" or "vgg-face" or "vgg16" or "vggface-random" => VggFace,
        _ => throw new BadInputException($"unknown frame extractor '{name}': expected resnet50 or vggface"),
    };

    public static FrameNetworkSpec From(string extractor, string? weightsPath, bool allowRandomWeights)
    {
        var network = NormalizeNetwork(extractor);
        bool randomAsked = (extractor ?? "").Trim().EndsWith("-random", StringComparison.OrdinalIgnoreCase);
        if (string.IsNullOrWhiteSpace(weightsPath))
        {
            if (!allowRandomWeights && !randomAsked)
            {
                throw new BadInputException(
                    $"no weights file for the {network} frame extractor: pass --weights FILE (a PyTorch state dict or a TorchSharp .dat file), or --allow-random-weights to run with random weights (recorded as {network}-random)");
            }
            return new FrameNetworkSpec(network, null, true);
        }
        if (!File.Exists(weightsPath))
        {
            throw new BadInputException($"{weightsPath}: weights file not found");
        }
        return new FrameNetworkSpec(network, weightsPath, false);
    }

    /// <summary>The name recorded with every result: resnet50, vggface, or with "-random" when no weights file was used.</summary>
    public string RecordedName => WeightsPath is null ? Network + "-random" : Network;

    public int FeatureWidth => Network == ResNet50 ? 2048 : 4096;
}

/// <summary>
/// Per-frame visual features (DESIGN.md 4.3): TorchVision's ResNet-50 up to the global average pool (2048-d, the
/// layer before fc) or VGG-16 with VGG-Face weights up to fc7 after its ReLU (4096-d). Frames arrive as rgb24 already
/// resized to the input size, are scaled to [0, 1] and normalised with the ImageNet mean and std, and run in eval mode
/// without gradients. Weights come from a user file: a PyTorch state dict (zip or legacy pickle, read with
/// TorchSharp.PyBridge) or TorchSharp's own format; the classifier head (ResNet fc, VGG classifier.6: 1000 ImageNet
/// or 2622 VGG-Face identities) is not used and may have any shape. Random weights are drawn from a fixed-seed
/// generator, so every process and worker gets the same "-random" network (and the cache stays valid across them).
/// </summary>
public sealed class FrameFeatureExtractor : IDisposable
{
    private const long RandomSeed = 20240601;
    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] Std = [0.229f, 0.224f, 0.225f];
    private static readonly object ConstructionLock = new();

    private readonly Module<Tensor, Tensor> model;
    private readonly List<Module<Tensor, Tensor>> stages;

    private FrameFeatureExtractor(FrameNetworkSpec spec, Module<Tensor, Tensor> model, List<Module<Tensor, Tensor>> stages)
    {
        Spec = spec;
        this.model = model;
        this.stages = stages;
    }

    public FrameNetworkSpec Spec { get; }
    public int FeatureWidth => Spec.FeatureWidth;

    public static FrameFeatureExtractor Create(FrameNetworkSpec spec)
    {
        lock (ConstructionLock)
        {
            Module<Tensor, Tensor> model = spec.Network == FrameNetworkSpec.ResNet50
                ? torchvision.models.resnet50()
                : torchvision.models.vgg16(num_classes: 2622);
            try
            {
                if (spec.WeightsPath is null)
                {
                    InitialiseRandomly(model);
                }
                else
                {
                    LoadWeights(model, spec);
                }
                model.eval();
                return new FrameFeatureExtractor(spec, model, Stages(model, spec.Network));
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
    }

    /// <summary>Features of a batch of frames, each size x size x 3 bytes (rgb24): row-major [frames][FeatureWidth].</summary>
    public float[] Extract(IReadOnlyList<byte[]> frames, int size)
    {
        if (frames.Count == 0)
        {
            return [];
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var bytes = new byte[frames.Count * size * size * 3];
        for (int i = 0; i < frames.Count; i++)
        {
            if (frames[i].Length != size * size * 3)
            {
                throw new ArgumentException($"frame {i} has {frames[i].Length} bytes, expected {size * size * 3}");
            }
            Buffer.BlockCopy(frames[i], 0, bytes, i * size * size * 3, frames[i].Length);
        }
        var x = tensor(bytes, [frames.Count, size, size, 3], ScalarType.Byte)
            .permute(0, 3, 1, 2).to_type(ScalarType.Float32).div_(255f);
        var mean = tensor(Mean).view(1, 3, 1, 1);
        var std = tensor(Std).view(1, 3, 1, 1);
        x = (x - mean) / std;
        foreach (var stage in stages)
        {
            x = stage.forward(x);
        }
        x = x.flatten(1).contiguous();
        if (x.shape[1] != FeatureWidth)
        {
            throw new InvalidOperationException($"{Spec.Network} produced {x.shape[1]} features per frame, expected {FeatureWidth}");
        }
        return x.data<float>().ToArray();
    }

    public void Dispose() => model.Dispose();

    private static List<Module<Tensor, Tensor>> Stages(Module<Tensor, Tensor> model, string network)
    {
        var children = model.named_children().ToList();
        var stages = new List<Module<Tensor, Tensor>>();
        if (network == FrameNetworkSpec.ResNet50)
        {
            // Everything up to the global average pool; fc (the ImageNet head) is left out.
            foreach (var (name, child) in children)
            {
                if (name == "fc")
                {
                    break;
                }
                stages.Add((Module<Tensor, Tensor>)child);
            }
        }
        else
        {
            // features -> avgpool -> flatten -> classifier[0..4] (fc6, ReLU, Dropout, fc7, ReLU): the fc7 activation.
            foreach (var (name, child) in children)
            {
                if (name == "classifier")
                {
                    stages.Add(new FlattenStage());
                    var layers = child.named_children().Select(c => (Module<Tensor, Tensor>)c.module).Take(5);
                    stages.AddRange(layers);
                    break;
                }
                stages.Add((Module<Tensor, Tensor>)child);
            }
        }
        return stages;
    }

    private sealed class FlattenStage() : Module<Tensor, Tensor>("flatten")
    {
        public override Tensor forward(Tensor input) => input.flatten(1);
    }

    private static bool IsHead(string key, string network) =>
        network == FrameNetworkSpec.ResNet50 ? key.StartsWith("fc.", StringComparison.Ordinal) : key.StartsWith("classifier.6.", StringComparison.Ordinal);

    private static void InitialiseRandomly(Module<Tensor, Tensor> model)
    {
        // torchvision's schemes (kaiming-normal fan-out for convolutions, N(0, 0.01) for linear layers, BN 1/0),
        // drawn from a private generator so the global RNG and concurrent training threads do not change the result.
        using var generator = new Generator((ulong)RandomSeed);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            var shape = parameter.shape;
            if (name.EndsWith(".bias", StringComparison.Ordinal))
            {
                parameter.zero_();
            }
            else if (shape.Length == 1)
            {
                parameter.fill_(1.0);
            }
            else
            {
                double std = shape.Length == 4
                    ? Math.Sqrt(2.0 / (shape[0] * shape[2] * shape[3]))
                    : 0.01;
                using var values = randn(shape, generator: generator) * std;
                parameter.copy_(values);
            }
        }
    }

    private static void LoadWeights(Module<Tensor, Tensor> model, FrameNetworkSpec spec)
    {
        var path = spec.WeightsPath!;
        var expected = model.state_dict()
            .Where(kv => !IsHead(kv.Key, spec.Network) && !kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        bool pytorch = IsPyTorchFile(path);
        Dictionary<string, Tensor> loaded;
        try
        {
            loaded = pytorch ? ReadPyTorchStateDict(path) : ReadTorchSharpStateDict(path, spec.Network);
        }
        catch (BadInputException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new BadInputException(
                $"{path}: cannot read weights as a {(pytorch ? "PyTorch state dict" : "TorchSharp weights file")}: {FirstLine(e.Message)}");
        }
        try
        {
            // Checkpoints saved from nn.DataParallel prefix every key with "module.".
            if (loaded.Keys.All(k => k.StartsWith("module.", StringComparison.Ordinal)))
            {
                loaded = loaded.ToDictionary(kv => kv.Key["module.".Length..], kv => kv.Value);
            }
            var missing = expected.Keys.Where(k => !loaded.ContainsKey(k)).ToList();
            var wrongShape = expected.Where(kv => loaded.TryGetValue(kv.Key, out var t) && !t.shape.SequenceEqual(kv.Value.shape))
                .Select(kv => $"{kv.Key} is [{string.Join(", ", loaded[kv.Key].shape)}], expected [{string.Join(", ", kv.Value.shape)}]")
                .ToList();
            if (missing.Count > 0 || wrongShape.Count > 0)
            {
                var parts = new List<string>();
                if (missing.Count > 0)
                {
                    parts.Add($"{missing.Count} missing keys ({string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")})");
                }
                if (wrongShape.Count > 0)
                {
                    parts.Add($"{wrongShape.Count} wrong shapes ({string.Join("; ", wrongShape.Take(5))}{(wrongShape.Count > 5 ? "; ..." : "")})");
                }
                throw new BadInputException($"{path}: weights do not fit {spec.Network}: {string.Join(", ", parts)}");
            }
            using var noGrad = no_grad();
            foreach (var (key, target) in expected)
            {
                target.copy_(loaded[key].to_type(target.dtype));
            }
        }
        finally
        {
            foreach (var t in loaded.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>libtorch messages carry a native stack trace after the first line; users need only the first.</summary>
    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + "..." : line;
    }

    /// <summary>PyTorch's torch.save writes a zip archive ("PK") or, in the legacy format, a pickle (0x80 protocol byte).</summary>
    private static bool IsPyTorchFile(string path)
    {
        Span<byte> head = stackalloc byte[2];
        using var f = File.OpenRead(path);
        int n = f.Read(head);
        return n == 2 && ((head[0] == 'P' && head[1] == 'K') || head[0] == 0x80);
    }

    private static Dictionary<string, Tensor> ReadPyTorchStateDict(string path)
    {
        var table = PyTorchUnpickler.UnpickleStateDict(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is string key && entry.Value is Tensor t)
            {
                result[key] = t;
            }
        }
        if (result.Count == 0)
        {
            throw new BadInputException($"{path}: no tensors found (expected a state dict saved with torch.save(model.state_dict(), ...))");
        }
        return result;
    }

    /// <summary>
    /// TorchSharp's format stores tensors without shapes being checkable before load; load into a fresh model of the same
    /// architecture (non-strict), then report which keys it did not contain.
    /// </summary>
    private static Dictionary<string, Tensor> ReadTorchSharpStateDict(string path, string network)
    {
        using Module<Tensor, Tensor> probe = network == FrameNetworkSpec.ResNet50 ? torchvision.models.resnet50() : torchvision.models.vgg16(num_classes: 2622);
        var loadedFlags = new Dictionary<string, bool>();
        var head = probe.state_dict().Keys.Where(k => IsHead(k, network)).ToList();
        try
        {
            probe.load(path, strict: false, skip: head, loadedParameters: loadedFlags);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or NotImplementedException)
        {
            throw new BadInputException($"{path}: weights do not fit {network}: {FirstLine(e.Message)}");
        }
        return probe.state_dict()
            .Where(kv => loadedFlags.TryGetValue(kv.Key, out var ok) && ok)
            .ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    }
}
