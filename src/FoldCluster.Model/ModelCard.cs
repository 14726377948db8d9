using System.Globalization;
using FoldCluster.Core;
using FoldCluster.Model.Fusion;
using FoldCluster.Model.Layers;
using FoldCluster.Model.Training;
using static TorchSharp.torch;

namespace FoldCluster.Model;

/// <summary>The implementation a fusion method follows.</summary>
public sealed record FusionReference(string Title, string Repository, string File);

/// <summary>One node of the module tree: its trainable parameters and, where the module counts them, forward FLOPs per sample.</summary>
public sealed record ModelCardPart(
    string Name,
    string Kind,
    long Parameters,
    long? Flops,
    IReadOnlyList<ModelCardPart> Children,
    FusionReference? Reference = null,
    IReadOnlyList<string>? Differences = null);

/// <summary>What a reviewer needs to trust a Table II row: modules, sizes, FLOPs, optimiser, initialisation, references.</summary>
public sealed record ModelCard(
    string Method,
    string Modalities,
    string Profile,
    int VideoWidth,
    long Parameters,
    long ForwardFlops,
    long ReconstructionForwardFlops,
    OptimizerSettings Optimizer,
    IReadOnlyList<(string Layer, string Scheme)> Initialisation,
    IReadOnlyList<ModelCardPart> Parts)
{
    /// <summary>Builds the model of (method, modalities, profile) on the CPU and describes it; nothing is trained.</summary>
    public static ModelCard Describe(string method, ModalitySet modalities, TrainingProfile profile, int videoWidth, int depth = 3)
    {
        if (videoWidth < 1)
        {
            throw new BadInputException($"video width {videoWidth} is not valid: expected a positive number of features per frame (2048 ResNet-50, 4096 VGG-Face)");
        }
        if (depth < 1)
        {
            throw new BadInputException($"depth {depth} is not valid: expected at least 1 (1 = the top-level parts only)");
        }
        using var scope = NewDisposeScope();
        using var generator = new Generator(1, CPU);
        using var model = new EmotionModel(modalities, method, videoWidth, profile, generator);
        var parts = new List<ModelCardPart>();
        foreach (var (name, module) in model.named_children())
        {
            var part = Node(name, module, depth - 1);
            if (module is FusionModule)
            {
                var (reference, differences) = FusionReferences.For(model.Method, modalities, profile);
                part = part with { Reference = reference, Differences = differences };
            }
            parts.Add(part);
        }
        return new ModelCard(model.Method, modalities.ToString(), profile.Name, videoWidth,
            model.parameters().Sum(p => p.numel()), model.ForwardFlops, model.ReconstructionForwardFlops,
            PaperAdam.Settings(profile), Init.Schemes, parts);
    }

    private static ModelCardPart Node(string name, nn.Module module, int depth)
    {
        var children = depth <= 0
            ? []
            : module.named_children().Where(c => c.module.parameters().Any()).Select(c => Node(c.name, c.module, depth - 1)).ToList();
        return new ModelCardPart(name, module.GetName(), module.parameters().Sum(p => p.numel()), Flops(module), children);
    }

    /// <summary>The module's own count, else the sum over a container whose every trainable child counts its FLOPs.</summary>
    private static long? Flops(nn.Module module)
    {
        if (module is IFlopCounted counted)
        {
            return counted.ForwardFlops;
        }
        var children = module.children().Where(c => c.parameters().Any()).ToList();
        return children.Count > 0 && children.All(c => c is IFlopCounted) ? children.Sum(FlopCount.Of) : null;
    }
}

/// <summary>The reference each fusion method follows, and every way this implementation differs from it.</summary>
public static class FusionReferences
{
    public static (FusionReference Reference, IReadOnlyList<string> Differences) For(string method, ModalitySet modalities, TrainingProfile profile) =>
        method switch
        {
            "cmha" => (new FusionReference("MCWSA-CMHA (the paper), Section III-B, eq. (3)-(7), Section IV-C", "", ""), Cmha(profile)),
            "concat" => (new FusionReference("Concat (Tzirakis et al. [8]) as the paper describes it", "", ""), Concat()),
            "tfn" => (new FusionReference("Tensor Fusion Network (Zadeh et al. [10]), thuiar/MMSA version", "thuiar/MMSA",
                "src/MMSA/models/singleTask/TFN.py, src/MMSA/models/subNets/FeatureNets.py, src/MMSA/config/config_regression.json"), Tfn(modalities, profile)),
            "mult" => (new FusionReference("Multimodal Transformer (Tsai et al. [15])", "yaohungt/Multimodal-Transformer",
                "src/models.py, modules/transformer.py, modules/multihead_attention.py, modules/position_embedding.py"), Mult(modalities, profile)),
            _ => throw new BadInputException($"fusion method '{method}' is not known: expected one of {string.Join(", ", FusionModule.Methods)}"),
        };

    private static readonly string TrainedAsThePaper =
        "trained by the paper's procedure like every method here (two stages, Adam with betas (0.9, 0.999), eps 1e-8, the profile's "
        + "learning rate, weight decay and batch size, best-validation-UA weights)";

    private static List<string> Cmha(TrainingProfile profile)
    {
        var list = new List<string>
        {
            "the 1 x 1 convolutions (eq. 5, the 3C -> C mix) run as per-step Linear layers: the same map, one GEMM",
            "attention is PyTorch's nn.MultiheadAttention (xavier-uniform in-projection, zero biases including the key bias); the paper "
                + "states no dropout inside CMHA's attention, so it has none",
            "with two modalities one pair stage (eq. 5) is the fused code; the paper's orders MTI, MIT, TIM need three",
        };
        if (profile.Latent != 300 || profile.Heads != 6)
        {
            list.Add(string.Create(CultureInfo.InvariantCulture,
                $"profile {profile.Name}: latent C = {profile.Latent} (paper 300), {profile.Heads} heads (DESIGN.md: 6)"));
        }
        return list;
    }

    private static List<string> Concat() =>
    [
        "the 1 x 1 convolution kC -> C runs as a per-step Linear layer (the same map)",
    ];

    private static List<string> Tfn(ModalitySet modalities, TrainingProfile profile)
    {
        var list = new List<string>
        {
            "inputs are the encoders' [32 x C] codes: the audio and video subnetworks take their time mean (the reference takes one "
                + "feature vector per utterance), the text LSTM runs over the text code's 32 steps (the reference over word vectors)",
            "post_fusion_layer_3 maps to the shared fused code 32 x C instead of the class scores / regression output; no sigmoid "
                + "range scaling (output_range, output_shift)",
            "widths and dropouts are the mosi entry of config_regression.json (the reference has one per dataset and none for IEMOCAP "
                + "or MSP-IMPROV); the text subnetwork's dropout is 0, as the reference sets it for a one-layer LSTM",
            "every parameter trains; the reference's trainer hands parameters()[2:] to Adam, which leaves the audio subnetwork's "
                + "BatchNorm weight and bias at their initial values",
            "a 1 is prepended to each subnetwork's output, as TFN.py does (the outer product's layout follows it: audio slowest, text fastest)",
            TrainedAsThePaper + "; the reference trains with Adam at PyTorch defaults and early stopping after 8 epochs",
        };
        if (modalities.Count == 2)
        {
            list.Add($"two modalities ({modalities}): the outer product of the two present subnetworks; the reference is trimodal only");
        }
        if (profile.TfnAudioHidden != 32 || profile.TfnVideoHidden != 128 || profile.TfnTextHidden != 128 || profile.TfnTextOut != 32
            || profile.TfnPost != 64 || profile.TfnDropout != 0.3 || profile.TfnPostDropout != 0.5)
        {
            list.Add(string.Create(CultureInfo.InvariantCulture,
                $"profile {profile.Name}: audio {profile.TfnAudioHidden}, video {profile.TfnVideoHidden}, text LSTM {profile.TfnTextHidden} / out {profile.TfnTextOut}, ")
                + string.Create(CultureInfo.InvariantCulture,
                $"post-fusion {profile.TfnPost}, dropouts {profile.TfnDropout} / {profile.TfnPostDropout} (mosi: 32, 128, 128 / 32, 64, 0.3 / 0.5)"));
        }
        return list;
    }

    private static List<string> Mult(ModalitySet modalities, TrainingProfile profile)
    {
        var list = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"the inputs are the encoders' codes, already C = {profile.Latent} channels at 32 aligned steps: d = C instead of the reference's ")
                + ("fixed 30, and the 1 x 1 Conv1d input projections are not built (the reference skips them too when orig_d == d)"),
            "out_layer is replaced by one Linear from the fused representation (the residual block's output, k (k - 1) d wide) to the "
                + "shared fused code 32 x C; decoders and classifier are MCWSA's",
            "positions: every step t gets position t + 1; the reference gives a step whose first feature is exactly 0 the padding "
                + "position 0 (a zero embedding), which only padded sequences need",
            TrainedAsThePaper + "; the reference's gradient clipping (0.8), ReduceLROnPlateau schedule, batch 24 and L1 loss are not used",
        };
        if (modalities.Count == 2)
        {
            list.Add($"two modalities ({modalities}): each is a target with one source (memory width d); the reference builds three-modality models only");
        }
        if (profile.MultLayers != 5 || profile.MultHeads != 5 || profile.MultDropout != 0.1 || profile.MultEmbedDropout != 0.25
            || profile.MultAttnDropoutAudio != 0 || profile.MultAttnDropoutVideo != 0 || profile.MultOutDropout != 0)
        {
            list.Add(string.Create(CultureInfo.InvariantCulture,
                $"profile {profile.Name}: {profile.MultLayers} layers, {profile.MultHeads} heads, dropouts attention/relu/residual {profile.MultDropout}, ")
                + string.Create(CultureInfo.InvariantCulture, $"embedding {profile.MultEmbedDropout}, audio/video-source attention {profile.MultAttnDropoutAudio}/{profile.MultAttnDropoutVideo}, "
                + $"output {profile.MultOutDropout} (reference: 5, 5, 0.1, 0.25, 0/0, 0)"));
        }
        return list;
    }
}
