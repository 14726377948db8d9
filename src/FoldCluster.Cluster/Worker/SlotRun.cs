using System.Diagnostics;
using Akka.Actor;
using FoldCluster.Cluster.Infrastructure;
using FoldCluster.Cluster.Messages;
using FoldCluster.Core;
using FoldCluster.Storage.Jobs;

namespace FoldCluster.Cluster.Worker;

/// <summary>How a slot's attempt ended.</summary>
public enum SlotEnd
{
    Stored,
    RejectedStale,
    FailedRetryable,
    FailedPermanently,
    Stopped,
}

/// <summary>Slot thread -> worker actor (local only).</summary>
public sealed record SlotEnded(string Slot, long JobId, int Attempt, SlotEnd End, string Detail, double Seconds) : INoSerializationVerificationNeeded;

/// <summary>Slot thread -> worker actor: training returned; only storing the result is left (local only).</summary>
public sealed record SlotTrained(string Slot, long JobId, int Attempt) : INoSerializationVerificationNeeded;

/// <summary>Slot thread -> worker actor: the attempt's first epoch was recorded (local only; forwarded to the coordinator).</summary>
public sealed record SlotProgress(string Slot, long JobId, int Attempt, EpochReport Epoch) : INoSerializationVerificationNeeded;

/// <summary>
/// One attempt of one job on one slot: <see cref="Run"/> trains on the slot's dedicated thread (<see cref="SlotThread"/>;
/// TorchSharp dispose scopes are thread-bound, DESIGN.md section 8), then stores the result off that thread, so the
/// slot's next attempt trains meanwhile. It talks to PostgreSQL directly and tells the worker actor what happened; it
/// never touches actor state. Epochs are recorded beside the training, in order,
/// not in its way, at most one write per <see cref="ProgressWriteInterval"/>: an epoch found fenced off stops the
/// attempt, and the result is stored only after every epoch write ended (the result carries all epochs anyway).
/// </summary>
public sealed class SlotRun
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly IJobStore _store;
    private readonly RetryingCalls _db;
    private readonly IJobTrainer _trainer;
    private readonly JobRequest _request;
    private readonly IActorRef _worker;
    private readonly TimeSpan _lease;
    private readonly CancellationToken _abort;
    private volatile string? _stopReason;
    private volatile string? _hungReason;
    private volatile EpochReport? _lastEpoch;
    private long _lastAdvanceTicks = DateTime.UtcNow.Ticks;
    private volatile bool _inDatabaseCall;
    private readonly object _epochLock = new();
    private Task _epochWrites = Task.CompletedTask;
    private readonly List<EpochReport> _unwritten = [];
    private long _lastWriteTicks;
    private CancellationTokenSource? _deferredWrite;
    private bool _epochWritesClosed;
    private bool _progressTold;

    /// <summary>
    /// Epochs are written as progress at most this often, counted from the attempt's start: an epoch that comes
    /// sooner waits for the next write, which is due that long after the previous one (or the start) and happens then
    /// even if no further epoch came, and every epoch goes with the result anyway. A training epoch takes seconds and
    /// is written as it ends; an attempt shorter than this writes no progress at all (its result carries its epochs:
    /// one statement less per job at hundreds of short jobs a second), and epochs coming many times a second do not
    /// load PostgreSQL with a statement each.
    /// </summary>
    public static readonly TimeSpan ProgressWriteInterval = TimeSpan.FromSeconds(1);

    public SlotRun(string slot, long jobId, int attempt, JobRequest request, IJobTrainer trainer, IJobStore store, RetryingCalls db,
        TimeSpan lease, IActorRef worker, CancellationToken abort)
    {
        Slot = slot;
        JobId = jobId;
        Attempt = attempt;
        _request = request;
        _trainer = trainer;
        _store = store;
        _db = db;
        _lease = lease;
        _worker = worker;
        _abort = abort;
    }

    public string Slot { get; }

    public long JobId { get; }

    public int Attempt { get; }

    /// <summary>The job's training profile (it sets the default max-epoch-time).</summary>
    public string Profile => _request.Key.Profile;

    public EpochReport? LastEpoch => _lastEpoch;

    public bool StopRequested => _stopReason is not null;

    /// <summary>When the attempt last advanced: its start, then each recorded epoch.</summary>
    public DateTime LastAdvanceUtc => new(Interlocked.Read(ref _lastAdvanceTicks), DateTimeKind.Utc);

    /// <summary>True while the attempt waits for PostgreSQL (an outage is not a hang of the work).</summary>
    public bool InDatabaseCall => _inDatabaseCall;

    /// <summary>True once training returned and only storing the result is left.</summary>
    public bool Trained { get; private set; }

    /// <summary>
    /// The attempt's epochs stopped advancing: stop it like <see cref="Stop"/>, but record the end as a (retryable)
    /// failure of the work with this reason, counted against max_attempts.
    /// </summary>
    public void Hung(string reason)
    {
        _hungReason ??= reason;
        Stop(reason);
    }

    /// <summary>Stops the training within one batch (the trainer checks the token between batches).</summary>
    public void Stop(string reason)
    {
        _stopReason ??= reason;
        _cancel.Cancel();
    }

    /// <summary>
    /// Trains on the calling thread (the slot's); once training returned, the slot is told free and the rest (waiting
    /// for epoch writes, storing the result) goes on without the thread, which may train the slot's next attempt.
    /// </summary>
    public void Run()
    {
        var clock = Stopwatch.StartNew();
        _lastWriteTicks = DateTime.UtcNow.Ticks;
        TrainingOutcome outcome;
        try
        {
            outcome = _trainer.Run(_request, OnEpoch, _cancel.Token);
            if (_cancel.IsCancellationRequested)
            {
                // Cancelled after the last batch: the attempt is fenced off or the node leaves; the store decides.
                _cancel.Token.ThrowIfCancellationRequested();
            }
        }
        catch (Exception e)
        {
            _worker.Tell(EndedAsync(e, clock).GetAwaiter().GetResult());
            return;
        }
        // The slot may take its next job while the result is stored (storing is I/O, not training).
        Trained = true;
        _worker.Tell(new SlotTrained(Slot, JobId, Attempt));
        _ = Task.Run(() => StoreAsync(outcome, clock));
    }

    private async Task StoreAsync(TrainingOutcome outcome, Stopwatch clock)
    {
        SlotEnded ended;
        try
        {
            await EpochWritesEndedAsync().ConfigureAwait(false);
            var stored = await _db.RunAsync($"store the result of job {JobId}", ct => _store.StoreResultAsync(JobId, Attempt, outcome, ct), _abort)
                .ConfigureAwait(false);
            ended = stored == StoreResultOutcome.Stored
                ? new SlotEnded(Slot, JobId, Attempt, SlotEnd.Stored, "result stored", clock.Elapsed.TotalSeconds)
                : new SlotEnded(Slot, JobId, Attempt, SlotEnd.RejectedStale,
                    "result rejected: the attempt is no longer current (fenced off)", clock.Elapsed.TotalSeconds);
        }
        catch (Exception e)
        {
            ended = await EndedAsync(e, clock).ConfigureAwait(false);
        }
        _worker.Tell(ended);
    }

    /// <summary>How an attempt that threw ends: stopped (cancelled), or failed, retryable or not, recorded as such.</summary>
    private async Task<SlotEnded> EndedAsync(Exception e, Stopwatch clock)
    {
        if (e is OperationCanceledException && _cancel.IsCancellationRequested)
        {
            return _hungReason is not null
                ? await FailAsync(_hungReason, retryable: true, clock).ConfigureAwait(false)
                : new SlotEnded(Slot, JobId, Attempt, SlotEnd.Stopped, _stopReason ?? "cancelled", clock.Elapsed.TotalSeconds);
        }
        if (e is BadInputException || IsOutOfMemory(e))
        {
            // Cannot succeed on retry (DESIGN.md section 8): the job fails at once with its reason; the sweep goes on.
            var reason = e is BadInputException ? e.Message : $"out of memory: {e.Message}";
            return await FailAsync(reason, retryable: false, clock).ConfigureAwait(false);
        }
        return await FailAsync($"{e.GetType().Name}: {e.Message}", retryable: true, clock).ConfigureAwait(false);
    }

    private async Task<SlotEnded> FailAsync(string reason, bool retryable, Stopwatch clock)
    {
        try
        {
            var current = await _db.RunAsync($"record the failure of job {JobId}", ct => _store.FailAsync(JobId, Attempt, reason, retryable, ct), _abort)
                .ConfigureAwait(false);
            var end = !current ? SlotEnd.RejectedStale : retryable ? SlotEnd.FailedRetryable : SlotEnd.FailedPermanently;
            return new SlotEnded(Slot, JobId, Attempt, end, reason, clock.Elapsed.TotalSeconds);
        }
        catch (Exception e)
        {
            // The database stayed away: the lease expires and the coordinator requeues the job.
            return new SlotEnded(Slot, JobId, Attempt, SlotEnd.FailedRetryable, $"{reason} (not recorded: {e.Message})", clock.Elapsed.TotalSeconds);
        }
    }

    private void OnEpoch(EpochReport epoch)
    {
        _lastEpoch = epoch;
        if (!_progressTold)
        {
            // Only the first epoch is a message: the worker forwards it so the coordinator learns the slot holds the
            // attempt; the worker reads later epochs from LastEpoch, and PostgreSQL gets them as before.
            _progressTold = true;
            _worker.Tell(new SlotProgress(Slot, JobId, Attempt, epoch));
        }
        Interlocked.Exchange(ref _lastAdvanceTicks, DateTime.UtcNow.Ticks);
        lock (_epochLock)
        {
            // A write that failed for good (the database stayed away) fails the attempt here, as a blocking write would.
            if (_epochWrites.IsFaulted)
            {
                _epochWrites.GetAwaiter().GetResult();
            }
            _unwritten.Add(epoch);
            var now = DateTime.UtcNow.Ticks;
            var due = _lastWriteTicks + ProgressWriteInterval.Ticks;
            if (now >= due)
            {
                WriteUnwritten(now);
            }
            else if (_deferredWrite is null)
            {
                DeferWrite(TimeSpan.FromTicks(due - now));
            }
        }
        _cancel.Token.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Starts writing the epochs not written yet (under the epoch lock), after the writes before it, and drops a
    /// deferred write; once the training returned it only drops them (the result carries them).
    /// </summary>
    private void WriteUnwritten(long now)
    {
        _deferredWrite?.Cancel();
        _deferredWrite = null;
        if (_epochWritesClosed)
        {
            _unwritten.Clear();
        }
        if (_unwritten.Count == 0)
        {
            return;
        }
        _lastWriteTicks = now;
        _epochWrites = RecordEpochsAsync(_epochWrites, [.. _unwritten]);
        _unwritten.Clear();
    }

    /// <summary>Writes the epochs waiting then, unless an epoch wrote them before or the training returned.</summary>
    private void DeferWrite(TimeSpan delay)
    {
        var deferred = new CancellationTokenSource();
        _deferredWrite = deferred;
        _ = Task.Delay(delay, deferred.Token).ContinueWith(t =>
        {
            lock (_epochLock)
            {
                if (!t.IsCanceled && _deferredWrite == deferred)
                {
                    WriteUnwritten(DateTime.UtcNow.Ticks);
                }
            }
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default); // on the pool, not the timer's thread
    }

    private async Task RecordEpochsAsync(Task previous, IReadOnlyList<EpochReport> epochs)
    {
        await previous.ConfigureAwait(false);
        if (_cancel.IsCancellationRequested)
        {
            return;
        }
        _inDatabaseCall = true;
        try
        {
            var current = await _db.RunAsync($"record an epoch of job {JobId}", ct => _store.RecordEpochsAsync(JobId, Attempt, epochs, _lease, ct), _abort)
                .ConfigureAwait(false);
            if (!current)
            {
                Stop("the attempt is no longer current (sweep cancelled or job reassigned)");
            }
        }
        finally
        {
            _inDatabaseCall = false;
            // Time spent waiting for the database does not count towards a hang.
            Interlocked.Exchange(ref _lastAdvanceTicks, DateTime.UtcNow.Ticks);
        }
    }

    /// <summary>Waits for the epoch writes still running; an attempt one of them found fenced off ends as stopped.</summary>
    private async Task EpochWritesEndedAsync()
    {
        Task writes;
        lock (_epochLock)
        {
            // Epochs not written yet go with the result; a write still due is not started.
            _epochWritesClosed = true;
            WriteUnwritten(DateTime.UtcNow.Ticks);
            writes = _epochWrites;
        }
        await writes.ConfigureAwait(false);
        _cancel.Token.ThrowIfCancellationRequested();
    }

    /// <summary>CLR out-of-memory, or libtorch's allocator failing (CPU "DefaultCPUAllocator" / CUDA "out of memory").</summary>
    public static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException
        || e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("DefaultCPUAllocator: can't allocate memory", StringComparison.Ordinal)
        || (e.InnerException is not null && IsOutOfMemory(e.InnerException));
}
