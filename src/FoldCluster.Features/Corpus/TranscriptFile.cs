using FoldCluster.Core;

namespace FoldCluster.Features.Corpus;

/// <summary>
/// A transcript file the user supplies (`transcripts: FILE` in a sweep spec, `--transcripts FILE` on the CLI): one
/// utterance per line, <c>utterance-id&lt;TAB&gt;text</c>, UTF-8. MSP-IMPROV ids may be written as the media stem
/// (MSP-IMPROV-S01A-F01-P-FM01) or as the label file names them (UTD-IMPROV-S01A-F01-P-FM01, with or without .avi/.wav).
/// Its words replace the corpus's own transcript of that utterance; blank lines and lines starting with '#' are skipped.
/// </summary>
public static class TranscriptFile
{
    public static IReadOnlyDictionary<string, (string Text, int Line)> Read(string file, List<CorpusProblem> problems)
    {
        if (!File.Exists(file))
        {
            throw new BadInputException($"transcript file '{file}' does not exist: expected one \"utterance-id<TAB>text\" line per utterance");
        }
        var result = new Dictionary<string, (string, int)>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in File.ReadLines(file))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line) || line.StartsWith('#'))
            {
                continue;
            }
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab <= 0)
            {
                problems.Add(new CorpusProblem(file, lineNumber, "transcript line does not parse: expected \"utterance-id<TAB>text\""));
                continue;
            }
            var id = Normalize(line[..tab].Trim());
            if (!result.TryAdd(id, (line[(tab + 1)..].Trim(), lineNumber)))
            {
                problems.Add(new CorpusProblem(file, lineNumber, $"utterance {id} has a second transcript line; the first is kept"));
            }
        }
        return result;
    }

    /// <summary>The index with the file's transcripts applied; ids the corpus does not label are named as problems.</summary>
    public static CorpusIndex Apply(CorpusIndex index, string file)
    {
        var problems = index.Problems.ToList();
        var transcripts = Read(file, problems);
        var known = index.Entries.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var (id, (_, line)) in transcripts.Where(t => !known.Contains(t.Key)).OrderBy(t => t.Value.Line))
        {
            problems.Add(new CorpusProblem(file, line, $"utterance {id} is not labelled in the corpus; its transcript is not used"));
        }
        var entries = index.Entries
            .Select(e => transcripts.TryGetValue(e.Id, out var t) ? e with { Transcript = t.Text } : e)
            .ToList();
        return new CorpusIndex(index.Layout, index.Root, entries, problems);
    }

    private static string Normalize(string id)
    {
        foreach (var extension in new[] { ".avi", ".wav", ".txt" })
        {
            if (id.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
            {
                id = id[..^extension.Length];
            }
        }
        return id.StartsWith("UTD-IMPROV-", StringComparison.Ordinal) ? "MSP-IMPROV-" + id["UTD-IMPROV-".Length..] : id;
    }
}
