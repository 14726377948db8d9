namespace FoldCluster.Cluster.Worker;

/// <summary>
/// A slot's own thread, for the life of the worker: it trains the slot's attempts one after the other (DESIGN.md
/// section 8: one dedicated thread per slot, as TorchSharp dispose scopes are thread-bound). Starting a thread per
/// attempt cost more than the dispatch of the attempt at hundreds of short jobs a second (measured at 256 slots: about
/// 7 % of the machine in thread creation, start-up handshake and exit); handing an attempt to a waiting thread is one
/// wake-up. Attempts posted while one runs wait their turn, in order.
/// </summary>
public sealed class SlotThread : IDisposable
{
    private readonly Queue<Action> _pending = new();
    private readonly object _lock = new();
    private bool _closed;

    public SlotThread(string slot)
    {
        new Thread(Loop) { IsBackground = true, Name = $"slot {slot}" }.Start();
    }

    /// <summary>Queues one attempt's body; refused once the thread was closed.</summary>
    public void Post(Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            _pending.Enqueue(body);
            Monitor.Pulse(_lock);
        }
    }

    /// <summary>Ends the thread after the body it runs (bodies still queued are dropped); does not wait for it.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _closed = true;
            _pending.Clear();
            Monitor.Pulse(_lock);
        }
    }

    private void Loop()
    {
        while (true)
        {
            Action body;
            lock (_lock)
            {
                while (_pending.Count == 0 && !_closed)
                {
                    Monitor.Wait(_lock);
                }
                if (_closed)
                {
                    return;
                }
                body = _pending.Dequeue();
            }
            // A body ends its attempt itself (SlotRun catches what training and storing throw and tells the worker).
            body();
        }
    }
}
