using System.Text;
using System.Threading.Channels;

namespace FoldCluster.Cluster.Hosting;

/// <summary>
/// A node's stderr: writers only queue their text (no system call, no wait on a full pipe, a lock held for the
/// enqueue only); one background writer sends what is queued in batches and flushes after each, so lines appear within
/// milliseconds and in the order they were written. At hundreds of assignments per second a node writes thousands of
/// lines per second from dozens of threads; written directly, each line was a system call under the console's lock.
/// Dispose writes what is still queued.
/// </summary>
public sealed class QueuedLineWriter : TextWriter
{
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Stream _output;
    private readonly Task _writer;
    private long _queued;
    private long _written;

    public QueuedLineWriter(Stream output)
    {
        _output = output;
        _writer = Task.Run(WriteLoopAsync);
    }

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value) => Enqueue(value.ToString());

    public override void Write(string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            Enqueue(value);
        }
    }

    public override void Write(char[] buffer, int index, int count) => Enqueue(new string(buffer, index, count));

    public override void WriteLine(string? value) => Enqueue(value + NewLine);

    public override void WriteLine() => Enqueue(NewLine);

    /// <summary>Waits (a few seconds at most) until everything queued so far has been written.</summary>
    public override void Flush()
    {
        var target = Interlocked.Read(ref _queued);
        var deadline = Environment.TickCount64 + 5_000;
        while (Interlocked.Read(ref _written) < target && !_writer.IsCompleted && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(1);
        }
    }

    private void Enqueue(string text)
    {
        if (_queue.Writer.TryWrite(text))
        {
            Interlocked.Increment(ref _queued);
        }
    }

    private async Task WriteLoopAsync()
    {
        var encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        var batch = new StringBuilder();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var count = 0;
            while (batch.Length < 1 << 20 && _queue.Reader.TryRead(out var text))
            {
                batch.Append(text);
                count++;
            }
            try
            {
                var bytes = encoding.GetBytes(batch.ToString());
                _output.Write(bytes, 0, bytes.Length);
                _output.Flush();
            }
            catch (IOException)
            {
                // Nobody reads stderr any more (the parent went away): the node keeps running without its log.
            }
            batch.Clear();
            Interlocked.Add(ref _written, count);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _queue.Writer.TryComplete();
            _writer.Wait(TimeSpan.FromSeconds(15));
            _output.Flush();
        }
        base.Dispose(disposing);
    }
}
