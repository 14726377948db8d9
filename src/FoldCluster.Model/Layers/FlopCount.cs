using TorchSharp.Modules;

namespace FoldCluster.Model.Layers;

/// <summary>A module that knows its forward floating-point operations for one sample (shapes are fixed by LTPP).</summary>
public interface IFlopCounted
{
    /// <summary>Multiply-adds count as two operations; element-wise work (norms, activations, softmax) is not counted.</summary>
    long ForwardFlops { get; }
}

/// <summary>FLOPs of single layers, read from their weight shapes.</summary>
public static class FlopCount
{
    /// <summary>A linear layer applied to <paramref name="rows"/> vectors (weight [out, in]).</summary>
    public static long Linear(Linear layer, long rows) => 2 * rows * layer.weight!.shape[0] * layer.weight.shape[1];

    /// <summary>A convolution producing <paramref name="outputPositions"/> positions (weight [out, in/groups, k...]).</summary>
    public static long Convolution(TorchSharp.torch.Tensor weight, long outputPositions) => 2 * outputPositions * weight.numel();

    /// <summary>A transposed convolution reading <paramref name="inputPositions"/> positions (weight [in, out/groups, k...]).</summary>
    public static long TransposedConvolution(TorchSharp.torch.Tensor weight, long inputPositions) => 2 * inputPositions * weight.numel();

    /// <summary>The two attention matmuls, QK^T and AV, over all heads together: 2 * 2 * Lq * Lk * E (eq. 1).</summary>
    public static long AttentionMatmuls(long queryLength, long keyLength, long width) => 4 * queryLength * keyLength * width;

    public static long Of(object? module) => module is IFlopCounted counted ? counted.ForwardFlops : 0;
}
