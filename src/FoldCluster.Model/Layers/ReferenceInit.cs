using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Layers;

/// <summary>
/// A module whose layers start as its reference implementation initialises them, not with PyTorch's per-layer
/// default. <see cref="SeededInit"/> calls it after the default draw, from the job's generator.
/// </summary>
public interface IReferenceInitialised
{
    void ResetParameters(Generator generator);
}

/// <summary>The initialisation schemes the model uses, named as <c>torch.nn.init</c> names them.</summary>
public static class Init
{
    /// <summary>xavier_uniform_: U(-b, b) with b = sqrt(6 / (fan_in + fan_out)).</summary>
    public static double XavierBound(long fanIn, long fanOut) => Math.Sqrt(6.0 / (fanIn + fanOut));

    /// <summary>
    /// Draws <paramref name="weight"/> from U(-b, b) with the xavier bound of a matrix of <paramref name="fanOut"/> rows
    /// and <paramref name="fanIn"/> columns (a block of a larger matrix passes the whole matrix's fans).
    /// </summary>
    public static void XavierUniform(Tensor weight, long fanIn, long fanOut, Generator generator)
    {
        using var noGrad = no_grad();
        var bound = XavierBound(fanIn, fanOut);
        weight.uniform_(-bound, bound, generator);
    }

    /// <summary>xavier_uniform_ of a linear layer's own [out, in] weight, and a zero bias.</summary>
    public static void XavierLinear(Linear layer, Generator generator)
    {
        XavierUniform(layer.weight!, layer.weight!.shape[1], layer.weight.shape[0], generator);
        Zero(layer.bias);
    }

    public static void Zero(Tensor? bias)
    {
        if (bias is null)
        {
            return;
        }
        using var noGrad = no_grad();
        bias.zero_();
    }

    /// <summary>
    /// The schemes by layer kind, for the model card: what <see cref="SeededInit"/> and the modules'
    /// <see cref="IReferenceInitialised.ResetParameters"/> do.
    /// </summary>
    public static IReadOnlyList<(string Layer, string Scheme)> Schemes { get; } =
    [
        ("Linear, Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d (default)",
            "PyTorch's default: kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight, the same bound for the bias"),
        ("LSTM", "PyTorch's default: every weight and bias U(-1/sqrt(hidden), 1/sqrt(hidden))"),
        ("BatchNorm, LayerNorm", "weight 1, bias 0 (running mean 0, variance 1)"),
        ("MultiHeadAttention (encoders, CMHA, as torch.nn.MultiheadAttention)",
            "query, key, value projections: xavier_uniform of the stacked [3C x C] in-projection, bound sqrt(6 / (C + 3C)); their biases 0; output projection weight PyTorch's default, bias 0"),
        ("MultiHeadAttention (MulT, as modules/multihead_attention.py)",
            "in-projection as above; output projection xavier_uniform, bias 0"),
        ("MulT feed-forward Linear (fc1, fc2)", "xavier_uniform, bias 0 (the reference's Linear helper)"),
    ];
}
