using FoldCluster.Core;
using FoldCluster.Model.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Fusion;

/// <summary>
/// Sinusoidal positional embeddings as MulT's <c>modules/position_embedding.py</c> (tensor2tensor's variant) builds
/// them: for width d and h = d / 2, channel i &lt; h of position p is sin(p w_i), channel h + i is cos(p w_i), with
/// w_i = exp(-i ln(10000) / (h - 1)); an odd width gets a zero last channel. The reference numbers non-padding
/// steps from 1 (0 is its padding index), so time step t has position t + 1.
/// </summary>
public static class SinusoidalPositions
{
    /// <summary>[steps, width]: row t is the embedding of time step t (position t + 1).</summary>
    public static Tensor Table(int steps, int width)
    {
        var half = width / 2;
        var rate = Math.Log(10000) / (half - 1);
        var values = new float[steps * width];
        for (var t = 0; t < steps; t++)
        {
            var position = t + 1;
            for (var i = 0; i < half; i++)
            {
                var angle = position * Math.Exp(-i * rate);
                values[t * width + i] = (float)Math.Sin(angle);
                values[t * width + half + i] = (float)Math.Cos(angle);
            }
        }
        return tensor(values, [steps, width]);
    }
}

/// <summary>
/// One layer of MulT's <c>TransformerEncoderLayer</c> (pre-LayerNorm): x + res_drop(MHA(LN0(x), LN0(k), LN0(v)))
/// with one LayerNorm shared by query, key and value, then x + res_drop(fc2(relu_drop(relu(fc1(LN1(x)))))) with a
/// feed-forward width of 4d. Without keys it is a self-attention layer.
/// </summary>
public sealed class MultLayer : nn.Module, IFlopCounted, IReferenceInitialised
{
    private readonly MultiHeadAttention attention;
    private readonly LayerNorm attentionNorm;
    private readonly LayerNorm feedForwardNorm;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly SeededDropout residualDropout;
    private readonly SeededDropout reluDropout;

    public MultLayer(int width, int heads, double attentionDropout, double reluDropoutRate, double residualDropoutRate, Generator generator)
        : base(nameof(MultLayer))
    {
        attention = new MultiHeadAttention(width, heads, attentionDropout, generator, FeatureSet.SequenceLength, FeatureSet.SequenceLength,
            AttentionOutputInit.Xavier);
        attentionNorm = nn.LayerNorm(width);
        feedForwardNorm = nn.LayerNorm(width);
        fc1 = nn.Linear(width, 4 * width);
        fc2 = nn.Linear(4 * width, width);
        residualDropout = new SeededDropout(residualDropoutRate, generator);
        reluDropout = new SeededDropout(reluDropoutRate, generator);
        RegisterComponents();
    }

    public long ForwardFlops =>
        attention.ForwardFlops + FlopCount.Linear(fc1, FeatureSet.SequenceLength) + FlopCount.Linear(fc2, FeatureSet.SequenceLength);

    public void ResetParameters(Generator generator)
    {
        // The reference's Linear helper: xavier_uniform weight, zero bias.
        Init.XavierLinear(fc1, generator);
        Init.XavierLinear(fc2, generator);
    }

    public Tensor Forward(Tensor x, Tensor? keys, Tensor? values, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var q = attentionNorm.forward(x);
        var attended = keys is null || values is null
            ? attention.Attend(q, q, q, mask)
            : attention.Attend(q, attentionNorm.forward(keys), attentionNorm.forward(values), mask);
        var y = x + residualDropout.forward(attended);
        var ff = fc2.forward(reluDropout.forward(nn.functional.relu(fc1.forward(feedForwardNorm.forward(y)))));
        return (y + residualDropout.forward(ff)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// MulT's <c>TransformerEncoder</c>: inputs scaled by sqrt(d), sinusoidal positions added, embedding dropout (drawn
/// separately for query, key and value, as the reference does), the layers under the causal mask of the reference's
/// default <c>--attn_mask</c> (step t attends to steps up to t), a final LayerNorm. Cross-modal when a source is given.
/// </summary>
public sealed class MultTransformer : nn.Module, IFlopCounted
{
    private readonly ModuleList<MultLayer> layers;
    private readonly LayerNorm finalNorm;
    private readonly SeededDropout embedDropout;
    private readonly Tensor positions;
    private readonly Tensor causalMask;
    private readonly double _scale;

    public MultTransformer(int width, int heads, int depth, double attentionDropout, double reluDropout, double residualDropout,
        double embedDropoutRate, Generator generator) : base(nameof(MultTransformer))
    {
        _scale = Math.Sqrt(width);
        Depth = depth;
        Width = width;
        layers = new ModuleList<MultLayer>();
        for (var i = 0; i < depth; i++)
        {
            layers.Add(new MultLayer(width, heads, attentionDropout, reluDropout, residualDropout, generator));
        }
        finalNorm = nn.LayerNorm(width);
        embedDropout = new SeededDropout(embedDropoutRate, generator);
        var steps = FeatureSet.SequenceLength;
        positions = SinusoidalPositions.Table(steps, width);
        // buffered_future_mask with equal lengths: -inf above the diagonal.
        causalMask = full(steps, steps, float.NegativeInfinity).triu(1);
        RegisterComponents();
    }

    public int Depth { get; }
    public int Width { get; }

    public long ForwardFlops => layers.Sum(l => l.ForwardFlops);

    /// <summary>Query = <paramref name="target"/> [N, 32, d]; key/value = <paramref name="source"/>, or the target itself when null.</summary>
    public Tensor Forward(Tensor target, Tensor? source)
    {
        using var scope = NewDisposeScope();
        var x = embedDropout.forward(target * _scale + positions);
        Tensor? keys = null;
        Tensor? values = null;
        if (source is not null)
        {
            var embedded = source * _scale + positions;
            keys = embedDropout.forward(embedded);
            values = embedDropout.forward(embedded);
        }
        foreach (var layer in layers)
        {
            x = layer.Forward(x, keys, values, causalMask);
        }
        return finalNorm.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// MulT baseline (Tsai et al. [15], yaohungt/Multimodal-Transformer <c>src/models.py</c>): for every ordered pair a
/// cross-modal transformer (query = target, key/value = source); per target its sources' outputs concatenated and
/// passed through a memory (self-attention) transformer of depth max(layers, 3); the last time step of each target's
/// memory, concatenated, through the reference's residual projection block: that is the fused representation, and one
/// linear map turns it into the shared fused code [32 x C] (where the reference's output layer would be).
/// Targets and sources run in the reference's order text, audio, video.
/// </summary>
public sealed class MultimodalTransformerFusion : FusionModule
{
    /// <summary>The reference's depth floor for the memory transformers (<c>get_network(..., layers=3)</c>).</summary>
    public const int MemoryMinDepth = 3;

    private readonly ModuleList<MultTransformer> crossModal;
    private readonly ModuleList<MultTransformer> memory;
    private readonly SeededDropout textEmbedDropout;
    private readonly Linear proj1;
    private readonly SeededDropout outDropout;
    private readonly Linear proj2;
    private readonly Linear map;
    private readonly int[] _order;
    private readonly int _textIndex;
    private readonly int _latent;

    public MultimodalTransformerFusion(ModalitySet modalities, TrainingProfile profile, Generator generator) : base(nameof(MultimodalTransformerFusion))
    {
        // Codes arrive in A, V, T order; the reference runs l (text), a, v.
        var present = Present(modalities);
        _order = new[] { 'T', 'A', 'V' }.Where(present.Contains).Select(m => Array.IndexOf(present, m)).ToArray();
        _textIndex = Array.IndexOf(present, 'T');
        _latent = profile.Latent;
        var k = present.Length;
        crossModal = new ModuleList<MultTransformer>();
        memory = new ModuleList<MultTransformer>();
        foreach (var target in _order)
        {
            foreach (var source in _order.Where(s => s != target))
            {
                // get_network: the attention dropout follows the source modality (attn_dropout for text, _a, _v).
                var attentionDropout = present[source] switch
                {
                    'A' => profile.MultAttnDropoutAudio,
                    'V' => profile.MultAttnDropoutVideo,
                    _ => profile.MultDropout,
                };
                crossModal.Add(new MultTransformer(_latent, profile.MultHeads, profile.MultLayers, attentionDropout,
                    profile.MultDropout, profile.MultDropout, profile.MultEmbedDropout, generator));
            }
            memory.Add(new MultTransformer((k - 1) * _latent, profile.MultHeads, Math.Max(profile.MultLayers, MemoryMinDepth),
                profile.MultDropout, profile.MultDropout, profile.MultDropout, profile.MultEmbedDropout, generator));
        }
        textEmbedDropout = new SeededDropout(profile.MultEmbedDropout, generator);
        CombinedWidth = k * (k - 1) * _latent;
        proj1 = nn.Linear(CombinedWidth, CombinedWidth);
        outDropout = new SeededDropout(profile.MultOutDropout, generator);
        proj2 = nn.Linear(CombinedWidth, CombinedWidth);
        map = nn.Linear(CombinedWidth, FeatureSet.SequenceLength * _latent);
        RegisterComponents();
    }

    /// <summary>Width of the fused representation: k targets x (k - 1) sources x d.</summary>
    public int CombinedWidth { get; }

    public override long ForwardFlops =>
        crossModal.Sum(t => t.ForwardFlops) + memory.Sum(t => t.ForwardFlops)
        + FlopCount.Linear(proj1, 1) + FlopCount.Linear(proj2, 1) + FlopCount.Linear(map, 1);

    public override Tensor forward(Tensor[] codes)
    {
        using var scope = NewDisposeScope();
        var inputs = (Tensor[])codes.Clone();
        if (_textIndex >= 0)
        {
            // models.py drops out the text input once more before everything else.
            inputs[_textIndex] = textEmbedDropout.forward(inputs[_textIndex]);
        }
        var last = new List<Tensor>(_order.Length);
        var pair = 0;
        for (var t = 0; t < _order.Length; t++)
        {
            var target = _order[t];
            var fromSources = new List<Tensor>();
            foreach (var source in _order.Where(s => s != target))
            {
                fromSources.Add(crossModal[pair++].Forward(inputs[target], inputs[source]));
            }
            var h = memory[t].Forward(cat(fromSources, 2), null);
            last.Add(h.select(1, -1));   // the last time step
        }
        var lastHs = cat(last, 1);
        var projected = proj2.forward(outDropout.forward(nn.functional.relu(proj1.forward(lastHs)))) + lastHs;
        return map.forward(projected).reshape(codes[0].shape[0], FeatureSet.SequenceLength, _latent).MoveToOuterDisposeScope();
    }
}
