using System.Text.RegularExpressions;
using FoldCluster.Core;

namespace FoldCluster.Features.Corpus;

/// <summary>
/// MSP-IMPROV (DESIGN.md section 7): consensus lines of Evaluation.txt (or the release's Evalution.txt)
/// "UTD-IMPROV-S01A-F01-P-FM01.avi; N; A:...; V:...; D:... ; N:...;" give the label; per-rater lines are skipped.
/// Media are found by stem anywhere below the root: MSP-IMPROV-S01A-F01-P-FM01.wav and .avi. Transcripts are
/// not part of every release: each utterance's words are read from a file with the same stem and the extension
/// .txt (for example an ASR output) anywhere below the root. Speaker "F01" = female actor of session 01.
/// Classes: A angry, H happy, S sad, N neutral; O and X excluded.
/// </summary>
public static partial class MspImprovReader
{
    public static Emotion? MapLabel(string raw) => raw switch
    {
        "A" => Emotion.Angry,
        "H" => Emotion.Happy,
        "S" => Emotion.Sad,
        "N" => Emotion.Neutral,
        _ => null,
    };

    public static CorpusIndex Read(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new BadInputException($"{root}: corpus root not found");
        }
        var labelFile = Directory.EnumerateFiles(root, "*.txt", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 3 })
            .Where(f => Path.GetFileName(f) is "Evaluation.txt" or "Evalution.txt")
            .Order(StringComparer.Ordinal)
            .FirstOrDefault();
        if (labelFile is null)
        {
            throw new BadInputException(
                $"{root}: not an MSP-IMPROV root: no Evaluation.txt (or Evalution.txt) found below it (use --layout iemocap for IEMOCAP)");
        }
        var media = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(root, "MSP-IMPROV-*", SearchOption.AllDirectories))
        {
            var ext = Path.GetExtension(f).ToLowerInvariant();
            if (ext is ".wav" or ".avi" or ".txt")
            {
                media.TryAdd(Path.GetFileNameWithoutExtension(f) + ext, f);
            }
        }
        return ParseLabels(CorpusText.ReadLines(labelFile), root, labelFile, media);
    }

    /// <summary>
    /// The lines of Evaluation.txt (<paramref name="labelFile"/> names it): one utterance per consensus line, with the
    /// media and transcript files of <paramref name="media"/> (keyed by stem and extension); problems for the rest.
    /// </summary>
    public static CorpusIndex ParseLabels(IEnumerable<string> lines, string root, string labelFile, IReadOnlyDictionary<string, string> media)
    {
        var entries = new List<CorpusUtterance>();
        var problems = new List<CorpusProblem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in lines)
        {
            lineNumber++;
            if (!line.StartsWith("UTD-IMPROV-", StringComparison.Ordinal) && !line.StartsWith("MSP-IMPROV-", StringComparison.Ordinal))
            {
                continue; // per-rater lines, blank lines
            }
            var m = ConsensusLine().Match(line);
            if (!m.Success)
            {
                problems.Add(new CorpusProblem(labelFile, lineNumber,
                    "label line does not parse: expected \"UTD-IMPROV-S01A-F01-P-FM01.avi; N; A:..; V:..; D:.. ; N:..;\""));
                continue;
            }
            var utd = m.Groups["stem"].Value;
            var stemMatch = Stem().Match(utd);
            if (!stemMatch.Success)
            {
                problems.Add(new CorpusProblem(labelFile, lineNumber, $"utterance name '{utd}' does not parse: expected UTD-IMPROV-S01A-F01-P-FM01"));
                continue;
            }
            var stem = "MSP-IMPROV-" + stemMatch.Groups["rest"].Value;
            if (!seen.Add(stem))
            {
                problems.Add(new CorpusProblem(labelFile, lineNumber, $"utterance {stem} is labelled twice; the first label is kept"));
                continue;
            }
            var raw = m.Groups["label"].Value;
            var label = MapLabel(raw);
            if (label is null && raw is not ("O" or "X"))
            {
                problems.Add(new CorpusProblem(labelFile, lineNumber, $"unknown label '{raw}' for {stem}: expected A, H, S, N, O or X"));
                continue;
            }
            string? transcript = null;
            if (media.TryGetValue(stem + ".txt", out var transcriptFile))
            {
                transcript = string.Join(' ', CorpusText.ReadLines(transcriptFile)).Trim();
            }
            var gender = stemMatch.Groups["gender"].Value;
            var session = stemMatch.Groups["session"].Value;
            entries.Add(new CorpusUtterance(
                stem, gender + session, "S" + session, gender, stem, 0, double.PositiveInfinity, raw, label, transcript,
                media.GetValueOrDefault(stem + ".wav"), media.GetValueOrDefault(stem + ".avi"), 0, double.PositiveInfinity,
                labelFile, lineNumber));
        }
        return new CorpusIndex(CorpusReader.MspImprov, root, entries, problems);
    }

    [GeneratedRegex(@"^(?<stem>(?:UTD|MSP)-IMPROV-[^;\s]+?)(?:\.avi|\.wav)?\s*;\s*(?<label>[A-Za-z])\s*;")]
    private static partial Regex ConsensusLine();

    [GeneratedRegex(@"^(?:UTD|MSP)-IMPROV-(?<rest>S\d+[A-Z]-(?<gender>[FM])(?<session>\d+)-[A-Z]-[A-Z]+\d+)$")]
    private static partial Regex Stem();
}
