using FoldCluster.Core;
using FoldCluster.Model.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Fusion;

/// <summary>
/// Tensor Fusion Network (Zadeh et al. [10], as the thuiar/MMSA implementation builds it): each code is
/// pooled over time and projected to h, a constant 1 is appended, the outer product across modalities
/// gives (h + 1)^k values (unimodal, bimodal and trimodal terms), then dropout and post-fusion linear
/// layers produce the fused code [32 x C].
/// </summary>
public sealed class TensorFusion : FusionModule
{
    private readonly ModuleList<Linear> projections;
    private readonly SeededDropout dropout;
    private readonly Linear post1;
    private readonly Linear post2;
    private readonly Linear post3;
    private readonly int _modalities;
    private readonly int _hidden;
    private readonly int _latent;

    public TensorFusion(int modalityCount, TrainingProfile profile, Generator generator) : base(nameof(TensorFusion))
    {
        _modalities = modalityCount;
        _hidden = profile.TfnHidden;
        _latent = profile.Latent;
        projections = new ModuleList<Linear>();
        for (var i = 0; i < modalityCount; i++)
        {
            projections.Add(nn.Linear(profile.Latent, profile.TfnHidden));
        }
        var product = (long)Math.Pow(profile.TfnHidden + 1, modalityCount);
        dropout = new SeededDropout(profile.Dropout, generator);
        post1 = nn.Linear(product, profile.TfnPost);
        post2 = nn.Linear(profile.TfnPost, profile.TfnPost);
        post3 = nn.Linear(profile.TfnPost, FeatureSet.SequenceLength * profile.Latent);
        RegisterComponents();
    }

    public override long ForwardFlops =>
        projections.Sum(p => FlopCount.Linear(p, 1))
        + (long)Math.Pow(_hidden + 1, _modalities)   // the outer products: one multiply per output value
        + FlopCount.Linear(post1, 1) + FlopCount.Linear(post2, 1) + FlopCount.Linear(post3, 1);

    public override Tensor forward(Tensor[] codes)
    {
        using var scope = NewDisposeScope();
        var n = codes[0].shape[0];
        Tensor? fused = null;
        for (var i = 0; i < codes.Length; i++)
        {
            var z = nn.functional.relu(projections[i].forward(codes[i].mean([1])));
            var withOne = cat([z, ones(n, 1, dtype: z.dtype, device: z.device)], 1);
            // Outer product, flattened: [N, a] x [N, b] -> [N, a * b].
            fused = fused is null ? withOne : fused.unsqueeze(2).bmm(withOne.unsqueeze(1)).reshape(n, -1);
        }
        var h = dropout.forward(fused!);
        h = nn.functional.relu(post1.forward(h));
        h = nn.functional.relu(post2.forward(h));
        return post3.forward(h).reshape(n, FeatureSet.SequenceLength, _latent).MoveToOuterDisposeScope();
    }
}
