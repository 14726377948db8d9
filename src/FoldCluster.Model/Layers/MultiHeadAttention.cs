using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Layers;

/// <summary>How the output projection W^O starts.</summary>
public enum AttentionOutputInit
{
    /// <summary><c>torch.nn.MultiheadAttention</c>: Linear's default weight, zero bias.</summary>
    PyTorchDefault,

    /// <summary>MulT's <c>modules/multihead_attention.py</c>: xavier_uniform weight, zero bias.</summary>
    Xavier,
}

/// <summary>
/// Multi-head attention (paper eq. 1-4): full C x C projections of queries, keys and values (Section IV-C:
/// "three trainable matrices with dimension of 300 x 300"), split into h heads, scaled dot-product
/// attention per head, concatenation and the output projection W^O. Inputs are [N, L, C] (batch first).
/// Parameters and initialisation are those of PyTorch's <c>nn.MultiheadAttention</c> (the paper's framework):
/// the three projections form one xavier-uniform [3C x C] in-projection with zero biases, including the key
/// bias (softmax cancels it, but it is part of the reference's parameters).
/// </summary>
public sealed class MultiHeadAttention : nn.Module<Tensor, Tensor, Tensor>, IFlopCounted, IReferenceInitialised
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
    private readonly AttentionOutputInit _outputInit;

    public MultiHeadAttention(int width, int heads, double attentionDropout, Generator generator, long queryLength, long keyLength,
        AttentionOutputInit outputInit = AttentionOutputInit.PyTorchDefault)
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
        _outputInit = outputInit;
        query = nn.Linear(width, width);
        key = nn.Linear(width, width);
        value = nn.Linear(width, width);
        output = nn.Linear(width, width);
        this.attentionDropout = new SeededDropout(attentionDropout, generator);
        RegisterComponents();
    }

    public int Width => _width;
    public int Heads => _heads;

    public long ForwardFlops =>
        FlopCount.Linear(query, _queryLength) + FlopCount.Linear(key, _keyLength) + FlopCount.Linear(value, _keyLength)
        + FlopCount.Linear(output, _queryLength) + FlopCount.AttentionMatmuls(_queryLength, _keyLength, _width);

    public void ResetParameters(Generator generator)
    {
        // The stacked in-projection [3C x C] has fan_in C and fan_out 3C; each block is drawn with that bound.
        foreach (var projection in new[] { query, key, value })
        {
            Init.XavierUniform(projection.weight!, _width, 3L * _width, generator);
            Init.Zero(projection.bias);
        }
        if (_outputInit == AttentionOutputInit.Xavier)
        {
            Init.XavierUniform(output.weight!, _width, _width, generator);
        }
        Init.Zero(output.bias);
    }

    /// <summary>Queries attend to the keys/values of <paramref name="source"/>: MultiHead(Q = target, K = V = source).</summary>
    public override Tensor forward(Tensor target, Tensor source) => Attend(target, source, source, null);

    /// <summary>
    /// MultiHead(Q, K, V) with an optional additive mask [Lq, Lk] (0 where allowed, -inf where masked) added to the
    /// scores before the softmax.
    /// </summary>
    public Tensor Attend(Tensor queries, Tensor keys, Tensor values, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var n = queries.shape[0];
        var lq = queries.shape[1];
        var lk = keys.shape[1];
        var d = _width / _heads;
        var q = query.forward(queries).view(n, lq, _heads, d).transpose(1, 2);
        var k = key.forward(keys).view(n, lk, _heads, d).transpose(1, 2);
        var v = value.forward(values).view(n, lk, _heads, d).transpose(1, 2);
        Tensor attended;
        if (training && _dropout > 0)
        {
            var scores = q.matmul(k.transpose(2, 3)).div(Math.Sqrt(d));
            if (mask is not null)
            {
                scores = scores + mask;
            }
            attended = attentionDropout.forward(scores.softmax(-1)).matmul(v);
        }
        else
        {
            // Same maths as above (eq. 3) in libtorch's fused kernel.
            attended = nn.functional.scaled_dot_product_attention(q, k, v, mask);
        }
        var merged = attended.transpose(1, 2).reshape(n, lq, _width);
        return output.forward(merged).MoveToOuterDisposeScope();
    }
}
