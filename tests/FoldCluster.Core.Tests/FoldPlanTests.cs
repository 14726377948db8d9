using FoldCluster.Core.Folds;

namespace FoldCluster.Core.Tests;

public class FoldPlanTests
{
    // Unbalanced like IEMOCAP: 1103 / 1636 / 1084 / 1708 scaled down, ten speakers.
    private static List<(string Speaker, Emotion Label)> Corpus()
    {
        var counts = new[] { 53, 81, 47, 96 };
        var list = new List<(string, Emotion)>();
        var n = 0;
        for (var c = 0; c < 4; c++)
        {
            for (var i = 0; i < counts[c]; i++, n++)
            {
                list.Add(($"spk{(n * 7) % 10:D2}", (Emotion)c));
            }
        }
        return list;
    }

    [Theory]
    [InlineData("utterance")]
    [InlineData("speaker")]
    public void Ten_test_folds_are_disjoint_and_cover_every_utterance_once(string split)
    {
        var corpus = Corpus();
        var plan = FoldPlan.Create(corpus, split, seed: 3);
        var seen = new int[corpus.Count];
        for (var k = 0; k < 10; k++)
        {
            foreach (var i in plan.Test(k))
            {
                seen[i]++;
            }
        }
        Assert.All(seen, count => Assert.Equal(1, count));
    }

    [Fact]
    public void Fold_k_tests_k_validates_k_plus_one_and_trains_on_the_other_eight()
    {
        var corpus = Corpus();
        var plan = FoldPlan.Create(corpus, "utterance", seed: 1);
        for (var k = 0; k < 10; k++)
        {
            var test = plan.Test(k);
            var validation = plan.Validation(k);
            var train = plan.Train(k);
            Assert.Equal((k + 1) % 10, plan.ValidationFoldFor(k));
            Assert.All(validation, i => Assert.Equal((k + 1) % 10, plan.FoldOf(i)));
            Assert.Empty(test.Intersect(train));
            Assert.Empty(validation.Intersect(train));
            Assert.Empty(test.Intersect(validation));
            Assert.Equal(corpus.Count, test.Length + validation.Length + train.Length);
            Assert.Equal(8, train.Select(plan.FoldOf).Distinct().Count());
        }
    }

    [Fact]
    public void Utterance_split_is_stratified_within_one_utterance_per_class()
    {
        var corpus = Corpus();
        var plan = FoldPlan.Create(corpus, "utterance", seed: 11);
        foreach (var label in Emotions.All)
        {
            var perFold = Enumerable.Range(0, 10)
                .Select(k => plan.Test(k).Count(i => corpus[i].Label == label))
                .ToArray();
            Assert.True(perFold.Max() - perFold.Min() <= 1, $"{label}: {string.Join(",", perFold)}");
        }
        var sizes = Enumerable.Range(0, 10).Select(k => plan.Test(k).Length).ToArray();
        Assert.True(sizes.Max() - sizes.Min() <= 1);
    }

    [Fact]
    public void Same_seed_gives_the_same_plan_and_another_seed_a_different_one()
    {
        var corpus = Corpus();
        var a = FoldPlan.Create(corpus, "utterance", seed: 5);
        var b = FoldPlan.Create(corpus, "utterance", seed: 5);
        var c = FoldPlan.Create(corpus, "utterance", seed: 6);
        var foldsA = Enumerable.Range(0, corpus.Count).Select(a.FoldOf).ToArray();
        Assert.Equal(foldsA, Enumerable.Range(0, corpus.Count).Select(b.FoldOf));
        Assert.NotEqual(foldsA, Enumerable.Range(0, corpus.Count).Select(c.FoldOf));
    }

    [Fact]
    public void Speaker_split_keeps_each_speaker_in_one_fold_with_ten_speakers_one_per_fold()
    {
        var corpus = Corpus();
        var plan = FoldPlan.Create(corpus, "speaker", seed: 2);
        var foldsPerSpeaker = corpus.Select((u, i) => (u.Speaker, Fold: plan.FoldOf(i)))
            .GroupBy(x => x.Speaker)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Fold).Distinct().Count());
        Assert.All(foldsPerSpeaker.Values, n => Assert.Equal(1, n));
        var speakersPerFold = Enumerable.Range(0, 10)
            .Select(k => plan.Test(k).Select(i => corpus[i].Speaker).Distinct().Count());
        Assert.All(speakersPerFold, n => Assert.Equal(1, n));
    }

    [Fact]
    public void Speaker_split_with_twelve_speakers_keeps_speakers_whole_and_fills_every_fold()
    {
        var corpus = Enumerable.Range(0, 240).Select(i => ($"S{i % 12:D2}", (Emotion)(i % 4))).ToList();
        var plan = FoldPlan.Create(corpus, "speaker", seed: 9);
        Assert.All(corpus.GroupBy(u => u.Item1), g =>
            Assert.Single(corpus.Select((u, i) => (u, i)).Where(x => x.u.Item1 == g.Key).Select(x => plan.FoldOf(x.i)).Distinct()));
        Assert.All(Enumerable.Range(0, 10), k => Assert.NotEmpty(plan.Test(k)));
    }

    [Fact]
    public void Speaker_split_with_too_few_speakers_is_bad_input()
    {
        var corpus = Enumerable.Range(0, 50).Select(i => ($"S{i % 4}", (Emotion)(i % 4))).ToList();
        var e = Assert.Throws<BadInputException>(() => FoldPlan.Create(corpus, "speaker", seed: 1));
        Assert.Contains("at least 10 speakers", e.Message);
    }

    [Fact]
    public void Unknown_split_and_out_of_range_fold_are_bad_input()
    {
        var corpus = Corpus();
        Assert.Contains("utterance, speaker", Assert.Throws<BadInputException>(() => FoldPlan.Create(corpus, "session", 1)).Message);
        var plan = FoldPlan.Create(corpus, "utterance", 1);
        Assert.Contains("0 to 9", Assert.Throws<BadInputException>(() => plan.Test(10)).Message);
    }
}
