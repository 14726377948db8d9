namespace FoldCluster.Core.Analysis;

/// <summary>How t-SNE places the points before optimising.</summary>
public enum TsneInit
{
    /// <summary>The first two principal components, scaled to a standard deviation of 1e-4 (scikit-learn's default).</summary>
    Pca,

    /// <summary>Gaussian N(0, 1e-4^2) drawn from the seed.</summary>
    Random,
}

/// <summary>Which gradient t-SNE computes.</summary>
public enum TsneMethod
{
    /// <summary>Exact up to <see cref="TsneOptions.ExactLimit"/> points, Barnes-Hut above.</summary>
    Auto,

    /// <summary>O(n^2) affinities and gradient (van der Maaten and Hinton 2008).</summary>
    Exact,

    /// <summary>Sparse k-NN affinities (k = 3 x perplexity) and a quadtree for the repulsion (van der Maaten 2014).</summary>
    BarnesHut,
}

/// <summary>
/// t-SNE settings; the defaults are scikit-learn's (perplexity 30, early exaggeration 12 for 250 iterations,
/// 1,000 iterations, learning rate max(n / 12 / 4, 50), theta 0.5, PCA initialisation).
/// </summary>
public sealed record TsneOptions
{
    /// <summary>Up to this many points <see cref="TsneMethod.Auto"/> runs the exact algorithm.</summary>
    public const int ExactLimit = 1000;

    public double Perplexity { get; init; } = 30;
    public int Seed { get; init; } = 1;
    public TsneInit Init { get; init; } = TsneInit.Pca;
    public TsneMethod Method { get; init; } = TsneMethod.Auto;
    public int Iterations { get; init; } = 1000;
    public double Theta { get; init; } = 0.5;
    public double EarlyExaggeration { get; init; } = 12;
    public int ExaggerationIterations { get; init; } = 250;

    /// <summary>Null: scikit-learn's "auto", max(n / early exaggeration / 4, 50).</summary>
    public double? LearningRate { get; init; }

    public void Validate(int n)
    {
        if (n < 3)
        {
            throw new BadInputException($"t-SNE needs at least 3 rows: got {n}");
        }
        if (!(Perplexity > 0) || Perplexity >= n - 1)
        {
            throw new BadInputException($"perplexity {Perplexity} is not valid for {n} rows: expected more than 0 and less than {n - 1}");
        }
        if (Iterations < 1)
        {
            throw new BadInputException($"t-SNE iterations {Iterations} is not valid: expected at least 1");
        }
        if (!(Theta >= 0) || Theta > 1)
        {
            throw new BadInputException($"t-SNE theta {Theta} is not valid: expected 0 to 1");
        }
        if (LearningRate is { } rate && !(rate > 0))
        {
            throw new BadInputException($"t-SNE learning rate {rate} is not valid: expected more than 0");
        }
    }
}
