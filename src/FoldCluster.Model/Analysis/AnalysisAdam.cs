using FoldCluster.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FoldCluster.Model.Analysis;

/// <summary>
/// Adam with <see cref="PaperAdam"/>'s settings (betas 0.9 / 0.999, eps 1e-8, L2 as weight decay), the same update as
/// <c>torch.optim.Adam</c> without AMSGrad, for the analyses' many small steps (MINE, DCCA, Fig. 6). TorchSharp's Adam
/// passes a fresh implicitly converted <see cref="Scalar"/> to each of its seven in-place operations per parameter;
/// a Scalar owns a bare native handle that its finalizer frees, and nothing keeps it alive for the length of the
/// native call. Over the hundreds of thousands of such calls of a MINE or DCCA run one was freed mid-call and libtorch
/// read a garbage scalar ("Expected false to be true ... toFloat" from addcdiv_ and add_, `bench analysis`). Here
/// every Scalar is a field or a <c>using</c> local, alive until the call has returned, and disposed deterministically.
/// </summary>
public sealed class AnalysisAdam : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _firstMoments;
    private readonly Tensor[] _secondMoments;
    private readonly double _learningRate;
    private readonly Scalar _beta1 = PaperAdam.Beta1.ToScalar();
    private readonly Scalar _oneMinusBeta1 = (1 - PaperAdam.Beta1).ToScalar();
    private readonly Scalar _beta2 = PaperAdam.Beta2.ToScalar();
    private readonly Scalar _oneMinusBeta2 = (1 - PaperAdam.Beta2).ToScalar();
    private readonly Scalar _eps = PaperAdam.Eps.ToScalar();
    private readonly Scalar? _weightDecay;
    private long _step;

    public AnalysisAdam(IEnumerable<Parameter> parameters, double learningRate, double weightDecay)
    {
        if (!(learningRate > 0) || !(weightDecay >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), $"learning rate {learningRate} must be > 0 and weight decay {weightDecay} >= 0");
        }
        _parameters = parameters.ToArray();
        _learningRate = learningRate;
        _weightDecay = weightDecay > 0 ? weightDecay.ToScalar() : null;
        _firstMoments = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _secondMoments = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    public void zero_grad()
    {
        foreach (var p in _parameters)
        {
            using var grad = p.grad;
            grad?.zero_();
        }
    }

    /// <summary>One update of every parameter with a gradient, as <c>torch.optim.Adam.step</c>.</summary>
    public void step()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        _step++;
        var biasCorrection1 = 1 - Math.Pow(PaperAdam.Beta1, _step);
        var biasCorrection2 = 1 - Math.Pow(PaperAdam.Beta2, _step);
        using var stepSize = (-_learningRate / biasCorrection1).ToScalar();
        using var rootCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        for (var i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            var grad = p.grad;
            if (grad is null)
            {
                continue;
            }
            if (_weightDecay is not null)
            {
                grad = grad.add(p, alpha: _weightDecay);
            }
            _firstMoments[i].mul_(_beta1).add_(grad, alpha: _oneMinusBeta1);
            _secondMoments[i].mul_(_beta2).addcmul_(grad, grad, value: _oneMinusBeta2);
            var denominator = (_secondMoments[i].sqrt() / rootCorrection2).add_(_eps);
            p.addcdiv_(_firstMoments[i], denominator, value: stepSize);
        }
    }

    public void Dispose()
    {
        foreach (var t in _firstMoments.Concat(_secondMoments))
        {
            t.Dispose();
        }
        foreach (var s in new[] { _beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _eps, _weightDecay })
        {
            s?.Dispose();
        }
    }
}
