using System.Collections.Concurrent;
using Dapper;
using FoldCluster.Core;
using FoldCluster.Core.Sweeps;
using Npgsql;
using NpgsqlTypes;

namespace FoldCluster.Storage.Jobs;

/// <summary>
/// <see cref="IJobStore"/> over PostgreSQL (DESIGN.md section 8). Each method is one transaction (or one statement);
/// every change to a running job names its fencing attempt: `where job_id = @id and attempt = @attempt and state = 'running'`.
/// Methods that are safe to repeat after a lost acknowledgement (renew, epoch, result) are idempotent for the same attempt,
/// so callers may wrap them in <see cref="DbRetry"/>.
/// </summary>
public sealed class JobStore(NpgsqlDataSource dataSource) : IJobStore
{
    /// <summary>A sweep's spec never changes after submission, so its parsed form is cached per sweep id.</summary>
    private readonly ConcurrentDictionary<long, SweepSpec> _specs = new();

    /// <summary>
    /// What a claimed job's trainer receives besides its key, per sweep, dataset and fold: computing it walks the
    /// sweep's whole grid (the dataset's utterance set), which per claim made a claim's cost grow with the sweep.
    /// </summary>
    private readonly ConcurrentDictionary<(long SweepId, string Dataset, string Extractor, int Fold), IReadOnlyDictionary<string, string>> _overrides = new();

    /// <summary>The channel a transaction that queues jobs notifies; delivered at its commit, never before.</summary>
    public const string QueuedChannel = "foldcluster_jobs_queued";

    /// <summary>
    /// Notifies <see cref="QueuedChannel"/> in <paramref name="transaction"/>, which queues jobs: listening
    /// coordinators claim at its commit instead of at their next look.
    /// </summary>
    public static Task NotifyQueuedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition($"select pg_notify('{QueuedChannel}', '')", transaction: transaction, cancellationToken: ct));

    private static readonly TimeSpan ListenRetryPause = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ListenCheckInterval = TimeSpan.FromSeconds(30);

    private sealed record JobState(string State, int Attempt);

    private sealed record ClaimRow(
        long N, long JobId, int Attempt, long SweepId, string SweepName, string Dataset, string Split, int Fold, string Method,
        string Modalities, bool Pretrained, string Extractor, int Seed, string Profile, DateTime LeaseExpiresAt);

    public Task<ClaimedJob?> ClaimNextAsync(string worker, string slot, TimeSpan lease, CancellationToken ct) =>
        ClaimNextAsync(worker, slot, lease, Guid.NewGuid(), ct);

    public async Task<ClaimedJob?> ClaimNextAsync(string worker, string slot, TimeSpan lease, Guid claimToken, CancellationToken ct) =>
        (await ClaimBatchAsync([new ClaimRequest(worker, slot, claimToken)], lease, ct).ConfigureAwait(false))[0];

    public async Task<IReadOnlyList<ClaimedJob?>> ClaimBatchAsync(IReadOnlyList<ClaimRequest> requests, TimeSpan lease, CancellationToken ct, int reserve = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(reserve);
        ArgumentNullException.ThrowIfNull(requests);
        foreach (var r in requests)
        {
            ArgumentException.ThrowIfNullOrEmpty(r.Worker);
            ArgumentException.ThrowIfNullOrEmpty(r.Slot);
        }
        if (requests.Select(r => r.Token).Distinct().Count() != requests.Count)
        {
            throw new ArgumentException("every claim request of a batch needs its own token", nameof(requests));
        }
        var jobs = new ClaimedJob?[requests.Count];
        var open = Enumerable.Range(0, requests.Count).ToList();
        var tokens = requests.Select(r => r.Token).ToArray();
        while (open.Count > 0)
        {
            await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
            var rows = await ClaimRowsAsync(connection, [.. open.Select(i => requests[i] with { Token = tokens[i] })], lease, reserve, ct).ConfigureAwait(false);
            var unusable = new List<int>();
            foreach (var row in rows)
            {
                var index = open[(int)row.N - 1];
                var key = new JobKey(row.Dataset, row.Split, row.Fold, row.Method, row.Modalities, row.Pretrained, row.Extractor, row.Seed, row.Profile);
                var spec = await SpecAsync(connection, row.SweepId, ct).ConfigureAwait(false);
                var dataset = spec?.DatasetFor(key);
                if (dataset is null)
                {
                    // The stored spec does not describe this job (edited by hand?): fail it with the reason rather than
                    // handing out a job no worker can run, and look for another one for this request.
                    var reason = spec is null
                        ? $"the stored spec of sweep '{row.SweepName}' cannot be read"
                        : $"the spec of sweep '{row.SweepName}' has no dataset '{key.Dataset}' with extractor '{key.Extractor}'";
                    await FailAsync(row.JobId, row.Attempt, reason, retryable: false, ct).ConfigureAwait(false);
                    unusable.Add(index);
                    continue;
                }
                var overrides = _overrides.GetOrAdd((row.SweepId, key.Dataset, key.Extractor, key.Fold), _ => spec!.OverridesFor(dataset, key));
                jobs[index] = new ClaimedJob(row.JobId, row.Attempt, row.SweepId, row.SweepName, key, dataset.ToSource(),
                    overrides, DateTime.SpecifyKind(row.LeaseExpiresAt, DateTimeKind.Utc));
            }
            // A request whose job could not be used asks again under a new token (its old one names the failed attempt).
            foreach (var i in unusable)
            {
                tokens[i] = Guid.NewGuid();
            }
            open = unusable;
        }
        return jobs;
    }

    /// <summary>
    /// One statement, so one round trip and atomic on its own, for the whole batch: pick up to one queued job per
    /// request, hand each out (attempt + 1) to its request's worker slot and record the attempt with the request's
    /// claim token. Tokens seen before mean this is a retry of a batch whose reply was lost (a batch is all or nothing):
    /// it hands out the attempts that batch produced (those still running there) and claims nothing new.
    /// skip locked: concurrent claimers each take different rows instead of queueing behind one lock.
    /// Idle requests rank first; ahead requests get jobs only from the queue beyond @reserve (counted up to what
    /// matters, through the partial index of queued jobs, so the count stays cheap on a long queue).
    /// Row N answers the N-th request (1-based); requests without a row got no job.
    /// </summary>
    private static async Task<IReadOnlyList<ClaimRow>> ClaimRowsAsync(NpgsqlConnection connection, IReadOnlyList<ClaimRequest> requests, TimeSpan lease,
        int reserve, CancellationToken ct)
    {
        var rows = await connection.QueryAsync<ClaimRow>(new CommandDefinition("""
            with req as (
                select r.worker, r.slot, r.token, r.ahead, r.n, row_number() over (order by r.ahead, r.n) as rank
                from unnest(@workers::text[], @slots::text[], @tokens::uuid[], @ahead::boolean[]) with ordinality as r(worker, slot, token, ahead, n)
            ), earlier as (
                select a.job_id, a.attempt, a.claim_token from job_attempts a where a.claim_token = any(@tokens)
            ), wanted as (
                select count(*) filter (where not ahead) as idle, count(*) filter (where ahead) as ahead from req
            ), active as (
                select array(select sweep_id from sweeps where state = 'active') as ids
            ), queued as (
                select count(*) as n from (
                    select 1 from jobs j
                    where j.state = 'queued' and j.sweep_id = any((select ids from active)::bigint[])
                    order by j.job_id
                    limit @reserve + @count) q
            ), picked as (
                select j.job_id
                from jobs j
                where j.state = 'queued' and j.sweep_id = any((select ids from active)::bigint[]) and not exists (select 1 from earlier)
                order by j.job_id
                limit (select w.idle + greatest(0, least(w.ahead, q.n - w.idle - @reserve)) from wanted w, queued q)
                for update of j skip locked
            ), next as (
                select job_id, row_number() over (order by job_id) as n from picked
            ), claimed as (
                update jobs j
                set state = 'running', attempt = j.attempt + 1, worker = req.worker, slot = req.slot,
                    lease_expires_at = now() + make_interval(secs => @leaseSeconds), stage = null, epoch = null,
                    epochs_planned = null, error = null, started_at = now(), finished_at = null
                from next join req on req.rank = next.n
                where j.job_id = next.job_id
                returning j.*, req.token, req.n
            ), attempt as (
                insert into job_attempts (job_id, attempt, worker, slot, claim_token)
                select job_id, attempt, worker, slot, token from claimed
            ), again as (
                select j.*, req.token, req.n
                from jobs j join earlier e on e.job_id = j.job_id and e.attempt = j.attempt
                            join req on req.token = e.claim_token
                where j.state = 'running' and j.worker = req.worker and j.slot = req.slot
            )
            select c.n as N, c.job_id as JobId, c.attempt as Attempt, c.sweep_id as SweepId, s.name as SweepName,
                   c.dataset as Dataset, c.split as Split, c.fold as Fold, c.method as Method,
                   c.modalities as Modalities, c.pretrained as Pretrained, c.extractor as Extractor,
                   c.seed as Seed, c.profile as Profile, c.lease_expires_at as LeaseExpiresAt
            from (select * from claimed union all select * from again) c join sweeps s on s.sweep_id = c.sweep_id
            order by c.n
            """, new
        {
            workers = requests.Select(r => r.Worker).ToArray(),
            slots = requests.Select(r => r.Slot).ToArray(),
            tokens = requests.Select(r => r.Token).ToArray(),
            ahead = requests.Select(r => r.Ahead).ToArray(),
            count = requests.Count,
            reserve,
            leaseSeconds = lease.TotalSeconds,
        }, cancellationToken: ct)).ConfigureAwait(false);
        return [.. rows];
    }

    private async Task<SweepSpec?> SpecAsync(NpgsqlConnection connection, long sweepId, CancellationToken ct)
    {
        if (_specs.TryGetValue(sweepId, out var cached))
        {
            return cached;
        }
        var (name, text) = await connection.QuerySingleAsync<(string, string)>(new CommandDefinition(
            "select name, spec from sweeps where sweep_id = @sweepId", new { sweepId }, cancellationToken: ct)).ConfigureAwait(false);
        try
        {
            var spec = SweepSpecParser.Parse(text, $"stored spec of sweep '{name}'");
            _specs[sweepId] = spec;
            return spec;
        }
        catch (BadInputException)
        {
            return null;
        }
    }

    public async Task<bool> RenewLeaseAsync(long jobId, int attempt, TimeSpan lease, int? stage, int? epoch, CancellationToken ct)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        var rows = await connection.ExecuteAsync(new CommandDefinition("""
            update jobs
            set lease_expires_at = now() + make_interval(secs => @leaseSeconds), stage = coalesce(@stage, stage), epoch = coalesce(@epoch, epoch)
            where job_id = @jobId and attempt = @attempt and state = 'running'
            """, new { jobId, attempt, leaseSeconds = lease.TotalSeconds, stage = (short?)stage, epoch }, cancellationToken: ct)).ConfigureAwait(false);
        return rows == 1;
    }

    public async Task<IReadOnlySet<(long JobId, int Attempt)>> RenewLeasesAsync(IReadOnlyList<LeaseRenewal> renewals, TimeSpan lease, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(renewals);
        if (renewals.Count == 0)
        {
            return new HashSet<(long, int)>();
        }
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        // One statement for all of a worker's attempts (running and prefetched), each fenced by its attempt number.
        var current = await connection.QueryAsync<(long JobId, int Attempt)>(new CommandDefinition("""
            update jobs j
            set lease_expires_at = now() + make_interval(secs => @leaseSeconds),
                stage = coalesce(r.stage, j.stage), epoch = coalesce(r.epoch, j.epoch)
            from unnest(@jobIds::bigint[], @attempts::int[], @stages::smallint[], @epochs::int[]) as r(job_id, attempt, stage, epoch)
            where j.job_id = r.job_id and j.attempt = r.attempt and j.state = 'running'
            returning j.job_id, j.attempt
            """, new
        {
            jobIds = renewals.Select(r => r.JobId).ToArray(),
            attempts = renewals.Select(r => r.Attempt).ToArray(),
            stages = renewals.Select(r => (short?)r.Stage).ToArray(),
            epochs = renewals.Select(r => r.Epoch).ToArray(),
            leaseSeconds = lease.TotalSeconds,
        }, cancellationToken: ct)).ConfigureAwait(false);
        return current.ToHashSet();
    }

    public async Task<bool> RecordEpochsAsync(long jobId, int attempt, IReadOnlyList<EpochReport> epochs, TimeSpan lease, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        if (epochs.Count == 0)
        {
            throw new ArgumentException("at least one epoch is needed", nameof(epochs));
        }
        var last = epochs[^1];
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        // One round trip: the fenced lease renewal and the epoch rows in one statement (the inserts happen only when
        // the update matched). Progress, not a result: its commit does not wait for the WAL flush (a crash of the
        // server may forget the last epochs; the result stores every epoch again, durably, and the lease is renewed
        // by the next heartbeat). on conflict: a retried call after a lost acknowledgement stores each epoch once.
        var rows = await connection.ExecuteScalarAsync<int>(new CommandDefinition("""
            begin;
            set local synchronous_commit = off;
            with renewed as (
                update jobs
                set lease_expires_at = now() + make_interval(secs => @leaseSeconds), stage = @stage, epoch = @epoch, epochs_planned = @planned
                where job_id = @jobId and attempt = @attempt and state = 'running'
                returning job_id
            ), recorded as (
                insert into epoch_metrics (job_id, attempt, stage, epoch, train_loss, val_loss, val_ua)
                select r.job_id, @attempt, e.stage, e.epoch, e.train_loss, e.val_loss, e.val_ua
                from renewed r, unnest(@stages, @epochs, @trainLosses, @valLosses, @valUas) as e(stage, epoch, train_loss, val_loss, val_ua)
                on conflict (job_id, attempt, stage, epoch) do nothing
            )
            select count(*)::int from renewed;
            commit;
            """, new
        {
            jobId,
            attempt,
            leaseSeconds = lease.TotalSeconds,
            stage = (short)last.Stage,
            epoch = last.Epoch,
            planned = last.EpochsPlanned,
            stages = epochs.Select(e => (short)e.Stage).ToArray(),
            epochs = epochs.Select(e => e.Epoch).ToArray(),
            trainLosses = epochs.Select(e => e.TrainLoss).ToArray(),
            valLosses = epochs.Select(e => e.ValidationLoss).ToArray(),
            valUas = epochs.Select(e => e.ValidationUa).ToArray(),
        }, cancellationToken: ct)).ConfigureAwait(false);
        return rows == 1;
    }

    public async Task<StoreResultOutcome> StoreResultAsync(long jobId, int attempt, TrainingOutcome outcome, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var confusion = Flatten(outcome.Test.Confusion);
        CheckMetrics(outcome);
        Features.FeatureVectorStore.Check(outcome.Features);

        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        // One round trip for the whole result (Npgsql sends the statements together, with one Sync at the end): the
        // first locks the job row, so the fencing check and the writes see one state; every write names the attempt and
        // runs only while it is the job's current running attempt, so a stale attempt's statements change nothing.
        // Without stored features the batch is the whole transaction: PostgreSQL runs the statements before a Sync as
        // one implicit transaction (all or none), so there is no BEGIN and no COMMIT round trip (one of a short job's
        // three round trips to the database). Stored features follow the check by COPY, in an explicit transaction.
        await using var transaction = outcome.Features.Count > 0 ? await connection.BeginTransactionAsync(ct).ConfigureAwait(false) : null;
        const string Current = "exists (select 1 from jobs where job_id = @jobId and attempt = @attempt and state = 'running')";
        var sql = new System.Text.StringBuilder($"""
            select state || ' ' || attempt from jobs where job_id = @jobId for update;
            insert into results (job_id, attempt, ua, wa, macro_f1, weighted_f1, confusion, best_epoch, seconds)
            select @jobId, @attempt, @Ua, @Wa, @MacroF1, @WeightedF1, @confusion, @BestEpoch, @Seconds where {Current};
            """);
        if (outcome.Predictions.Count > 0)
        {
            sql.Append($"""

                insert into prediction_sets (job_id, utterance_ids, true_labels, predicted)
                select @jobId, @predictionIds::text[], @predictionTruths::smallint[], @predictionLabels::smallint[]
                where {Current};
                """);
        }
        if (outcome.Epochs.Count > 0)
        {
            // Progress writes may have been skipped or lost on the way; the outcome carries every epoch, stored once.
            sql.Append($"""

                insert into epoch_metrics (job_id, attempt, stage, epoch, train_loss, val_loss, val_ua)
                select @jobId, @attempt, e.stage, e.epoch, e.train_loss, e.val_loss, e.val_ua
                from unnest(@stages, @epochs, @trainLosses, @valLosses, @valUas) as e(stage, epoch, train_loss, val_loss, val_ua)
                where {Current}
                on conflict (job_id, attempt, stage, epoch) do nothing;
                """);
        }
        var provenance = outcome.Provenance;
        if (provenance is not null)
        {
            sql.Append($"""

                {ResultProvenanceRows.InsertSelect} where {Current};
                """);
        }
        sql.Append("""

            update jobs set state = 'succeeded', finished_at = now(), lease_expires_at = null, error = null
            where job_id = @jobId and attempt = @attempt and state = 'running';
            update job_attempts set outcome = 'succeeded', ended_at = now()
            where job_id = @jobId and attempt = @attempt
              and exists (select 1 from jobs where job_id = @jobId and attempt = @attempt and state = 'succeeded');
            """);
        var parameters = new DynamicParameters(new
        {
            jobId,
            attempt,
            outcome.Test.Ua,
            outcome.Test.Wa,
            outcome.Test.MacroF1,
            outcome.Test.WeightedF1,
            confusion,
            outcome.BestEpoch,
            outcome.Seconds,
            predictionIds = outcome.Predictions.Select(p => p.UtteranceId).ToArray(),
            predictionTruths = outcome.Predictions.Select(p => (short)p.True).ToArray(),
            predictionLabels = outcome.Predictions.Select(p => (short)p.Predicted).ToArray(),
            stages = outcome.Epochs.Select(e => (short)e.Stage).ToArray(),
            epochs = outcome.Epochs.Select(e => e.Epoch).ToArray(),
            trainLosses = outcome.Epochs.Select(e => e.TrainLoss).ToArray(),
            valLosses = outcome.Epochs.Select(e => e.ValidationLoss).ToArray(),
            valUas = outcome.Epochs.Select(e => e.ValidationUa).ToArray(),
        });
        if (provenance is not null)
        {
            ResultProvenanceRows.AddParameters(parameters, provenance);
        }
        // The first statement's row answers; an error of any later statement is thrown here too (Npgsql reads every
        // statement's reply before it returns) and the transaction stores nothing.
        var row = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(sql.ToString(), parameters, transaction, cancellationToken: ct)).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"job {jobId} does not exist");
        var parts = row.Split(' ');
        var current = new JobState(parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        if (current.State != "running" || current.Attempt != attempt)
        {
            var storedAttempt = await connection.QuerySingleOrDefaultAsync<int?>(new CommandDefinition(
                "select attempt from results where job_id = @jobId", new { jobId }, transaction, cancellationToken: ct)).ConfigureAwait(false);
            if (storedAttempt == attempt)
            {
                // This very attempt's result is already stored: a retry after a lost acknowledgement.
                await CommitAsync(transaction, ct).ConfigureAwait(false);
                return StoreResultOutcome.Stored;
            }
            await connection.ExecuteAsync(new CommandDefinition("""
                update job_attempts
                set outcome = 'rejected', ended_at = coalesce(ended_at, now()),
                    error = @reason
                where job_id = @jobId and attempt = @attempt
                """, new
            {
                jobId,
                attempt,
                reason = $"result rejected: attempt {attempt} is no longer current (job is {current.State} at attempt {current.Attempt})",
            }, transaction, cancellationToken: ct)).ConfigureAwait(false);
            await CommitAsync(transaction, ct).ConfigureAwait(false);
            return StoreResultOutcome.RejectedStale;
        }

        if (transaction is not null)
        {
            // Stored features travel with the result: same transaction, after the fencing check above (binary COPY).
            await Features.FeatureVectorStore.WriteAsync(connection, jobId, outcome.Features, ct).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
        }
        return StoreResultOutcome.Stored;
    }

    /// <summary>
    /// Commits the explicit transaction of a result with features; without one, each statement after the batch
    /// committed by itself (the attempt was no longer current, so the batch had changed nothing).
    /// </summary>
    private static Task CommitAsync(NpgsqlTransaction? transaction, CancellationToken ct) =>
        transaction is null ? Task.CompletedTask : transaction.CommitAsync(ct);

    private static int[] Flatten(int[][] confusion)
    {
        if (confusion is not { Length: Emotions.Count } || confusion.Any(row => row is not { Length: Emotions.Count }))
        {
            throw new ArgumentException($"the confusion matrix must be {Emotions.Count}x{Emotions.Count}", nameof(confusion));
        }
        return [.. confusion.SelectMany(row => row)];
    }

    private static void CheckMetrics(TrainingOutcome outcome)
    {
        var m = outcome.Test;
        foreach (var (name, value) in new[] { ("UA", m.Ua), ("WA", m.Wa), ("macro-F1", m.MacroF1), ("weighted-F1", m.WeightedF1) })
        {
            if (!(value >= 0 && value <= 1))
            {
                throw new ArgumentException($"{name} {value} is not a fraction in [0, 1]", nameof(outcome));
            }
        }
    }

    public async Task<bool> FailAsync(long jobId, int attempt, string error, bool retryable, CancellationToken ct)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        // A failure of the work: counted against max_attempts (losses have their own budget, see RequeueAsync).
        var state = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition("""
            update jobs
            set failures = failures + 1,
                state = case when @retryable and failures + 1 < max_attempts then 'queued' else 'failed' end,
                finished_at = case when @retryable and failures + 1 < max_attempts then null else now() end,
                lease_expires_at = null,
                error = case when @retryable and failures + 1 < max_attempts or not @retryable then @error
                             else @error || format(' (failure budget spent: %s of max_attempts %s)', failures + 1, max_attempts) end
            where job_id = @jobId and attempt = @attempt and state = 'running'
            returning state
            """, new { jobId, attempt, error, retryable }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        if (state is null)
        {
            await transaction.RollbackAsync(ct).ConfigureAwait(false);
            return false;
        }
        await connection.ExecuteAsync(new CommandDefinition("""
            update job_attempts set outcome = 'failed', ended_at = now(), error = @error
            where job_id = @jobId and attempt = @attempt
            """, new { jobId, attempt, error }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return true;
    }

    public Task<int> RequeueWorkerAsync(string worker, string reason, CancellationToken ct) =>
        RequeueAsync("j.worker = @worker", new { worker, reason }, ct);

    public Task<int> RequeueExpiredLeasesAsync(CancellationToken ct) =>
        RequeueAsync("j.lease_expires_at < now()", new { reason = "lease expired: no progress heartbeat in time" }, ct);

    public async Task<int> ExtendRunningLeasesAsync(TimeSpan grace, CancellationToken ct)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition("""
            update jobs set lease_expires_at = greatest(lease_expires_at, now() + make_interval(secs => @graceSeconds))
            where state = 'running'
            """, new { graceSeconds = grace.TotalSeconds }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>
    /// Running jobs matching the filter lose their attempt ('lost') and go back to the queue, or fail when their
    /// loss budget (max_losses) is spent: a loss is not a failure of the work, so max_attempts is left alone.
    /// One statement, so a job is either fully requeued or untouched.
    /// </summary>
    private async Task<int> RequeueAsync(string filter, object parameters, CancellationToken ct)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition($"""
            with lost as (
                update jobs j
                set losses = j.losses + 1,
                    state = case when j.losses + 1 < j.max_losses then 'queued' else 'failed' end,
                    finished_at = case when j.losses + 1 < j.max_losses then null else now() end,
                    lease_expires_at = null,
                    error = case when j.losses + 1 < j.max_losses then @reason
                                 else @reason || format(' (loss budget spent: %s of max_losses %s)', j.losses + 1, j.max_losses) end
                where j.state = 'running' and {filter}
                returning j.job_id, j.attempt
            ), marked as (
                update job_attempts a set outcome = 'lost', ended_at = now(), error = @reason
                from lost where a.job_id = lost.job_id and a.attempt = lost.attempt
                returning a.job_id
            )
            select count(*)::int from lost
            """, parameters, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<RunningJob>> RunningJobsAsync(CancellationToken ct)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(long JobId, int Attempt, string Worker, string Slot, DateTime Lease)>(new CommandDefinition("""
            select job_id, attempt, worker, slot, lease_expires_at
            from jobs where state = 'running' order by job_id
            """, cancellationToken: ct)).ConfigureAwait(false);
        return [.. rows.Select(r => new RunningJob(r.JobId, r.Attempt, r.Worker, r.Slot, DateTime.SpecifyKind(r.Lease, DateTimeKind.Utc)))];
    }

    public async Task ListenForQueuedJobsAsync(Action onQueued, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onQueued);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await ListenUntilLostAsync(onQueued, ct).ConfigureAwait(false);
            }
            catch (Exception e) when ((e is OperationCanceledException && ct.IsCancellationRequested) || e is ObjectDisposedException)
            {
                // Stopped, or the process is closing its data source.
                return;
            }
            catch (Exception e) when (IsListenFailure(e))
            {
                try
                {
                    await Task.Delay(ListenRetryPause, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One listening connection, until it fails or <paramref name="ct"/> is cancelled.</summary>
    private async Task ListenUntilLostAsync(Action onQueued, CancellationToken ct)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        connection.Notification += (_, _) => onQueued();
        await connection.ExecuteAsync(new CommandDefinition($"listen {QueuedChannel}", cancellationToken: ct)).ConfigureAwait(false);
        try
        {
            // Jobs queued while nobody listened (before the start, or while the connection was away).
            onQueued();
            while (true)
            {
                // A quiet connection is asked a question now and then: one whose peer vanished without a word
                // (a cut link, a dropped NAT entry) fails on it and is opened again, instead of waiting forever.
                if (!await connection.WaitAsync(ListenCheckInterval, ct).ConfigureAwait(false))
                {
                    await connection.ExecuteAsync(new CommandDefinition("select 1", cancellationToken: ct)).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            // The connection goes back to the pool, which keeps session state: it must not stay subscribed.
            // A connection broken by the cancellation or the network is not pooled again, so failing here is fine.
            try
            {
                await connection.ExecuteAsync("unlisten *").ConfigureAwait(false);
            }
            catch (Exception e) when (IsListenFailure(e))
            {
            }
        }
    }

    private static bool IsListenFailure(Exception e) =>
        e is NpgsqlException or DatabaseUnreachableException or InvalidOperationException or IOException or TimeoutException;

    public async Task<bool> IsCurrentAsync(long jobId, int attempt, CancellationToken ct)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from jobs where job_id = @jobId and attempt = @attempt and state = 'running')",
            new { jobId, attempt }, cancellationToken: ct)).ConfigureAwait(false);
    }
}
