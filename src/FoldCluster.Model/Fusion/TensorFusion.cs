using FoldCluster.Core;
using FoldCluster.Model.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Fusion;

/// <summary>
/// TFN's pre-fusion subnetwork for audio and video (thuiar/MMSA <c>subNets/FeatureNets.py</c>, <c>SubNet</c>):
/// BatchNorm, dropout, three Linear + ReLU. Its input is the time mean of the encoder's code.
/// </summary>
public sealed class TfnSubNet : nn.Module<Tensor, Tensor>, IFlopCounted
{
    private readonly BatchNorm1d norm;
    private readonly SeededDropout dropout;
    private readonly Linear linear1;
    private readonly Linear linear2;
    private readonly Linear linear3;

    public TfnSubNet(int inputWidth, int hidden, double dropoutRate, Generator generator) : base(nameof(TfnSubNet))
    {
        norm = nn.BatchNorm1d(inputWidth, eps: 1e-5, momentum: 0.1);
        dropout = new SeededDropout(dropoutRate, generator);
        linear1 = nn.Linear(inputWidth, hidden);
        linear2 = nn.Linear(hidden, hidden);
        linear3 = nn.Linear(hidden, hidden);
        RegisterComponents();
    }

    public long ForwardFlops => FlopCount.Linear(linear1, 1) + FlopCount.Linear(linear2, 1) + FlopCount.Linear(linear3, 1);

    /// <summary>[N, 32, C] -> [N, hidden].</summary>
    public override Tensor forward(Tensor code)
    {
        using var scope = NewDisposeScope();
        var x = dropout.forward(norm.forward(code.mean([1])));
        x = nn.functional.relu(linear1.forward(x));
        x = nn.functional.relu(linear2.forward(x));
        return nn.functional.relu(linear3.forward(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// TFN's text subnetwork (MMSA <c>TextSubNet</c>): a one-layer LSTM over the sequence, its final hidden state,
/// dropout, one Linear (no activation). The reference sets the dropout to 0 for a one-layer LSTM, and so does this.
/// </summary>
public sealed class TfnTextSubNet : nn.Module<Tensor, Tensor>, IFlopCounted
{
    private readonly LSTM rnn;
    private readonly SeededDropout dropout;
    private readonly Linear linear1;
    private readonly long _inputWidth;
    private readonly long _hidden;

    public TfnTextSubNet(int inputWidth, int hidden, int outWidth, Generator generator) : base(nameof(TfnTextSubNet))
    {
        _inputWidth = inputWidth;
        _hidden = hidden;
        rnn = nn.LSTM(inputWidth, hidden, numLayers: 1, batchFirst: true);
        dropout = new SeededDropout(0.0, generator);
        linear1 = nn.Linear(hidden, outWidth);
        RegisterComponents();
    }

    /// <summary>Per step the four gates' products of input and state: 2 x 4H x (I + H); 32 steps.</summary>
    public long ForwardFlops => FeatureSet.SequenceLength * 2 * 4 * _hidden * (_inputWidth + _hidden) + FlopCount.Linear(linear1, 1);

    /// <summary>[N, 32, C] -> [N, out].</summary>
    public override Tensor forward(Tensor code)
    {
        using var scope = NewDisposeScope();
        var (_, finalHidden, _) = rnn.forward(code);
        var h = dropout.forward(finalHidden.squeeze(0));
        return linear1.forward(h).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Tensor Fusion Network (Zadeh et al. [10], as thuiar/MMSA <c>models/singleTask/TFN.py</c> builds it, not the
/// original repository's reshape): per-modality subnetworks (audio and video <see cref="TfnSubNet"/>, text
/// <see cref="TfnTextSubNet"/>), a 1 prepended to each output, the outer product in the order audio, video, text
/// ((h_a + 1)(h_v + 1)(h_t + 1) values: unimodal, bimodal and trimodal terms), post-fusion dropout and three Linear
/// layers (ReLU after the first two); the third maps to the shared fused code [32 x C] instead of the reference's
/// class scores.
/// </summary>
public sealed class TensorFusion : FusionModule
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> subnets;
    private readonly SeededDropout postDropout;
    private readonly Linear post1;
    private readonly Linear post2;
    private readonly Linear post3;
    private readonly int _latent;
    private readonly long _product;

    public TensorFusion(ModalitySet modalities, TrainingProfile profile, Generator generator) : base(nameof(TensorFusion))
    {
        _latent = profile.Latent;
        subnets = new ModuleList<nn.Module<Tensor, Tensor>>();
        _product = 1;
        foreach (var m in Present(modalities))
        {
            var (subnet, width) = m switch
            {
                'A' => ((nn.Module<Tensor, Tensor>)new TfnSubNet(_latent, profile.TfnAudioHidden, profile.TfnDropout, generator), profile.TfnAudioHidden),
                'V' => (new TfnSubNet(_latent, profile.TfnVideoHidden, profile.TfnDropout, generator), profile.TfnVideoHidden),
                _ => (new TfnTextSubNet(_latent, profile.TfnTextHidden, profile.TfnTextOut, generator), profile.TfnTextOut),
            };
            subnets.Add(subnet);
            _product *= width + 1;
        }
        postDropout = new SeededDropout(profile.TfnPostDropout, generator);
        post1 = nn.Linear(_product, profile.TfnPost);
        post2 = nn.Linear(profile.TfnPost, profile.TfnPost);
        post3 = nn.Linear(profile.TfnPost, FeatureSet.SequenceLength * profile.Latent);
        RegisterComponents();
    }

    /// <summary>Values of the fusion tensor: the product of (width + 1) over the present modalities.</summary>
    public long ProductWidth => _product;

    public override long ForwardFlops =>
        subnets.Sum(s => FlopCount.Of(s))
        + _product   // the outer products: one multiply per output value
        + FlopCount.Linear(post1, 1) + FlopCount.Linear(post2, 1) + FlopCount.Linear(post3, 1);

    public override Tensor forward(Tensor[] codes)
    {
        using var scope = NewDisposeScope();
        var n = codes[0].shape[0];
        Tensor? fused = null;
        for (var i = 0; i < codes.Length; i++)
        {
            var h = subnets[i].forward(codes[i]);
            var withOne = cat([ones(n, 1, dtype: h.dtype, device: h.device), h], 1);
            // Outer product, flattened: [N, a] x [N, b] -> [N, a * b] (a varies slowest, as the reference's bmm/view).
            fused = fused is null ? withOne : fused.unsqueeze(2).bmm(withOne.unsqueeze(1)).reshape(n, -1);
        }
        var x = postDropout.forward(fused!);
        x = nn.functional.relu(post1.forward(x));
        x = nn.functional.relu(post2.forward(x));
        return post3.forward(x).reshape(n, FeatureSet.SequenceLength, _latent).MoveToOuterDisposeScope();
    }
}
