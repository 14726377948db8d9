using System.Text.Json;
using System.Threading.Channels;

namespace FoldCluster.Cluster.Events;

/// <summary>
/// Writes a node's events as JSON lines to one file (`--events FILE`, appended to). Emitting only queues the event
/// (no I/O on the caller's thread, so the coordinator's assignment path stays as fast as without it); one background
/// writer serialises what is queued and flushes after every batch, so a reader sees each line within milliseconds.
/// Dispose writes what is still queued and closes the file.
/// </summary>
public sealed class EventLog : IDisposable
{
    private readonly Channel<NodeEvent> _queue = Channel.CreateUnbounded<NodeEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly FileStream _file;
    private readonly string _node;
    private readonly Task _writer;

    private EventLog(FileStream file, string node)
    {
        _file = file;
        _node = node;
        _writer = Task.Run(WriteLoopAsync);
    }

    public string Path => _file.Name;

    /// <summary>Opens (creates or appends to) the events file of the node named <paramref name="node"/>.</summary>
    public static EventLog Open(string path, string node)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(full) is { } dir && !Directory.Exists(dir))
        {
            throw new Core.BadInputException($"--events {path}: folder {dir} does not exist");
        }
        return new EventLog(new FileStream(full, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete), node);
    }

    /// <summary>Queues one event, stamped with this node's name (never blocks; dropped after Dispose).</summary>
    public void Write(NodeEvent e) => _queue.Writer.TryWrite(e with { Node = _node });

    private async Task WriteLoopAsync()
    {
        var buffer = new MemoryStream();
        await using var json = new Utf8JsonWriter(buffer);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (_queue.Reader.TryRead(out var e))
            {
                JsonSerializer.Serialize(json, e, EventJson.Options);
                json.Flush();
                json.Reset();
                buffer.WriteByte((byte)'\n');
            }
            try
            {
                _file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
                _file.Flush();
            }
            catch (IOException)
            {
                // A full disk must not stop the node: events are for tools, the log line was written anyway.
            }
            buffer.SetLength(0);
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        // Generous: on a loaded machine the writer may not have run for a while; what it has queued is written first.
        _writer.Wait(TimeSpan.FromSeconds(15));
        _file.Dispose();
    }
}

/// <summary>
/// The process's event sink: `node start --events FILE` installs one; emit points call <see cref="Emit"/>, which
/// does nothing when no events file was given (in-process tests, `--print-config`). Process-wide because some emit
/// points (TLS validation, the serialization lockdown) are built by Akka.NET, not by the node.
/// </summary>
public static class NodeEvents
{
    private static EventLog? _current;

    public static void Use(EventLog? log) => Volatile.Write(ref _current, log);

    public static void Emit(NodeEvent e) => Volatile.Read(ref _current)?.Write(e);
}

internal static class EventJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        AllowOutOfOrderMetadataProperties = true,
    };
}
