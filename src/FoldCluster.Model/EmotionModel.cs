using FoldCluster.Core;
using FoldCluster.Model.Decoders;
using FoldCluster.Model.Encoders;
using FoldCluster.Model.Fusion;
using FoldCluster.Model.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model;

/// <summary>The inputs of one batch; a modality the model does not use is null.</summary>
public sealed record ModelInputs(Tensor? Audio, Tensor? Video, Tensor? Text);

/// <summary>
/// MCWSA with a swappable fusion module (paper Fig. 1): one encoder per present modality, the fusion module
/// (shared by all channels, F_L in eq. 9), one decoder per present modality (stage 1) and the classifier (stage 2).
/// A single modality has no fusion module: its code is the fused code.
/// </summary>
public sealed class EmotionModel : nn.Module<ModelInputs, Tensor>, IFlopCounted
{
    private readonly AudioEncoder? audioEncoder;
    private readonly VideoEncoder? videoEncoder;
    private readonly TextEncoder? textEncoder;
    private readonly FusionModule? fusion;
    private readonly AudioDecoder? audioDecoder;
    private readonly SequenceDecoder? videoDecoder;
    private readonly SequenceDecoder? textDecoder;
    private readonly EmotionClassifier classifier;

    public EmotionModel(ModalitySet modalities, string method, int videoWidth, TrainingProfile profile, Generator generator)
        : base(nameof(EmotionModel))
    {
        Modalities = modalities;
        Method = CheckMethod(method, modalities);
        profile.Validate();
        if (modalities.HasAudio)
        {
            audioEncoder = new AudioEncoder(profile, generator);
        }
        if (modalities.HasVideo)
        {
            videoEncoder = new VideoEncoder(profile, videoWidth, generator);
        }
        if (modalities.HasText)
        {
            textEncoder = new TextEncoder(profile, generator);
        }
        fusion = modalities.Count > 1 ? FusionModule.Create(Method, modalities, profile, generator) : null;
        if (modalities.HasAudio)
        {
            audioDecoder = new AudioDecoder(profile);
        }
        if (modalities.HasVideo)
        {
            videoDecoder = new SequenceDecoder(profile.Latent, videoWidth);
        }
        if (modalities.HasText)
        {
            textDecoder = new SequenceDecoder(profile.Latent, FeatureSet.TextWidth);
        }
        classifier = new EmotionClassifier(profile, generator);
        RegisterComponents();
    }

    public ModalitySet Modalities { get; }
    public string Method { get; }

    /// <summary>
    /// Checks that <paramref name="method"/> can take <paramref name="modalities"/>: a fusion method needs two or
    /// three modalities; "none" (no fusion) exactly one. Returns the normalised name.
    /// </summary>
    public static string CheckMethod(string method, ModalitySet modalities)
    {
        var m = (method ?? "").Trim().ToLowerInvariant();
        var known = FusionModule.Methods.Append(FusionModule.NoFusion).ToArray();
        if (!known.Contains(m))
        {
            throw new BadInputException($"fusion method '{method}' is not known: expected one of {string.Join(", ", known)}");
        }
        if (modalities.Count == 1 && m != FusionModule.NoFusion)
        {
            throw new BadInputException(
                $"fusion method '{m}' cannot take the single modality {modalities}: a single modality has no fusion, use method '{FusionModule.NoFusion}'");
        }
        if (modalities.Count > 1 && m == FusionModule.NoFusion)
        {
            throw new BadInputException(
                $"method '{FusionModule.NoFusion}' cannot take {modalities}: two or three modalities need one of {string.Join(", ", FusionModule.Methods)}");
        }
        return m;
    }

    public IEnumerable<nn.Module> Encoders => new nn.Module?[] { audioEncoder, videoEncoder, textEncoder }.OfType<nn.Module>();
    public FusionModule? FusionPart => fusion;
    public IEnumerable<nn.Module> Decoders => new nn.Module?[] { audioDecoder, videoDecoder, textDecoder }.OfType<nn.Module>();
    public nn.Module Classifier => classifier;

    /// <summary>Stage 1 trains encoders, fusion and decoders (eq. 10).</summary>
    public IEnumerable<Parameter> ReconstructionParameters() =>
        Encoders.Concat(fusion is null ? [] : [fusion]).Concat(Decoders).SelectMany(m => m.parameters());

    /// <summary>Stage 2 fine-tunes encoders, fusion and classifier (Section IV-C).</summary>
    public IEnumerable<Parameter> ClassificationParameters() =>
        Encoders.Concat(fusion is null ? [] : [fusion]).Append(classifier).SelectMany(m => m.parameters());

    /// <summary>Forward FLOPs of one sample through encoders, fusion and classifier (stage 2's path).</summary>
    public long ForwardFlops => Encoders.Sum(FlopCount.Of) + FlopCount.Of(fusion) + classifier.ForwardFlops;

    /// <summary>Forward FLOPs of one sample through encoders, fusion and decoders (stage 1's path).</summary>
    public long ReconstructionForwardFlops => Encoders.Sum(FlopCount.Of) + FlopCount.Of(fusion) + Decoders.Sum(FlopCount.Of);

    /// <summary>The fused code [N, 32, C] of a batch.</summary>
    public Tensor Fuse(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var codes = new List<Tensor>(3);
        if (audioEncoder is not null)
        {
            codes.Add(audioEncoder.forward(Required(inputs.Audio, "audio")));
        }
        if (videoEncoder is not null)
        {
            codes.Add(videoEncoder.forward(Required(inputs.Video, "video")));
        }
        if (textEncoder is not null)
        {
            codes.Add(textEncoder.forward(Required(inputs.Text, "text")));
        }
        var fused = fusion is null ? codes[0] : fusion.forward([.. codes]);
        return fused.MoveToOuterDisposeScope();
    }

    /// <summary>Rebuilds every present modality's input from the fused code (eq. 9).</summary>
    public ModelInputs Reconstruct(Tensor fused) => new(
        audioDecoder?.forward(fused),
        videoDecoder?.forward(fused),
        textDecoder?.forward(fused));

    public Tensor Classify(Tensor fused) => classifier.forward(fused);

    /// <summary>Class logits [N, 4].</summary>
    public override Tensor forward(ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        return Classify(Fuse(inputs)).MoveToOuterDisposeScope();
    }

    private static Tensor Required(Tensor? tensor, string name) =>
        tensor ?? throw new ArgumentException($"the model uses {name} but the batch has none");
}
