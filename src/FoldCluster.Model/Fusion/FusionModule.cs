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

    public static FusionModule Create(string method, int modalityCount, TrainingProfile profile, Generator generator) =>
        method switch
        {
            "concat" => new ConcatFusion(modalityCount, profile.Latent),
            "tfn" => new TensorFusion(modalityCount, profile, generator),
            "mult" => new MultimodalTransformerFusion(modalityCount, profile, generator),
            "cmha" => new CascadeMultiHeadAttention(modalityCount, profile, generator),
            _ => throw new BadInputException($"fusion method '{method}' is not known: expected one of {string.Join(", ", Methods)}"),
        };

    protected static long Steps => FeatureSet.SequenceLength;
}
