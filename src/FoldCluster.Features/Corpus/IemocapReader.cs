using System.Globalization;
using System.Text.RegularExpressions;
using FoldCluster.Core;

namespace FoldCluster.Features.Corpus;

/// <summary>
/// IEMOCAP_full_release (DESIGN.md section 7): SessionN/dialog/EmoEvaluation/&lt;dialog&gt;.txt holds the labels,
/// SessionN/dialog/transcriptions/&lt;dialog&gt;.txt the words, SessionN/sentences/wav/&lt;dialog&gt;/&lt;utterance&gt;.wav
/// the audio and SessionN/dialog/avi/DivX/&lt;dialog&gt;.avi the side-by-side dialog video. The speaker of
/// Ses01F_impro01_M003 is "Ses01M": session 1's male actor (the gender is the first letter of the last field).
/// Classes (DESIGN.md section 6): ang -> angry, hap and exc -> happy, sad -> sad, neu -> neutral; fru, sur, fea,
/// dis, oth and xxx are excluded and counted.
/// </summary>
public static partial class IemocapReader
{
    private static readonly HashSet<string> ExcludedLabels = new(StringComparer.Ordinal) { "fru", "sur", "fea", "dis", "oth", "xxx" };

    public static Emotion? MapLabel(string raw) => raw switch
    {
        "ang" => Emotion.Angry,
        "hap" or "exc" => Emotion.Happy,
        "sad" => Emotion.Sad,
        "neu" => Emotion.Neutral,
        _ => null,
    };

    public static CorpusIndex Read(string root)
    {
        var sessions = SessionDirectories(root);
        if (sessions.Count == 0)
        {
            var nested = Path.Combine(root, "IEMOCAP_full_release");
            if (Directory.Exists(nested))
            {
                root = nested;
                sessions = SessionDirectories(root);
            }
        }
        if (sessions.Count == 0)
        {
            throw new BadInputException(
                $"{root}: not an IEMOCAP_full_release root: expected SessionN/dialog/EmoEvaluation/<dialog>.txt below it (use --layout msp-improv for MSP-IMPROV)");
        }
        var entries = new List<CorpusUtterance>();
        var problems = new List<CorpusProblem>();
        foreach (var session in sessions)
        {
            var evaluationDir = Path.Combine(session, "dialog", "EmoEvaluation");
            foreach (var labelFile in Directory.EnumerateFiles(evaluationDir, "*.txt").Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal))
            {
                var dialog = Path.GetFileNameWithoutExtension(labelFile);
                var transcriptFile = Path.Combine(session, "dialog", "transcriptions", dialog + ".txt");
                var transcripts = ReadTranscripts(transcriptFile, dialog, problems);
                var videoFile = Path.Combine(session, "dialog", "avi", "DivX", dialog + ".avi");
                string? video = File.Exists(videoFile) ? videoFile : null;
                ReadEvaluation(CorpusText.ReadLines(labelFile), labelFile, dialog, session, transcripts, video, entries, problems);
            }
        }
        return new CorpusIndex(CorpusReader.Iemocap, root, entries, problems);
    }

    private static List<string> SessionDirectories(string root) =>
        !Directory.Exists(root)
            ? []
            : Directory.EnumerateDirectories(root, "Session*")
                .Where(d => SessionName().IsMatch(Path.GetFileName(d)) && Directory.Exists(Path.Combine(d, "dialog", "EmoEvaluation")))
                .Order(StringComparer.Ordinal)
                .ToList();

    private static Dictionary<string, string>? ReadTranscripts(string file, string dialog, List<CorpusProblem> problems)
    {
        if (!File.Exists(file))
        {
            return null;
        }
        return ParseTranscripts(CorpusText.ReadLines(file), file, dialog, problems);
    }

    /// <summary>The lines of a transcription file: utterance id to words; a line naming the dialog that does not parse is a problem.</summary>
    public static Dictionary<string, string> ParseTranscripts(IEnumerable<string> lines, string file, string dialog, List<CorpusProblem> problems)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in lines)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var m = TranscriptLine().Match(line);
            if (m.Success)
            {
                result[m.Groups["id"].Value] = m.Groups["text"].Value.Trim();
            }
            else if (line.StartsWith(dialog + "_", StringComparison.Ordinal))
            {
                // It names an utterance of this dialog but is not "ID [START-END]: text".
                problems.Add(new CorpusProblem(file, lineNumber, "transcript line does not parse: expected \"UTTERANCE [START-END]: text\""));
            }
            // Anything else (notes, other formats) is not an utterance line and is skipped.
        }
        return result;
    }

    /// <summary>
    /// The lines of an EmoEvaluation file (<paramref name="file"/> names it; <paramref name="session"/> is its SessionN
    /// folder): one utterance per label line, problems for lines that do not parse or hold numbers out of range.
    /// </summary>
    public static void ReadEvaluation(
        IEnumerable<string> lines, string file, string dialog, string session, Dictionary<string, string>? transcripts, string? video,
        List<CorpusUtterance> entries, List<CorpusProblem> problems)
    {
        int lineNumber = 0;
        var sessionMatch = SessionName().Match(Path.GetFileName(session));
        if (!sessionMatch.Success)
        {
            throw new BadInputException($"{session}: not an IEMOCAP session folder (expected Session1 to Session99)");
        }
        var sessionNumber = int.Parse(sessionMatch.Groups[1].Value, CultureInfo.InvariantCulture);
        foreach (var line in lines)
        {
            lineNumber++;
            if (!line.StartsWith('['))
            {
                // Header (%), annotator lines (C-E1:, A-E3: ...) and blank separators.
                continue;
            }
            var m = EvaluationLine().Match(line);
            if (!m.Success)
            {
                problems.Add(new CorpusProblem(file, lineNumber,
                    "label line does not parse: expected \"[START - END]<TAB>UTTERANCE<TAB>LABEL<TAB>[V, A, D]\""));
                continue;
            }
            var id = m.Groups["id"].Value;
            var raw = m.Groups["label"].Value;
            if (!double.TryParse(m.Groups["start"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var start)
                || !double.TryParse(m.Groups["end"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var end)
                || start > CorpusText.MaxSeconds || end > CorpusText.MaxSeconds)
            {
                problems.Add(new CorpusProblem(file, lineNumber, $"utterance time range [{m.Groups["start"].Value} - {m.Groups["end"].Value}] is outside 0 to {CorpusText.MaxSeconds} s"));
                continue;
            }
            var idMatch = UtteranceId().Match(id);
            if (!id.StartsWith(dialog + "_", StringComparison.Ordinal) || !idMatch.Success)
            {
                problems.Add(new CorpusProblem(file, lineNumber, $"utterance id '{id}' does not belong to dialog {dialog} (expected {dialog}_F000 or {dialog}_M000 style)"));
                continue;
            }
            if (end <= start)
            {
                problems.Add(new CorpusProblem(file, lineNumber, $"utterance {id} has an empty time range [{start} - {end}]"));
                continue;
            }
            var label = MapLabel(raw);
            if (label is null && !ExcludedLabels.Contains(raw))
            {
                problems.Add(new CorpusProblem(file, lineNumber, $"unknown label '{raw}' for {id}: expected ang, hap, exc, sad, neu, fru, sur, fea, dis, oth or xxx"));
                continue;
            }
            var gender = idMatch.Groups["gender"].Value;
            var sessionId = $"Ses{sessionNumber:00}";
            var wav = Path.Combine(session, "sentences", "wav", dialog, id + ".wav");
            string? transcript = transcripts is not null && transcripts.TryGetValue(id, out var t) ? t : null;
            entries.Add(new CorpusUtterance(
                id, sessionId + gender, sessionId, gender, dialog, start, end, raw, label, transcript,
                File.Exists(wav) ? wav : null, video, start, end, file, lineNumber));
        }
    }

    [GeneratedRegex(@"^Session([0-9]{1,2})$")]
    private static partial Regex SessionName();

    [GeneratedRegex(@"^\[(?<start>[0-9]+(?:\.[0-9]+)?)\s*-\s*(?<end>[0-9]+(?:\.[0-9]+)?)\]\s+(?<id>\S+)\s+(?<label>[A-Za-z]+)\s+\[[^\]]*\]\s*$")]
    private static partial Regex EvaluationLine();

    [GeneratedRegex(@"^(?<id>\S+)\s+\[(?<start>\d+(?:\.\d+)?)-(?<end>\d+(?:\.\d+)?)\]:\s?(?<text>.*)$")]
    private static partial Regex TranscriptLine();

    [GeneratedRegex(@"_(?<gender>[FM])\d+$")]
    private static partial Regex UtteranceId();
}
