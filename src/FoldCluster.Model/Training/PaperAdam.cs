using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Training;

/// <summary>The optimiser's settings as a model card prints them.</summary>
public sealed record OptimizerSettings(string Name, double LearningRate, double Beta1, double Beta2, double Eps, double WeightDecay);

/// <summary>
/// Adam as the paper trained with it: PyTorch's <c>torch.optim.Adam</c> defaults, betas (0.9, 0.999) and eps 1e-8,
/// with the L2 term as Adam's weight decay (Section IV-C). TorchSharp's <c>optim.Adam</c> factory defaults beta2 to
/// 0.99, so every Adam of the project is built here with all settings explicit.
/// </summary>
public static class PaperAdam
{
    public const double Beta1 = 0.9;
    public const double Beta2 = 0.999;
    public const double Eps = 1e-8;

    public static Adam Create(IEnumerable<Parameter> parameters, double lr, double weightDecay) =>
        optim.Adam(parameters, lr: lr, beta1: Beta1, beta2: Beta2, eps: Eps, weight_decay: weightDecay, amsgrad: false, maximize: false);

    /// <summary>The settings <see cref="Create"/> uses for <paramref name="profile"/>.</summary>
    public static OptimizerSettings Settings(TrainingProfile profile) =>
        new("adam", profile.LearningRate, Beta1, Beta2, Eps, profile.WeightDecay);
}
