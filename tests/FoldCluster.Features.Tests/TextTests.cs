using System.Text;
using FoldCluster.Core;
using FoldCluster.Features.Text;

namespace FoldCluster.Features.Tests;

public class TokenizerTests
{
    [Fact]
    public void Lower_cases_strips_punctuation_and_drops_bracket_markers()
    {
        Assert.Equal(["excuse", "me", "dont", "go", "well", "known"],
            Tokenizer.Tokenize("[LAUGHTER] Excuse me. Don't go, well-known! [BREATHING]"));
        Assert.Empty(Tokenizer.Tokenize("[GARBAGE] ..."));
    }
}

public class Word2VecTests
{
    private static float[] Vec(float first) => Enumerable.Range(0, 300).Select(i => first + i).ToArray();

    private static readonly (string, float[])[] Entries =
    [
        ("Hello", Vec(100)), ("hello", Vec(1)), ("world", Vec(2)), ("unused", Vec(3)), ("Excuse", Vec(4)),
    ];

    [Theory]
    [InlineData("binary")]
    [InlineData("text")]
    public void Loads_only_the_vocabulary_and_prefers_the_exact_lower_case_entry(string format)
    {
        var path = Path.Combine(TestFolders.Create(), "w2v." + (format == "binary" ? "bin" : "txt"));
        if (format == "binary")
        {
            Word2VecReader.WriteBinary(path, Entries);
        }
        else
        {
            Word2VecReader.WriteText(path, Entries);
        }
        var v = Word2VecReader.Load(path, new HashSet<string> { "hello", "world", "excuse", "missing" });
        Assert.Equal(format, v.Format);
        Assert.Equal(5, v.FileWords);
        Assert.Equal(3, v.Vectors.Count);
        Assert.Equal(Vec(1), v.Vectors["hello"]);   // the exact "hello", not the earlier "Hello"
        Assert.Equal(Vec(2), v.Vectors["world"]);
        Assert.Equal(Vec(4), v.Vectors["excuse"]);  // only "Excuse" exists: its lower-case form matches
        Assert.False(v.Vectors.ContainsKey("unused"));
    }

    [Fact]
    public void A_binary_file_without_newlines_between_entries_is_read()
    {
        var path = Path.Combine(TestFolders.Create(), "packed.bin");
        using (var s = File.Create(path))
        {
            s.Write(Encoding.ASCII.GetBytes("2 300\n"));
            foreach (var (w, x) in new[] { ("a", Vec(7)), ("b", Vec(8)) })
            {
                s.Write(Encoding.UTF8.GetBytes(w + " "));
                foreach (var f in x)
                {
                    s.Write(BitConverter.GetBytes(f));
                }
            }
        }
        var v = Word2VecReader.Load(path, new HashSet<string> { "a", "b" });
        Assert.Equal(Vec(8), v.Vectors["b"]);
    }

    [Fact]
    public void Bad_header_wrong_dimension_and_truncation_are_reported_with_the_file()
    {
        var dir = TestFolders.Create();
        var header = Path.Combine(dir, "header.bin");
        File.WriteAllText(header, "not a header\n");
        Assert.Contains("bad Word2Vec header", Assert.Throws<BadInputException>(() => Word2VecReader.Load(header, new HashSet<string>())).Message);

        var dim = Path.Combine(dir, "dim100.txt");
        File.WriteAllText(dim, "1 100\nword " + string.Join(' ', Enumerable.Repeat("0.5", 100)) + "\n");
        var e = Assert.Throws<BadInputException>(() => Word2VecReader.Load(dim, new HashSet<string>()));
        Assert.Contains("dimension is 100, expected 300", e.Message);
        Assert.Contains(dim, e.Message);

        var truncated = Path.Combine(dir, "truncated.bin");
        Word2VecReader.WriteBinary(truncated, Entries);
        var bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 700)]);
        Assert.Contains(truncated, Assert.Throws<BadInputException>(() => Word2VecReader.Load(truncated, new HashSet<string> { "hello" })).Message);

        var shortLine = Path.Combine(dir, "short.txt");
        File.WriteAllText(shortLine, "2 300\nok " + string.Join(' ', Enumerable.Repeat("1", 300)) + "\nbad 1 2 3\n");
        Assert.Contains("line 3", Assert.Throws<BadInputException>(() => Word2VecReader.Load(shortLine, new HashSet<string>())).Message);
    }
}
