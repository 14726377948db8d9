using FoldCluster.Core.Analysis;
using Xunit;

namespace FoldCluster.Core.Tests.Analysis;

public sealed class TsneTests
{
    [Theory]
    [InlineData(TsneMethod.Exact, TsneInit.Pca)]
    [InlineData(TsneMethod.Exact, TsneInit.Random)]
    [InlineData(TsneMethod.BarnesHut, TsneInit.Pca)]
    [InlineData(TsneMethod.BarnesHut, TsneInit.Random)]
    public void Separated_gaussian_clusters_stay_separated(TsneMethod method, TsneInit init)
    {
        var (x, labels) = AnalysisData.Blobs(perCluster: 60, clusters: 4, dims: 10, seed: 3);

        var y = Tsne.Embed(x, new TsneOptions { Method = method, Init = init, Seed = 5 });

        Assert.Equal(x.Length, y.Length);
        Assert.All(y, row => Assert.Equal(2, row.Length));
        Assert.InRange(AnalysisData.NeighbourPurity(y, labels, 10), 0.95, 1.0);
    }

    [Theory]
    [InlineData(TsneMethod.Exact)]
    [InlineData(TsneMethod.BarnesHut)]
    public void Same_seed_gives_the_same_embedding_and_another_seed_another(TsneMethod method)
    {
        var (x, _) = AnalysisData.Blobs(perCluster: 30, clusters: 3, dims: 5, seed: 9);
        var options = new TsneOptions { Method = method, Init = TsneInit.Random, Seed = 11, Iterations = 300 };

        var first = Tsne.Embed(x, options);
        var second = Tsne.Embed(x, options);
        var other = Tsne.Embed(x, options with { Seed = 12 });

        Assert.Equal(first.SelectMany(r => r), second.SelectMany(r => r));
        Assert.NotEqual(first.SelectMany(r => r), other.SelectMany(r => r));
    }

    [Fact]
    public void Barnes_hut_with_theta_zero_matches_the_exact_gradient_closely()
    {
        // theta 0 opens every cell, so the repulsion is exact; only the sparse P (k = 3 x perplexity) differs.
        var (x, labels) = AnalysisData.Blobs(perCluster: 40, clusters: 3, dims: 6, seed: 4);
        var options = new TsneOptions { Perplexity = 10, Init = TsneInit.Pca, Iterations = 400 };

        var bh = Tsne.Embed(x, options with { Method = TsneMethod.BarnesHut, Theta = 0 });

        Assert.InRange(AnalysisData.NeighbourPurity(bh, labels, 10), 0.95, 1.0);
    }

    [Fact]
    public void Perplexity_too_large_for_the_rows_is_refused_with_the_limit()
    {
        var (x, _) = AnalysisData.Blobs(perCluster: 5, clusters: 2, dims: 3, seed: 1);

        var e = Assert.Throws<BadInputException>(() => Tsne.Embed(x, new TsneOptions { Perplexity = 30 }));

        Assert.Contains("perplexity 30", e.Message);
        Assert.Contains("less than 9", e.Message);
    }

    [Fact]
    public void Ragged_rows_are_refused_naming_the_row()
    {
        double[][] x = [[1, 2], [3, 4], [5], [7, 8]];

        var e = Assert.Throws<BadInputException>(() => Tsne.Embed(x, new TsneOptions { Perplexity = 1 }));

        Assert.Contains("row 3 has 1 values", e.Message);
    }
}
