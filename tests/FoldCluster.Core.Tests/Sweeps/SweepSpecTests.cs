using FoldCluster.Core;
using FoldCluster.Core.Sweeps;

namespace FoldCluster.Core.Tests.Sweeps;

public sealed class SweepSpecTests
{
    private const string Minimal = """
        name: mine
        datasets:
          - name: iemocap
            layout: iemocap
            root: corpora/IEMOCAP_full_release
            extractor: resnet50
            weights: weights/resnet50.pt
        methods: [cmha]
        modalities: [AVT]
        """;

    private static BadInputException Refused(string yaml) =>
        Assert.Throws<BadInputException>(() => SweepSpecParser.Parse(yaml, "spec.yaml"));

    [Fact]
    public void Smoke_preset_has_80_jobs()
    {
        var spec = SweepPresets.Load("smoke");
        var keys = spec.Expand();

        Assert.Equal(80, keys.Count);
        Assert.All(keys, k => Assert.Equal("resnet50-random", k.Extractor));
        Assert.All(keys, k => Assert.Equal("tiny", k.Profile));
        Assert.All(keys, k => Assert.True(k.Pretrained));
        Assert.Equal(["AT", "AV", "AVT", "VT"], keys.Select(k => k.Modalities).Distinct().Order());
        Assert.Equal(["cmha", "concat"], keys.Select(k => k.Method).Distinct().Order());
        Assert.Equal("112", spec.OverridesFor(spec.Datasets[0])["features.frame_size"]);
        Assert.Equal("generated-corpus", spec.Datasets[0].Root);
    }

    [Fact]
    public void Paper_table2_preset_matches_the_papers_grid()
    {
        var keys = SweepPresets.Load("paper-table2").Expand();

        // Per dataset: Concat, MulT, CMHA x (AV, AT, VT, AVT(np), AVT) = 15 cells, TFN x (AVT(np), AVT) = 2 cells;
        // 17 cells x 2 datasets x 10 folds.
        Assert.Equal(340, keys.Count);
        var cells = keys.Select(k => (k.Dataset, k.Method, k.Modalities, k.Pretrained)).Distinct().ToList();
        Assert.Equal(34, cells.Count);
        Assert.Equal(
            [("AVT", false), ("AVT", true)],
            cells.Where(c => c.Method == "tfn" && c.Dataset == "iemocap").Select(c => (c.Modalities, c.Pretrained)).Order());
        Assert.DoesNotContain(cells, c => !c.Pretrained && c.Modalities != "AVT");
        Assert.All(keys.GroupBy(k => (k.Dataset, k.Method, k.Modalities, k.Pretrained)), g => Assert.Equal(Enumerable.Range(0, 10), g.Select(k => k.Fold)));
        Assert.Equal(["iemocap", "msp-improv"], keys.Select(k => k.Dataset).Distinct());
        Assert.All(keys, k => Assert.Equal(("utterance", 1, "paper", "resnet50"), (k.Split, k.Seed, k.Profile, k.Extractor)));
    }

    [Fact]
    public void Paper_table3_preset_compares_extractors_for_cmha()
    {
        var keys = SweepPresets.Load("paper-table3").Expand();

        // 2 datasets x 2 extractors x (AV, AT, VT, AVT(np), AVT) x 10 folds.
        Assert.Equal(200, keys.Count);
        Assert.All(keys, k => Assert.Equal("cmha", k.Method));
        Assert.Equal(["resnet50", "vggface"], keys.Select(k => k.Extractor).Distinct().Order());
        Assert.Equal(100, keys.Count(k => k.Extractor == "vggface"));
    }

    [Fact]
    public void Paper_tables_together_are_the_440_jobs_of_the_paper()
    {
        var all = SweepPresets.Load("paper-table2").Expand().Concat(SweepPresets.Load("paper-table3").Expand())
            .Select(k => k.Canonical).Distinct().Count();
        Assert.Equal(440, all);
        var paper = SweepPresets.Load("paper").Expand().Select(k => k.Canonical).ToHashSet();
        Assert.Equal(440, paper.Count);
        Assert.Subset(paper, SweepPresets.Load("paper-table2").Expand().Select(k => k.Canonical).ToHashSet());
        Assert.Subset(paper, SweepPresets.Load("paper-table3").Expand().Select(k => k.Canonical).ToHashSet());
    }

    [Fact]
    public void Unknown_preset_lists_the_presets()
    {
        var e = Assert.Throws<BadInputException>(() => SweepPresets.Load("table9"));
        Assert.Equal("unknown preset 'table9'; allowed values: paper, paper-table2, paper-table3, smoke", e.Message);
    }

    [Fact]
    public void Defaults_fill_in_folds_split_seeds_profile_pretraining_and_budget()
    {
        var spec = SweepSpecParser.Parse(Minimal, "spec.yaml");

        Assert.Equal(Enumerable.Range(0, 10), spec.Folds);
        Assert.Equal(["utterance"], spec.Splits);
        Assert.Equal([1], spec.Seeds);
        Assert.Equal("paper", spec.Profile);
        Assert.Equal([true], spec.Pretraining);
        Assert.Equal(3, spec.MaxAttempts);
        Assert.Equal(10, spec.MaxLosses);
        Assert.Equal(10, spec.Expand().Count);
        Assert.Equal("iemocap|utterance|0|cmha|AVT|pre|resnet50|1|paper", spec.Expand()[0].Canonical);
    }

    [Fact]
    public void Max_losses_is_carried_beside_max_attempts_and_written_only_when_not_the_default()
    {
        var spec = SweepSpecParser.Parse(Minimal + "\nmax_losses: 25", "spec.yaml");
        Assert.Equal(25, spec.MaxLosses);
        Assert.Contains("\nmax_losses: 25\n", spec.ToYaml(), StringComparison.Ordinal);
        Assert.Equal(25, SweepSpecParser.Parse(spec.ToYaml(), "again").MaxLosses);
        // The default is not written: sweeps submitted before the field existed keep their normalised text and hash.
        Assert.DoesNotContain("max_losses", SweepSpecParser.Parse(Minimal, "spec.yaml").ToYaml(), StringComparison.Ordinal);
    }

    [Fact]
    public void Normalised_yaml_round_trips_and_ignores_formatting()
    {
        var a = SweepSpecParser.Parse(Minimal, "a");
        var b = SweepSpecParser.Parse("""
            # same sweep, other spelling
            modalities: A+V+T
            methods: CMHA
            name: mine
            folds: all
            pretraining: [with]
            datasets:
              - {name: iemocap, layout: IEMOCAP, root: "corpora/IEMOCAP_full_release", extractor: resnet50, weights: weights/resnet50.pt, allow_random_weights: false}
            """, "b");

        Assert.Equal(a.ToYaml(), b.ToYaml());
        Assert.Equal(a.Hash(), b.Hash());
        var again = SweepSpecParser.Parse(a.ToYaml(), "normalised");
        Assert.Equal(a.ToYaml(), again.ToYaml());
        foreach (var preset in SweepPresets.Names)
        {
            var spec = SweepPresets.Load(preset);
            var reparsed = SweepSpecParser.Parse(spec.ToYaml(), preset);
            Assert.Equal(spec.Expand().Select(k => k.Canonical), reparsed.Expand().Select(k => k.Canonical));
            Assert.Equal(spec.Hash(), reparsed.Hash());
        }
        Assert.NotEqual(a.Hash(), (a with { Seeds = [2] }).Hash());
    }

    [Fact]
    public void Exclusions_drop_matching_jobs()
    {
        var spec = SweepSpecParser.Parse(Minimal.Replace("methods: [cmha]", "methods: [cmha, tfn]").Replace("modalities: [AVT]", "modalities: [AV, AVT]") + """

            folds: [0, 1]
            exclusions:
              - {method: tfn, modalities: AV}
              - {fold: 1, method: cmha, modalities: [AVT]}
            """, "spec.yaml");

        var keys = spec.Expand().Select(k => $"{k.Method}/{k.Modalities}/{k.Fold}").ToList();
        Assert.Equal(["cmha/AV/0", "cmha/AV/1", "cmha/AVT/0", "tfn/AVT/0", "tfn/AVT/1"], keys.Order());
    }

    [Fact]
    public void Single_modalities_run_without_fusion()
    {
        var spec = SweepSpecParser.Parse(Minimal.Replace("modalities: [AVT]", "modalities: [A, AVT]") + "\nfolds: [0]\n", "spec.yaml");

        Assert.Equal(["cmha|AVT", "none|A"], spec.Expand().Select(k => $"{k.Method}|{k.Modalities}").Order());
    }

    [Fact]
    public void Random_weights_are_recorded_in_the_extractor_name()
    {
        var spec = SweepSpecParser.Parse(Minimal.Replace("weights: weights/resnet50.pt", "allow_random_weights: true"), "spec.yaml");
        Assert.Equal("resnet50-random", spec.Expand()[0].Extractor);
        Assert.Equal("resnet50", spec.Datasets[0].ToSource().Extractor);

        // With a weights file the flag changes nothing: the weights are used.
        var withWeights = SweepSpecParser.Parse(Minimal + "\n", "spec.yaml");
        Assert.Equal("resnet50", withWeights.Expand()[0].Extractor);
    }

    [Theory]
    [InlineData("methods: [cmha]", "methods: [cmha, lstm]",
        "spec.yaml: field 'methods[1]' (line 8) 'lstm' is not allowed; allowed values: concat, tfn, mult, cmha, none")]
    [InlineData("modalities: [AVT]", "modalities: [AVX]",
        "spec.yaml: field 'modalities[0]' (line 9) 'AVX' is not a modality set; allowed values: A, V, T, AV, AT, VT, AVT")]
    [InlineData("layout: iemocap", "layout: ravdess",
        "spec.yaml: field 'datasets[0].layout' (line 4) 'ravdess' is not allowed; allowed values: iemocap, msp-improv")]
    [InlineData("extractor: resnet50", "extractor: vgg19",
        "spec.yaml: field 'datasets[0].extractor' (line 6) 'vgg19' is not allowed; allowed values: resnet50, vggface")]
    [InlineData("methods: [cmha]", "methods: [cmha]\nsplit: session",
        "spec.yaml: field 'split' (line 9) 'session' is not allowed; allowed values: utterance, speaker")]
    [InlineData("methods: [cmha]", "methods: [cmha]\nprofile: huge",
        "spec.yaml: field 'profile' (line 9) 'huge' is not allowed; allowed values: paper, tiny")]
    [InlineData("methods: [cmha]", "methods: [cmha]\npretraining: [yes]",
        "spec.yaml: field 'pretraining[0]' (line 9) 'yes' is not allowed; allowed values: with, np")]
    [InlineData("methods: [cmha]", "methods: [cmha]\nfolds: [0, 10]",
        "spec.yaml: field 'folds[1]' (line 9) '10' is not a fold; allowed values: \"all\" or integers 0 to 9")]
    [InlineData("methods: [cmha]", "methods: [cmha]\nmax_attempts: 0",
        "spec.yaml: field 'max_attempts' (line 9) '0' is not an integer from 1 to 100")]
    [InlineData("methods: [cmha]", "methods: [cmha]\nmax_losses: 1001",
        "spec.yaml: field 'max_losses' (line 9) '1001' is not an integer from 1 to 1000")]
    [InlineData("methods: [cmha]", "methods: [cmha]\nexclusions: [{colour: red}]",
        "spec.yaml: field 'exclusions[0].colour' (line 9) is not a known field; allowed fields: dataset, layout, split, fold, method, modalities, pretraining, extractor, seed")]
    [InlineData("methods: [cmha]", "methods: [cmha]\nfold: [1]",
        "spec.yaml: field 'fold' (line 9) is not a known field; allowed fields: name, datasets, methods, modalities, pretraining, folds, split, seeds, profile, training, exclusions, max_attempts, max_losses, max_jobs, store_features, store_features_folds")]
    [InlineData("    weights: weights/resnet50.pt\n", "",
        "spec.yaml: field 'datasets[0].weights' (line 3) is missing: extractor 'resnet50' needs a weights file, unless allow_random_weights: true (then results record 'resnet50-random')")]
    [InlineData("name: mine", "name: My Sweep",
        "spec.yaml: field 'name' (line 1) 'My Sweep' is not a valid sweep name: expected lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (at most 100 characters)")]
    [InlineData("methods: [cmha]", "methods: [cmha]\nexclusions: [{modalities: AVT}]",
        "spec.yaml: the sweep has no jobs: its exclusions leave nothing of the grid")]
    public void Invalid_fields_are_refused_with_field_value_and_allowed_values(string original, string replacement, string message)
    {
        var yaml = Minimal.Replace(original, replacement, StringComparison.Ordinal);
        Assert.NotEqual(Minimal, yaml);
        Assert.Equal(message, Refused(yaml).Message);
    }

    [Fact]
    public void Missing_fields_and_broken_yaml_are_named()
    {
        Assert.Equal("spec.yaml: field 'datasets' is missing", Refused("name: x\nmethods: [cmha]\nmodalities: [AV]\n").Message);
        Assert.StartsWith("spec.yaml: not valid YAML at line 2", Refused("name: x\n  methods: [cmha\n").Message);
        Assert.Equal("spec.yaml: field 'datasets[0].root' is missing",
            Refused(Minimal.Replace("    root: corpora/IEMOCAP_full_release\n", "", StringComparison.Ordinal)).Message);
    }

    [Fact]
    public void Relative_paths_resolve_against_the_data_root()
    {
        var spec = SweepSpecParser.Parse(Minimal, "spec.yaml");
        var resolved = SweepPaths.Resolve(spec, "/data");

        Assert.Equal("/data/corpora/IEMOCAP_full_release", resolved.Datasets[0].Root);
        Assert.Equal("/data/weights/resnet50.pt", resolved.Datasets[0].Weights);
        var source = SweepPaths.Resolve(spec.Datasets[0].ToSource(), "/mnt/node");
        Assert.Equal("/mnt/node/corpora/IEMOCAP_full_release", source.Root);
        Assert.Equal("/mnt/node/weights/resnet50.pt", source.WeightsPath);
        Assert.Equal("/abs/root", SweepPaths.Resolve("/abs/root", "/mnt/node"));
        Assert.Equal("rel", SweepPaths.Resolve("rel", null));
    }
}
