using System.Text;
using FoldCluster.Core.Sweeps;

namespace FoldCluster.Core.Tests.Sweeps;

/// <summary>Hostile or careless specs: grids past `max_jobs`, huge or deeply nested text.</summary>
public sealed class SweepSpecLimitTests
{
    private static string Spec(string seeds, string extra = "") => $"""
        name: big
        datasets:
          - name: iemocap
            layout: iemocap
            root: corpora/iemocap
            extractor: resnet50
            allow_random_weights: true
        methods: [cmha]
        modalities: [AVT]
        seeds: {seeds}
        {extra}
        """;

    private static string Seeds(int count) =>
        "[" + string.Join(", ", Enumerable.Range(1, count)) + "]";

    [Fact]
    public void A_300000_seed_grid_is_refused_from_its_list_lengths_without_expanding_it()
    {
        var yaml = Spec(Seeds(300_000));
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<BadInputException>(() => SweepSpecParser.Parse(yaml, "big.yaml"));

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(
            "big.yaml: the sweep's grid has 3,000,000 jobs (1 datasets x 1 splits x 300000 seeds x 1 method/modality pairs x "
            + "1 pre-training variants x 10 folds, before exclusions), more than max_jobs 100,000; shrink the grid, or raise max_jobs (at most 10,000,000)",
            error.Message);
        // Expanding would build 3 million job keys (gigabytes); reading the YAML takes a few hundred megabytes at most.
        Assert.True(allocated < 1_000_000_000L, $"allocated {allocated:N0} bytes");
    }

    [Fact]
    public void The_grid_size_is_the_product_of_the_list_lengths_and_saturates()
    {
        var spec = SweepSpecParser.Parse(Spec("[1, 2, 3]", "folds: [0, 1]\nmax_jobs: 6"), "ok.yaml");
        Assert.Equal(6, spec.GridSize());
        Assert.Equal(6, spec.Expand().Count);
        Assert.Equal(6, spec.MaxJobs);

        var huge = spec with { Seeds = Enumerable.Range(0, 1000).ToList(), Folds = Enumerable.Range(0, 10).ToList() };
        Assert.Equal(10_000, huge.GridSize());
        Assert.Throws<BadInputException>(() => huge.Expand());
        Assert.Equal(10_000, (huge with { MaxJobs = 10_000 }).Expand().Count);
    }

    [Fact]
    public void Max_jobs_is_range_checked_and_kept_in_the_stored_text_only_when_not_the_default()
    {
        var error = Assert.Throws<BadInputException>(() => SweepSpecParser.Parse(Spec("[1]", "max_jobs: 0"), "s.yaml"));
        Assert.Equal("s.yaml: field 'max_jobs' (line 11) '0' is not an integer from 1 to 10000000", error.Message);
        Assert.Throws<BadInputException>(() => SweepSpecParser.Parse(Spec("[1]", "max_jobs: 10000001"), "s.yaml"));
        Assert.Throws<BadInputException>(() => SweepSpecParser.Parse(Spec("[1]", "max_jobs: lots"), "s.yaml"));

        var plain = SweepSpecParser.Parse(Spec("[1]"), "s.yaml");
        Assert.DoesNotContain("max_jobs", plain.ToYaml(), StringComparison.Ordinal);
        var raised = SweepSpecParser.Parse(Spec("[1]", "max_jobs: 200000"), "s.yaml");
        Assert.Contains("max_jobs: 200000\n", raised.ToYaml(), StringComparison.Ordinal);
        var again = SweepSpecParser.Parse(raised.ToYaml(), "stored");
        Assert.Equal(200_000, again.MaxJobs);
        Assert.Equal(raised.Hash(), again.Hash());
        Assert.NotEqual(plain.Hash(), raised.Hash());
    }

    [Fact]
    public void Deep_nesting_is_refused_before_the_node_tree_is_built()
    {
        var deep = "name: x\nseeds: " + new string('[', 100_000) + new string(']', 100_000) + "\n";
        var error = Assert.Throws<BadInputException>(() => SweepSpecParser.Parse(deep, "deep.yaml"));
        Assert.Contains("nested deeper than 16 levels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_text_and_too_many_exclusions_are_refused()
    {
        var big = new StringBuilder("name: x\n# ").Append('y', SweepSpecParser.MaxSpecCharacters).ToString();
        Assert.Contains("too long for a sweep spec", Assert.Throws<BadInputException>(() => SweepSpecParser.Parse(big, "big.yaml")).Message,
            StringComparison.Ordinal);

        var exclusions = "exclusions:\n" + string.Concat(Enumerable.Range(0, 1001).Select(i => $"  - {{seed: {i}}}\n"));
        var error = Assert.Throws<BadInputException>(() => SweepSpecParser.Parse(Spec("[1]", exclusions), "ex.yaml"));
        Assert.Contains("has 1001 entries; at most 1000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_document_is_refused()
    {
        var error = Assert.Throws<BadInputException>(() => SweepSpecParser.Parse(Spec("[1]") + "\n---\nname: y\n", "two.yaml"));
        Assert.Contains("more than one YAML document", error.Message, StringComparison.Ordinal);
    }
}
