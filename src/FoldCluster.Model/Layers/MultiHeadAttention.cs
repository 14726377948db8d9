using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Layers;

/// <summary>
/// Multi-head attention (paper eq. 1-4): full C x C projections of queries, keys and values (Section IV-C:
/// "three trainable matrices with dimension of 300 x 300"), split into h heads, scaled dot-product
/// attention per head, concatenation and the output projection W^O. Inputs are [N, L, C] (batch first).
/// </summary>
public sealed class MultiHeadAttention : nn.Module<Tensor, Tensor, Tensor>, IFlopCounted
{
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Linear output;
    private readonly SeededDropout attentionDropout;
    private readonly int _heads;
    private readonly int _width;
    private readonly double _dropout;
    private readonly long _queryLength;
    private readonly long _keyLength;

    public MultiHeadAttention(int width, int heads, double attentionDropout, Generator generator, long queryLength, long keyLength)
        : base(nameof(MultiHeadAttention))
    {
        if (width % heads != 0)
        {
            throw new ArgumentException($"width {width} is not divisible by {heads} heads");
        }
        _width = width;
        _heads = heads;
        _dropout = attentionDropout;
        _queryLength = queryLength;
        _keyLength = keyLength;
        query = nn.Linear(width, width);
        // No key bias: it adds q.b to every score of a query alike, which softmax cancels (its gradient is zero).
        key = nn.Linear(width, width, hasBias: false);
        value = nn.Linear(width, width);
        output = nn.Linear(width, width);
        this.attentionDropout = new SeededDropout(attentionDropout, generator);
        RegisterComponents();
    }

    public long ForwardFlops =>
        FlopCount.Linear(query, _queryLength) + FlopCount.Linear(key, _keyLength) + FlopCount.Linear(value, _keyLength)
        + FlopCount.Linear(output, _queryLength) + FlopCount.AttentionMatmuls(_queryLength, _keyLength, _width);

    /// <summary>Queries attend to the keys/values of <paramref name="source"/>: MultiHead(Q = target, K = V = source).</summary>
    public override Tensor forward(Tensor target, Tensor source)
    {
        using var scope = NewDisposeScope();
        var n = target.shape[0];
        var lq = target.shape[1];
        var lk = source.shape[1];
        var d = _width / _heads;
        var q = query.forward(target).view(n, lq, _heads, d).transpose(1, 2);
        var k = key.forward(source).view(n, lk, _heads, d).transpose(1, 2);
        var v = value.forward(source).view(n, lk, _heads, d).transpose(1, 2);
        Tensor attended;
        if (training && _dropout > 0)
        {
            var weights = q.matmul(k.transpose(2, 3)).div(Math.Sqrt(d)).softmax(-1);
            attended = attentionDropout.forward(weights).matmul(v);
        }
        else
        {
            // Same maths as above (eq. 3) in libtorch's fused kernel.
            attended = nn.functional.scaled_dot_product_attention(q, k, v);
        }
        var merged = attended.transpose(1, 2).reshape(n, lq, _width);
        return output.forward(merged).MoveToOuterDisposeScope();
    }
}
