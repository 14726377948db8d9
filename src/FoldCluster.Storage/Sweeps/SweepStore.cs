using Dapper;
using FoldCluster.Core;
using FoldCluster.Core.Sweeps;
using FoldCluster.Storage.Jobs;
using Npgsql;

namespace FoldCluster.Storage.Sweeps;

/// <summary>What a submission did: a new sweep, or the existing one of the same spec resumed.</summary>
public sealed record SweepSubmission(long SweepId, string Name, bool Created, int JobsCreated, int JobsRequeued, int JobsTotal);

/// <summary>A sweep and how far it got (`sweep list`, `sweep status`, the reports); Finished: succeeded jobs with a stored result.</summary>
public sealed record SweepSummary(
    long SweepId, string Name, string State, DateTime CreatedAt, string CodeVersion,
    int Queued, int Running, int Succeeded, int Failed, int Cancelled, int Finished = 0)
{
    public int Total => Queued + Running + Succeeded + Failed + Cancelled;

    /// <summary>No job is waiting or running: the sweep is over (whatever its outcome).</summary>
    public bool IsFinished => Queued == 0 && Running == 0;
}

/// <summary>A job a worker slot is running now, with its last reported progress.</summary>
public sealed record RunningJobStatus(
    long JobId, string Key, int Attempt, string Worker, string Slot, int? Stage, int? Epoch, int? EpochsPlanned,
    DateTime StartedAt, DateTime LeaseExpiresAt, int Failures = 0, int MaxAttempts = 0, int Losses = 0, int MaxLosses = 0);

/// <summary>A job that failed, with its reason and what it spent of its budgets (failures of the work, losses around it).</summary>
public sealed record FailedJobStatus(long JobId, string Key, int Attempt, string? Error, int Failures, int MaxAttempts, int Losses, int MaxLosses);

/// <summary>A worker's busy slots.</summary>
public sealed record WorkerSlots(string Worker, IReadOnlyList<string> BusySlots);

/// <summary>`sweep status`: counts per state, busy slots, the running jobs' progress and an ETA.</summary>
public sealed record SweepStatus(
    SweepSummary Sweep,
    IReadOnlyList<WorkerSlots> Workers,
    IReadOnlyList<RunningJobStatus> Running,
    IReadOnlyList<FailedJobStatus> Failed,
    double? MeanJobSeconds,
    TimeSpan? Eta,
    DateTime Now);

/// <summary>
/// Sweeps in PostgreSQL: idempotent submission (same name + same spec resumes; a different spec under the
/// name is refused), cancel, retry of failed jobs, status and listing.
/// </summary>
public sealed class SweepStore(NpgsqlDataSource dataSource)
{
    /// <summary>Advisory lock key serialising submissions ("FC" + 0005), so two submits of one name never interleave.</summary>
    private const long SubmitLockKey = 0x4643_0005;

    public async Task<SweepSubmission> SubmitAsync(SweepSpec spec, string codeVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var yaml = spec.ToYaml();
        var hash = spec.Hash();
        var keys = spec.Expand();

        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(@key)", new { key = SubmitLockKey }, transaction, cancellationToken: ct)).ConfigureAwait(false);

        var existing = await connection.QuerySingleOrDefaultAsync<ExistingSweep>(new CommandDefinition(
            "select sweep_id as SweepId, spec_hash as SpecHash, state as State from sweeps where name = @Name",
            new { spec.Name }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        if (existing is not null && existing.SpecHash != hash)
        {
            throw new BadInputException(
                $"a sweep named '{spec.Name}' already exists with a different spec (stored spec hash {existing.SpecHash[..12]}, this one {hash[..12]}); " +
                "resubmit the same spec to resume it, or choose another name with --name");
        }

        var created = existing is null;
        var sweepId = existing?.SweepId ?? await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            insert into sweeps (name, spec, spec_hash, code_version) values (@Name, @yaml, @hash, @codeVersion)
            returning sweep_id
            """, new { spec.Name, yaml, hash, codeVersion }, transaction, cancellationToken: ct)).ConfigureAwait(false);

        // Jobs of a resumed sweep exist already: on conflict keeps them (and their state) untouched.
        var inserted = await connection.ExecuteAsync(new CommandDefinition("""
            insert into jobs (sweep_id, job_key, dataset, split, fold, method, modalities, pretrained, extractor, seed, profile, max_attempts, max_losses)
            select @sweepId, k.job_key, k.dataset, k.split, k.fold, k.method, k.modalities, k.pretrained, k.extractor, k.seed, k.profile, @MaxAttempts, @MaxLosses
            from unnest(@jobKeys, @datasets, @splits, @folds, @methods, @modalities, @pretrained, @extractors, @seeds, @profiles)
                 with ordinality as k(job_key, dataset, split, fold, method, modalities, pretrained, extractor, seed, profile, n)
            order by k.n
            on conflict (sweep_id, job_key) do nothing
            """, new
        {
            sweepId,
            spec.MaxAttempts,
            spec.MaxLosses,
            jobKeys = keys.Select(k => k.Canonical).ToArray(),
            datasets = keys.Select(k => k.Dataset).ToArray(),
            splits = keys.Select(k => k.Split).ToArray(),
            folds = keys.Select(k => k.Fold).ToArray(),
            methods = keys.Select(k => k.Method).ToArray(),
            modalities = keys.Select(k => k.Modalities).ToArray(),
            pretrained = keys.Select(k => k.Pretrained).ToArray(),
            extractors = keys.Select(k => k.Extractor).ToArray(),
            seeds = keys.Select(k => k.Seed).ToArray(),
            profiles = keys.Select(k => k.Profile).ToArray(),
        }, transaction, cancellationToken: ct)).ConfigureAwait(false);

        var requeued = 0;
        if (existing is { State: "cancelled" })
        {
            // Resubmitting a cancelled sweep resumes it: its cancelled jobs wait again, with a fresh retry budget.
            await connection.ExecuteAsync(new CommandDefinition(
                "update sweeps set state = 'active' where sweep_id = @sweepId", new { sweepId }, transaction, cancellationToken: ct)).ConfigureAwait(false);
            requeued = await connection.ExecuteAsync(new CommandDefinition("""
                update jobs set state = 'queued', max_attempts = failures + @MaxAttempts, max_losses = losses + @MaxLosses, error = null, finished_at = null
                where sweep_id = @sweepId and state = 'cancelled'
                """, new { sweepId, spec.MaxAttempts, spec.MaxLosses }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        }
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "select count(*)::int from jobs where sweep_id = @sweepId", new { sweepId }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        if (inserted + requeued > 0)
        {
            await JobStore.NotifyQueuedAsync(connection, transaction, ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return new SweepSubmission(sweepId, spec.Name, created, inserted, requeued, total);
    }

    private sealed record ExistingSweep(long SweepId, string SpecHash, string State);

    /// <summary>The stored (normalised) spec of a sweep.</summary>
    public async Task<SweepSpec> SpecAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        var text = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "select spec from sweeps where name = @name", new { name }, cancellationToken: ct)).ConfigureAwait(false)
            ?? throw await UnknownSweepAsync(connection, name, ct).ConfigureAwait(false);
        return SweepSpecParser.Parse(text, $"stored spec of sweep '{name}'");
    }

    /// <summary>Cancels the sweep: queued and running jobs become cancelled; running workers find out through fencing.</summary>
    /// <returns>The number of jobs cancelled.</returns>
    public async Task<int> CancelAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var sweepId = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            "update sweeps set state = 'cancelled' where name = @name returning sweep_id", new { name }, transaction, cancellationToken: ct)).ConfigureAwait(false)
            ?? throw await UnknownSweepAsync(connection, name, ct).ConfigureAwait(false);
        var cancelled = await connection.ExecuteScalarAsync<int>(new CommandDefinition("""
            with cancelled as (
                update jobs set state = 'cancelled', finished_at = now(), lease_expires_at = null,
                                error = 'sweep cancelled'
                where sweep_id = @sweepId and state in ('queued', 'running')
                returning job_id, attempt
            ), ended as (
                update job_attempts a set outcome = 'cancelled', ended_at = now()
                from cancelled c where a.job_id = c.job_id and a.attempt = c.attempt and a.outcome is null
                returning a.job_id
            )
            select count(*)::int from cancelled
            """, new { sweepId }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return cancelled;
    }

    /// <summary>
    /// Deletes the sweep with its jobs, attempts, epochs, results and predictions. Refused while jobs of it are
    /// running (cancel it first), so no worker writes into a sweep that is gone.
    /// </summary>
    /// <returns>The number of jobs deleted.</returns>
    public async Task<int> DeleteAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var sweepId = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            "select sweep_id from sweeps where name = @name for update", new { name }, transaction, cancellationToken: ct)).ConfigureAwait(false)
            ?? throw await UnknownSweepAsync(connection, name, ct).ConfigureAwait(false);
        var running = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "select count(*)::int from jobs where sweep_id = @sweepId and state = 'running'", new { sweepId }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        if (running > 0)
        {
            throw new BadInputException($"sweep '{name}' has {running} running job(s); cancel it first (`foldcluster sweep cancel --name {name}`)");
        }
        var jobs = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "select count(*)::int from jobs where sweep_id = @sweepId", new { sweepId }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from sweeps where sweep_id = @sweepId", new { sweepId }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return jobs;
    }

    /// <summary>Failed jobs go back to the queue with a fresh budget (max_attempts and max_losses raised past their failures and losses so far).</summary>
    /// <returns>The number of jobs requeued.</returns>
    public async Task<int> RetryFailedAsync(string name, CancellationToken ct = default)
    {
        var spec = await SpecAsync(name, ct).ConfigureAwait(false);
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var sweepId = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "update sweeps set state = 'active' where name = @name returning sweep_id", new { name }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        var requeued = await connection.ExecuteAsync(new CommandDefinition("""
            update jobs set state = 'queued', max_attempts = failures + @MaxAttempts, max_losses = losses + @MaxLosses, error = null, finished_at = null
            where sweep_id = @sweepId and state = 'failed'
            """, new { sweepId, spec.MaxAttempts, spec.MaxLosses }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        if (requeued > 0)
        {
            await JobStore.NotifyQueuedAsync(connection, transaction, ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return requeued;
    }

    public async Task<IReadOnlyList<SweepSummary>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        return await SweepSummaries.ListAsync(connection, ct).ConfigureAwait(false);
    }

    /// <param name="name">The sweep; null means the most recently created one.</param>
    public async Task<SweepStatus> StatusAsync(string? name, CancellationToken ct = default)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
        var summary = await connection.QuerySingleOrDefaultAsync<SweepSummary>(new CommandDefinition(
            SweepSummaries.Select + " where (@name::text is null or s.name = @name) group by s.sweep_id order by s.created_at desc, s.sweep_id desc limit 1",
            new { name }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        if (summary is null)
        {
            throw name is null
                ? new BadInputException("the database holds no sweep yet; submit one with `foldcluster sweep submit`")
                : await UnknownSweepAsync(connection, name, ct).ConfigureAwait(false);
        }
        summary = SweepSummaries.Utc(summary);

        var now = DateTime.SpecifyKind(await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition(
            "select now()", transaction: transaction, cancellationToken: ct)).ConfigureAwait(false), DateTimeKind.Utc);
        var running = (await connection.QueryAsync<RunningJobStatus>(new CommandDefinition("""
            select job_id as JobId, job_key as Key, attempt as Attempt, worker as Worker, slot as Slot,
                   stage::int as Stage, epoch as Epoch, epochs_planned as EpochsPlanned,
                   started_at as StartedAt, lease_expires_at as LeaseExpiresAt,
                   failures as Failures, max_attempts as MaxAttempts, losses as Losses, max_losses as MaxLosses
            from jobs where sweep_id = @SweepId and state = 'running'
            order by worker, slot, job_id
            """, new { summary.SweepId }, transaction, cancellationToken: ct)).ConfigureAwait(false))
            .Select(r => r with
            {
                StartedAt = DateTime.SpecifyKind(r.StartedAt, DateTimeKind.Utc),
                LeaseExpiresAt = DateTime.SpecifyKind(r.LeaseExpiresAt, DateTimeKind.Utc),
            })
            .ToList();
        var failed = (await connection.QueryAsync<FailedJobStatus>(new CommandDefinition("""
            select job_id as JobId, job_key as Key, attempt as Attempt, error as Error,
                   failures as Failures, max_attempts as MaxAttempts, losses as Losses, max_losses as MaxLosses
            from jobs where sweep_id = @SweepId and state = 'failed' order by job_id
            """, new { summary.SweepId }, transaction, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        // Wall time of the attempts that produced a result: what a slot spends per job, features included.
        var mean = await connection.ExecuteScalarAsync<double?>(new CommandDefinition("""
            select avg(extract(epoch from (j.finished_at - j.started_at)))::float8
            from jobs j where j.sweep_id = @SweepId and j.state = 'succeeded' and j.started_at is not null and j.finished_at is not null
            """, new { summary.SweepId }, transaction, cancellationToken: ct)).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);

        var workers = running.GroupBy(r => r.Worker)
            .Select(g => new WorkerSlots(g.Key, [.. g.Select(r => r.Slot).Order(StringComparer.Ordinal)]))
            .ToList();
        return new SweepStatus(summary, workers, running, failed, mean, Eta(summary, running, mean, now), now);
    }

    /// <summary>
    /// Remaining work divided by the slots busy now: queued jobs at the mean job time, plus what the running jobs
    /// still need (mean minus their elapsed time, at least zero). Null until one job has finished.
    /// </summary>
    public static TimeSpan? Eta(SweepSummary summary, IReadOnlyList<RunningJobStatus> running, double? meanSeconds, DateTime now)
    {
        if (summary.IsFinished)
        {
            return TimeSpan.Zero;
        }
        if (meanSeconds is not { } mean)
        {
            return null;
        }
        var remaining = summary.Queued * mean
            + running.Sum(r => Math.Max(mean - (now - r.StartedAt).TotalSeconds, 0));
        var slots = Math.Max(running.Count, 1);
        return TimeSpan.FromSeconds(remaining / slots);
    }

    private static Task<BadInputException> UnknownSweepAsync(NpgsqlConnection connection, string name, CancellationToken ct) =>
        SweepSummaries.UnknownAsync(connection, name, ct);
}
