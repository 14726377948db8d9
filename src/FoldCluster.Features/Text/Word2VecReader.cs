using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using FoldCluster.Core;

namespace FoldCluster.Features.Text;

/// <summary>Vectors for the words of one corpus vocabulary.</summary>
public sealed record WordVectors(int Dimension, IReadOnlyDictionary<string, float[]> Vectors, string Format, long FileWords);

/// <summary>
/// Streams a Word2Vec file (DESIGN.md 4.2) and keeps only the requested vocabulary, so the 3.6 GB GoogleNews
/// file is never held in memory. Formats: binary ("count dim\n", then per word: its UTF-8 bytes, a space,
/// dim little-endian float32, optional "\n") and text ("count dim" header, then "word v1 ... vdim" per line);
/// the format is recognised from the first entry. Tokens are lower-case while GoogleNews is case-sensitive: an
/// entry spelled exactly like the token wins; otherwise the first entry whose lower-case form matches is used.
/// </summary>
public static class Word2VecReader
{
    public const int ExpectedDimension = 300;

    /// <summary>The most words a header may promise (GoogleNews has 3 million).</summary>
    public const long MaxWords = 100_000_000;

    /// <summary>The longest word of the binary format, in bytes.</summary>
    public const int MaxWordBytes = 10_000;

    public static WordVectors Load(string path, IReadOnlySet<string> vocabulary, int expectedDimension = ExpectedDimension)
    {
        if (!File.Exists(path))
        {
            throw new BadInputException($"{path}: Word2Vec file not found");
        }
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            return Load(stream, path, vocabulary, expectedDimension);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new BadInputException($"{path}: cannot read Word2Vec file: {e.Message}");
        }
    }

    /// <summary>Reads a Word2Vec file from a seekable stream; <paramref name="path"/> names it in messages.</summary>
    public static WordVectors Load(Stream stream, string path, IReadOnlySet<string> vocabulary, int expectedDimension = ExpectedDimension)
    {
        if (expectedDimension is < 1 or > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(expectedDimension), expectedDimension, "expected 1 to 100000");
        }
        try
        {
            var (count, dim) = ReadHeader(stream, path, expectedDimension);
            CheckCountFits(stream, path, count, dim);
            long afterHeader = stream.Position;
            bool text = LooksLikeText(stream, dim);
            stream.Position = afterHeader;
            var found = new Dictionary<string, float[]>(StringComparer.Ordinal);
            var exact = new HashSet<string>(StringComparer.Ordinal);
            void Offer(string word, Func<float[]> vector)
            {
                if (vocabulary.Contains(word))
                {
                    found[word] = vector();
                    exact.Add(word);
                    return;
                }
                var lower = word.ToLowerInvariant();
                if (!exact.Contains(lower) && !found.ContainsKey(lower) && vocabulary.Contains(lower))
                {
                    found[lower] = vector();
                }
            }
            if (text)
            {
                ReadText(stream, path, count, dim, Offer);
            }
            else
            {
                ReadBinary(stream, path, count, dim, Offer);
            }
            return new WordVectors(dim, found, text ? "text" : "binary", count);
        }
        catch (EndOfStreamException)
        {
            throw new BadInputException($"{path}: truncated Word2Vec binary file: the file ends inside a vector");
        }
        catch (IOException e)
        {
            throw new BadInputException($"{path}: cannot read Word2Vec file: {e.Message}");
        }
    }

    /// <summary>
    /// The smallest entry is a one-byte word, a separator and its vector (binary: 4 bytes a number; text: a digit and a
    /// space a number), so a header promising more words than the file can hold is refused before reading on.
    /// </summary>
    private static void CheckCountFits(Stream stream, string path, long count, int dim)
    {
        if (!stream.CanSeek)
        {
            return;
        }
        var remaining = stream.Length - stream.Position;
        var smallest = 2L * dim + 2; // the text format's smallest entry; the binary one is larger (4 * dim + 2)
        if (count > remaining / smallest + 1)
        {
            throw new BadInputException(
                $"{path}: line 1: Word2Vec header promises {count} words of dimension {dim}, but the {remaining} bytes after it hold at most {remaining / smallest + 1}");
        }
    }

    private static (long Count, int Dim) ReadHeader(Stream stream, string path, int expectedDimension)
    {
        var line = ReadLineBytes(stream, 256);
        var parts = line is null ? [] : Encoding.ASCII.GetString(line).Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var dim)
            || count <= 0 || dim <= 0)
        {
            throw new BadInputException($"{path}: line 1: bad Word2Vec header: expected \"<word count> <dimension>\" (positive integers)");
        }
        if (count > MaxWords)
        {
            throw new BadInputException($"{path}: line 1: Word2Vec header promises {count} words; at most {MaxWords} are read");
        }
        if (dim != expectedDimension)
        {
            throw new BadInputException($"{path}: line 1: Word2Vec dimension is {dim}, expected {expectedDimension}");
        }
        return (count, dim);
    }

    private static bool LooksLikeText(Stream stream, int dim)
    {
        var line = ReadLineBytes(stream, 64 * 1024);
        if (line is null)
        {
            return false;
        }
        string s;
        try
        {
            s = new UTF8Encoding(false, true).GetString(line);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        var parts = s.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == dim + 1 && parts.Skip(1).All(p => float.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
    }

    private static void ReadText(Stream stream, string path, long count, int dim, Action<string, Func<float[]>> offer)
    {
        using var reader = new StreamReader(stream, new UTF8Encoding(false), false, 1 << 20, leaveOpen: true);
        // A word and dim numbers of at most 64 characters each: a longer line is not an entry (and is never held whole).
        var maxLine = MaxWordBytes + 64L * dim;
        long entries = 0;
        int lineNumber = 1;
        string? line;
        while ((line = ReadBoundedLine(reader, maxLine, path, lineNumber + 1)) is not null)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            if (entries == count)
            {
                throw new BadInputException($"{path}: line {lineNumber}: Word2Vec text file has more entries than the {count} its header promises");
            }
            int space = line.IndexOf(' ');
            var parts = line.TrimEnd().Split(' ');
            if (space <= 0 || parts.Length != dim + 1)
            {
                throw new BadInputException($"{path}: line {lineNumber}: expected a word and {dim} numbers, found {parts.Length - 1} values");
            }
            entries++;
            int ln = lineNumber;
            offer(parts[0], () =>
            {
                var v = new float[dim];
                for (int i = 0; i < dim; i++)
                {
                    if (!float.TryParse(parts[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || !float.IsFinite(v[i]))
                    {
                        throw new BadInputException($"{path}: line {ln}: '{parts[i + 1]}' is not a finite number");
                    }
                }
                return v;
            });
        }
        if (entries < count)
        {
            throw new BadInputException($"{path}: truncated Word2Vec text file: header promises {count} words, found {entries}");
        }
    }

    private static string? ReadBoundedLine(StreamReader reader, long maxChars, string path, int lineNumber)
    {
        var line = new StringBuilder();
        while (true)
        {
            int c = reader.Read();
            if (c < 0)
            {
                return line.Length == 0 ? null : line.ToString();
            }
            if (c == '\n')
            {
                return line.ToString();
            }
            if (line.Length >= maxChars)
            {
                throw new BadInputException($"{path}: line {lineNumber}: longer than {maxChars} characters; not a Word2Vec text entry");
            }
            line.Append((char)c);
        }
    }

    private static void ReadBinary(Stream stream, string path, long count, int dim, Action<string, Func<float[]>> offer)
    {
        var wordBytes = new List<byte>(64);
        var vectorBytes = new byte[dim * 4];
        for (long entry = 0; entry < count; entry++)
        {
            wordBytes.Clear();
            while (true)
            {
                int b = stream.ReadByte();
                if (b < 0)
                {
                    throw new BadInputException($"{path}: truncated Word2Vec binary file: header promises {count} words, file ends in word {entry + 1}");
                }
                if (b == ' ')
                {
                    break;
                }
                if (b == '\n' && wordBytes.Count == 0)
                {
                    continue;
                }
                wordBytes.Add((byte)b);
                if (wordBytes.Count > MaxWordBytes)
                {
                    throw new BadInputException($"{path}: word {entry + 1} of the Word2Vec binary file is not followed by its vector (wrong format or dimension?)");
                }
            }
            stream.ReadExactly(vectorBytes.AsSpan());
            var word = Encoding.UTF8.GetString(wordBytes.ToArray());
            offer(word, () =>
            {
                var v = new float[dim];
                for (int i = 0; i < dim; i++)
                {
                    v[i] = BinaryPrimitives.ReadSingleLittleEndian(vectorBytes.AsSpan(i * 4, 4));
                    if (!float.IsFinite(v[i]))
                    {
                        throw new BadInputException($"{path}: Word2Vec vector of '{word}' (word {entry + 1}) has a value that is not a finite number");
                    }
                }
                return v;
            });
        }
    }

    private static byte[]? ReadLineBytes(Stream stream, int max)
    {
        var bytes = new List<byte>();
        while (bytes.Count < max)
        {
            int b = stream.ReadByte();
            if (b < 0)
            {
                return bytes.Count == 0 ? null : bytes.ToArray();
            }
            if (b == '\n')
            {
                return bytes.ToArray();
            }
            bytes.Add((byte)b);
        }
        return bytes.ToArray();
    }

    /// <summary>Writes the GoogleNews binary format (the generated corpus and tests).</summary>
    public static void WriteBinary(string path, IReadOnlyList<(string Word, float[] Vector)> entries)
    {
        int dim = entries.Count == 0 ? ExpectedDimension : entries[0].Vector.Length;
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        stream.Write(Encoding.ASCII.GetBytes($"{entries.Count} {dim}\n"));
        var buffer = new byte[dim * 4];
        foreach (var (word, vector) in entries)
        {
            stream.Write(Encoding.UTF8.GetBytes(word + " "));
            for (int i = 0; i < dim; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * 4), vector[i]);
            }
            stream.Write(buffer);
            stream.WriteByte((byte)'\n');
        }
    }

    /// <summary>Writes the text format.</summary>
    public static void WriteText(string path, IReadOnlyList<(string Word, float[] Vector)> entries)
    {
        int dim = entries.Count == 0 ? ExpectedDimension : entries[0].Vector.Length;
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        writer.Write($"{entries.Count} {dim}\n");
        foreach (var (word, vector) in entries)
        {
            writer.Write(word);
            foreach (var v in vector)
            {
                writer.Write(' ');
                writer.Write(v.ToString("R", CultureInfo.InvariantCulture));
            }
            writer.Write('\n');
        }
    }
}
