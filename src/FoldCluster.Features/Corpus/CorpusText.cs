using FoldCluster.Core;

namespace FoldCluster.Features.Corpus;

/// <summary>Bounds for the text files of a corpus (label, transcription and transcript files).</summary>
public static class CorpusText
{
    /// <summary>The largest label or transcript file read (the largest IEMOCAP EmoEvaluation file is under 100 kB).</summary>
    public const long MaxFileBytes = 64L * 1024 * 1024;

    /// <summary>The latest time a label line may name, in seconds (IEMOCAP dialogs last minutes).</summary>
    public const double MaxSeconds = 86_400;

    /// <summary>The lines of a corpus text file; a file larger than <see cref="MaxFileBytes"/> is bad input, not read.</summary>
    public static IEnumerable<string> ReadLines(string path)
    {
        var length = new FileInfo(path).Length;
        if (length > MaxFileBytes)
        {
            throw new BadInputException($"{path}: {length} bytes is too large for a corpus label or transcript file (at most {MaxFileBytes})");
        }
        return File.ReadLines(path);
    }
}
