using FoldCluster.Core;
using FoldCluster.Model.Layers;
using static TorchSharp.torch;

namespace FoldCluster.Model.Fusion;

/// <summary>
/// Maps the present encoders' codes (each [N, 32, C], in A, V, T order) to one fused code [N, 32, C],
/// so decoders and classifier are shared by every fusion method (DESIGN.md section 5).
/// </summary>
public abstract class FusionModule : nn.Module<Tensor[], Tensor>, IFlopCounted
{
    protected FusionModule(string name) : base(name)
    {
    }

    public abstract long ForwardFlops { get; }

    /// <summary>Method names accepted in job keys.</summary>
    public static readonly IReadOnlyList<string> Methods = ["concat", "tfn", "mult", "cmha"];

    /// <summary>The method name for a single modality: no fusion.</summary>
    public const string NoFusion = "none";

    public static FusionModule Create(string method, ModalitySet modalities, TrainingProfile profile, Generator generator) =>
        method switch
        {
            "concat" => new ConcatFusion(modalities.Count, profile.Latent),
            "tfn" => new TensorFusion(modalities, profile, generator),
            "mult" => new MultimodalTransformerFusion(modalities, profile, generator),
            "cmha" => new CascadeMultiHeadAttention(modalities.Count, profile, generator),
            _ => throw new BadInputException($"fusion method '{method}' is not known: expected one of {string.Join(", ", Methods)}"),
        };

    protected static long Steps => FeatureSet.SequenceLength;

    /// <summary>The present modalities' letters in the order their codes arrive (A, V, T).</summary>
    protected static char[] Present(ModalitySet modalities)
    {
        var present = new List<char>(3);
        if (modalities.HasAudio)
        {
            present.Add('A');
        }
        if (modalities.HasVideo)
        {
            present.Add('V');
        }
        if (modalities.HasText)
        {
            present.Add('T');
        }
        if (present.Count < 2)
        {
            throw new ArgumentException($"a fusion module fuses two or three modalities, not {modalities}", nameof(modalities));
        }
        return [.. present];
    }
}
