using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FoldCluster.Cluster.Events;

/// <summary>
/// Reads events files back (docs/cluster.md, Events). A line of a kind this build does not know is refused with a
/// clear error; a last line without its newline is one still being written and is left for the next read.
/// </summary>
public static class EventReader
{
    /// <summary>Every kind of the closed set, as written in the `kind` property.</summary>
    public static IReadOnlySet<string> Kinds { get; } = typeof(NodeEvent).GetCustomAttributes<JsonDerivedTypeAttribute>()
        .Select(a => (string)a.TypeDiscriminator!).ToHashSet(StringComparer.Ordinal);

    /// <summary>Parses one line; <paramref name="where"/> names it in errors (e.g. "events.jsonl line 3").</summary>
    public static NodeEvent Parse(string line, string where = "event")
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{where}: not a JSON object ({e.Message})", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("kind", out var kind) || kind.ValueKind != JsonValueKind.String)
            {
                throw new FormatException($"{where}: expected a JSON object with a string property 'kind'");
            }
            if (!Kinds.Contains(kind.GetString()!))
            {
                throw new FormatException($"{where}: unknown event kind '{kind.GetString()}' (known kinds: {string.Join(", ", Kinds.Order(StringComparer.Ordinal))})");
            }
            try
            {
                return document.RootElement.Deserialize<NodeEvent>(EventJson.Options)
                    ?? throw new FormatException($"{where}: empty event");
            }
            catch (JsonException e)
            {
                throw new FormatException($"{where}: a '{kind.GetString()}' event with wrong fields ({e.Message})", e);
            }
        }
    }

    /// <summary>All complete lines of a file (none when it does not exist yet).</summary>
    public static IReadOnlyList<NodeEvent> ReadFile(string path)
    {
        var tail = new EventTail(path);
        return tail.ReadNew();
    }
}

/// <summary>
/// Follows one events file while its node writes it: each <see cref="ReadNew"/> returns the complete lines added
/// since the last call (a torn last line waits until its newline arrives).
/// </summary>
public sealed class EventTail(string path)
{
    private long _offset;
    private int _line;
    private readonly List<byte> _partial = [];

    public string Path { get; } = path;

    public IReadOnlyList<NodeEvent> ReadNew()
    {
        if (!File.Exists(Path))
        {
            return [];
        }
        byte[] added;
        using (var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            if (file.Length <= _offset)
            {
                return [];
            }
            file.Position = _offset;
            added = new byte[file.Length - _offset];
            file.ReadExactly(added);
            _offset += added.Length;
        }
        var events = new List<NodeEvent>();
        var start = 0;
        for (var i = 0; i < added.Length; i++)
        {
            if (added[i] != (byte)'\n')
            {
                continue;
            }
            _partial.AddRange(added.AsSpan(start, i - start));
            start = i + 1;
            _line++;
            // A file started by an editor may begin with a byte order mark.
            var text = Encoding.UTF8.GetString(_partial.ToArray()).TrimStart('\uFEFF');
            _partial.Clear();
            if (text.Length > 0)
            {
                events.Add(EventReader.Parse(text, $"{System.IO.Path.GetFileName(Path)} line {_line}"));
            }
        }
        _partial.AddRange(added.AsSpan(start));
        return events;
    }
}
