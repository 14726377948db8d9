using System.Globalization;

namespace FoldCluster.Core.Folds;

/// <summary>
/// Ten-fold cross-validation plan (DESIGN.md section 6, paper Section IV-D): fold k is the test fold,
/// fold (k + 1) mod 10 validates, the other eight train. Every utterance lies in exactly one fold.
/// </summary>
public sealed class FoldPlan
{
    public const int DefaultFoldCount = 10;

    /// <summary>Split names accepted in job keys and on the command line.</summary>
    public static readonly IReadOnlyList<string> Splits = ["utterance", "speaker"];

    private readonly int[] _foldOf;

    private FoldPlan(string split, int seed, int[] foldOf, int foldCount)
    {
        Split = split;
        Seed = seed;
        _foldOf = foldOf;
        FoldCount = foldCount;
    }

    public string Split { get; }
    public int Seed { get; }
    public int FoldCount { get; }
    public int Count => _foldOf.Length;

    /// <summary>The fold (0-based) that utterance <paramref name="index"/> belongs to.</summary>
    public int FoldOf(int index) => _foldOf[index];

    /// <summary>Utterance indices (in input order) of one fold.</summary>
    public int[] Members(int fold)
    {
        CheckFold(fold);
        return Enumerable.Range(0, _foldOf.Length).Where(i => _foldOf[i] == fold).ToArray();
    }

    public int ValidationFoldFor(int testFold)
    {
        CheckFold(testFold);
        return (testFold + 1) % FoldCount;
    }

    public int[] Test(int testFold) => Members(testFold);

    public int[] Validation(int testFold) => Members(ValidationFoldFor(testFold));

    /// <summary>The eight folds that are neither the test fold nor its validation fold.</summary>
    public int[] Train(int testFold)
    {
        var validation = ValidationFoldFor(testFold);
        return Enumerable.Range(0, _foldOf.Length)
            .Where(i => _foldOf[i] != testFold && _foldOf[i] != validation)
            .ToArray();
    }

    /// <summary>
    /// Builds the plan. <paramref name="split"/>: "utterance" (stratified by label, seeded; each class is
    /// dealt round-robin so per-class fold sizes differ by at most one) or "speaker" (every speaker's
    /// utterances in one fold; with exactly ten speakers one speaker per fold).
    /// </summary>
    public static FoldPlan Create(
        IReadOnlyList<(string Speaker, Emotion Label)> utterances,
        string split,
        int seed,
        int foldCount = DefaultFoldCount)
    {
        ArgumentNullException.ThrowIfNull(utterances);
        if (foldCount < 3)
        {
            throw new BadInputException($"fold count {foldCount} is too small: expected at least 3 (test, validation, training)");
        }
        var normalized = (split ?? "").Trim().ToLowerInvariant();
        var folds = normalized switch
        {
            "utterance" => StratifiedByLabel(utterances, seed, foldCount),
            "speaker" => BySpeaker(utterances, seed, foldCount),
            _ => throw new BadInputException($"split '{split}' is not known: expected one of {string.Join(", ", Splits)}"),
        };
        if (utterances.Count < foldCount)
        {
            throw new BadInputException(
                $"{utterances.Count.ToString(CultureInfo.InvariantCulture)} utterances cannot fill {foldCount} folds: expected at least one utterance per fold");
        }
        return new FoldPlan(normalized, seed, folds, foldCount);
    }

    private static int[] StratifiedByLabel(IReadOnlyList<(string Speaker, Emotion Label)> utterances, int seed, int foldCount)
    {
        var folds = new int[utterances.Count];
        var random = new Random(seed);
        // The next fold to receive an utterance carries over from class to class, so fold totals also
        // differ by at most one, not only the per-class counts.
        var next = 0;
        foreach (var label in Emotions.All)
        {
            var members = Enumerable.Range(0, utterances.Count).Where(i => utterances[i].Label == label).ToArray();
            random.Shuffle(members);
            foreach (var index in members)
            {
                folds[index] = next;
                next = (next + 1) % foldCount;
            }
        }
        return folds;
    }

    private static int[] BySpeaker(IReadOnlyList<(string Speaker, Emotion Label)> utterances, int seed, int foldCount)
    {
        var speakers = utterances.Select(u => u.Speaker).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (speakers.Length < foldCount)
        {
            throw new BadInputException(
                $"speaker split needs at least {foldCount} speakers for {foldCount} folds; the feature set has {speakers.Length} ({string.Join(", ", speakers)})");
        }
        var random = new Random(seed);
        random.Shuffle(speakers);
        var sizes = speakers.ToDictionary(s => s, s => utterances.Count(u => u.Speaker == s), StringComparer.Ordinal);
        var foldOfSpeaker = new Dictionary<string, int>(StringComparer.Ordinal);
        var load = new int[foldCount];
        // Largest speakers first, each to the lightest fold (ties: lowest fold number), so folds stay
        // balanced when there are more speakers than folds; with one speaker per fold this is a seeded permutation.
        foreach (var speaker in speakers.OrderByDescending(s => sizes[s]))
        {
            var target = 0;
            for (var f = 1; f < foldCount; f++)
            {
                if (load[f] < load[target])
                {
                    target = f;
                }
            }
            // Until every fold has a speaker, fill empty folds first, in seeded order.
            var empty = Enumerable.Range(0, foldCount).Where(f => load[f] == 0).ToArray();
            if (empty.Length > 0)
            {
                target = empty[random.Next(empty.Length)];
            }
            foldOfSpeaker[speaker] = target;
            load[target] += sizes[speaker];
        }
        return utterances.Select(u => foldOfSpeaker[u.Speaker]).ToArray();
    }

    private void CheckFold(int fold)
    {
        if (fold < 0 || fold >= FoldCount)
        {
            throw new BadInputException($"fold {fold} is out of range: expected 0 to {FoldCount - 1}");
        }
    }
}
