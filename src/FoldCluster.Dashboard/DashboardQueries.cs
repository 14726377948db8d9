using System.Text;
using Dapper;
using FoldCluster.Storage;
using Npgsql;

namespace FoldCluster.Dashboard;

/// <summary>A sweep with its job counts per state and the times around it.</summary>
public sealed record SweepOverview
{
    public long SweepId { get; init; }
    public string Name { get; init; } = "";
    public string State { get; init; } = "";
    public DateTime CreatedAt { get; init; }
    public int Jobs { get; init; }
    public int Queued { get; init; }
    public int Running { get; init; }
    public int Succeeded { get; init; }
    public int Failed { get; init; }
    public int Cancelled { get; init; }
    public DateTime? FirstStartedAt { get; init; }
    public DateTime? LastFinishedAt { get; init; }

    public int Done => Succeeded + Failed + Cancelled;
    public int Open => Queued + Running;

    /// <summary>The sweep is over when no job is queued or running.</summary>
    public DateTime? FinishedAt => Jobs > 0 && Open == 0 ? LastFinishedAt : null;

    /// <summary>The sweep's counts and times summed from its (unfiltered) grid: one scan of its jobs for both.</summary>
    public static SweepOverview FromGrid(SweepOverview sweep, IReadOnlyList<GridCell> grid) => sweep with
    {
        Jobs = grid.Sum(c => c.Jobs),
        Queued = grid.Sum(c => c.Queued),
        Running = grid.Sum(c => c.Running),
        Succeeded = grid.Sum(c => c.Succeeded),
        Failed = grid.Sum(c => c.Failed),
        Cancelled = grid.Sum(c => c.Cancelled),
        FirstStartedAt = grid.Min(c => c.FirstStartedAt),
        LastFinishedAt = grid.Max(c => c.LastFinishedAt),
    };

    /// <summary>Remaining time at the rate jobs finished so far (null before the first job finished or after the last).</summary>
    public TimeSpan? Eta(DateTime nowUtc)
    {
        if (Open == 0 || Done == 0 || FirstStartedAt is not { } first)
        {
            return null;
        }
        var elapsed = nowUtc - DateTime.SpecifyKind(first, DateTimeKind.Utc);
        return elapsed <= TimeSpan.Zero ? null : TimeSpan.FromTicks((long)(elapsed.Ticks * (double)Open / Done));
    }
}

/// <summary>One fold cell of the sweep grid: the jobs of one (cell, fold), usually one job (several with several seeds).</summary>
public sealed record GridCell
{
    public string Dataset { get; init; } = "";
    public string Split { get; init; } = "";
    public string Method { get; init; } = "";
    public string Modalities { get; init; } = "";
    public bool Pretrained { get; init; }
    public string Extractor { get; init; } = "";
    public string Profile { get; init; } = "";
    public int Fold { get; init; }
    public int Jobs { get; init; }
    public int Queued { get; init; }
    public int Running { get; init; }
    public int Succeeded { get; init; }
    public int Failed { get; init; }
    public int Cancelled { get; init; }
    public int Attempts { get; init; }
    public long FirstJob { get; init; }
    public int? Epoch { get; init; }
    public DateTime? FirstStartedAt { get; init; }
    public DateTime? LastFinishedAt { get; init; }

    public string RowKey => $"{Dataset}|{Split}|{Method}|{Modalities}|{(Pretrained ? "pt" : "np")}|{Extractor}|{Profile}";

    public string Key => $"{RowKey}|{Fold}";

    /// <summary>The state the cell is coloured by: whatever still moves first, then failures.</summary>
    public string State =>
        Running > 0 ? "running" : Queued > 0 ? "queued" : Failed > 0 ? "failed" : Succeeded == Jobs ? "succeeded" : Cancelled > 0 ? "cancelled" : "succeeded";
}

/// <summary>Filters of the sweep page (query string); null means any.</summary>
public sealed record JobFilter
{
    public string? Dataset { get; init; }
    public string? Method { get; init; }
    public string? Modalities { get; init; }
    public string? State { get; init; }
    public bool? Pretrained { get; init; }
}

/// <summary>A job as the sweep page lists it.</summary>
public sealed record JobListRow
{
    public long JobId { get; init; }
    public string Dataset { get; init; } = "";
    public int Fold { get; init; }
    public string Method { get; init; } = "";
    public string Modalities { get; init; } = "";
    public bool Pretrained { get; init; }
    public string Extractor { get; init; } = "";
    public int Seed { get; init; }
    public string State { get; init; } = "";
    public int Attempt { get; init; }
    public int Losses { get; init; }
    public string? Worker { get; init; }
    public string? Slot { get; init; }
    public int? Stage { get; init; }
    public int? Epoch { get; init; }
    public double? Ua { get; init; }
    public string? Error { get; init; }
}

/// <summary>A job with everything its page shows except epochs.</summary>
public sealed record JobDetail
{
    public long JobId { get; init; }
    public long SweepId { get; init; }
    public string SweepName { get; init; } = "";
    public string JobKey { get; init; } = "";
    public string Dataset { get; init; } = "";
    public string Split { get; init; } = "";
    public int Fold { get; init; }
    public string Method { get; init; } = "";
    public string Modalities { get; init; } = "";
    public bool Pretrained { get; init; }
    public string Extractor { get; init; } = "";
    public int Seed { get; init; }
    public string Profile { get; init; } = "";
    public string State { get; init; } = "";
    public int Attempt { get; init; }
    public int MaxAttempts { get; init; }
    public string? Worker { get; init; }
    public string? Slot { get; init; }
    public int? Stage { get; init; }
    public int? Epoch { get; init; }
    public int? EpochsPlanned { get; init; }
    public string? Error { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
}

public sealed record AttemptRow
{
    public int Attempt { get; init; }
    public string Worker { get; init; } = "";
    public string Slot { get; init; } = "";
    public DateTime StartedAt { get; init; }
    public DateTime? EndedAt { get; init; }
    public string? Outcome { get; init; }
    public string? Error { get; init; }
}

public sealed record JobResultDetail
{
    public int Attempt { get; init; }
    public double Ua { get; init; }
    public double Wa { get; init; }
    public double MacroF1 { get; init; }
    public double WeightedF1 { get; init; }
    public int[] Confusion { get; init; } = [];
    public int BestEpoch { get; init; }
    public double Seconds { get; init; }
    public DateTime StoredAt { get; init; }
}

/// <summary>A running job on a worker's slot (nodes page).</summary>
public sealed record SlotJob
{
    public string Worker { get; init; } = "";
    public string Slot { get; init; } = "";
    public long JobId { get; init; }
    public string SweepName { get; init; } = "";
    public string Method { get; init; } = "";
    public string Modalities { get; init; } = "";
    public int Fold { get; init; }
    public int Attempt { get; init; }
    public int? Stage { get; init; }
    public int? Epoch { get; init; }
    public int? EpochsPlanned { get; init; }
    public DateTime? StartedAt { get; init; }
}

/// <summary>
/// The dashboard's own reads (sweep list with times, job grid, job pages, nodes); tables and comparisons come from
/// Reports. Every count is aggregated in PostgreSQL, so a page over 100,000 jobs costs a few round trips.
/// </summary>
public sealed class DashboardQueries(NpgsqlDataSource dataSource)
{
    private const string OverviewSql = """
        select s.sweep_id as SweepId, s.name as Name, s.state as State, s.created_at as CreatedAt,
               count(j.job_id)::int as Jobs,
               (count(*) filter (where j.state = 'queued'))::int as Queued,
               (count(*) filter (where j.state = 'running'))::int as Running,
               (count(*) filter (where j.state = 'succeeded'))::int as Succeeded,
               (count(*) filter (where j.state = 'failed'))::int as Failed,
               (count(*) filter (where j.state = 'cancelled'))::int as Cancelled,
               min(j.started_at) as FirstStartedAt, max(j.finished_at) as LastFinishedAt
        from sweeps s
        left join jobs j on j.sweep_id = s.sweep_id
        """;

    public async Task<IReadOnlyList<SweepOverview>> SweepsAsync(CancellationToken ct)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<SweepOverview>(new CommandDefinition(
            OverviewSql + " group by s.sweep_id order by s.sweep_id desc", cancellationToken: ct))).AsList();
    }

    /// <summary>The sweep's own row (no counts: those come from its grid), or null.</summary>
    public async Task<SweepOverview?> SweepRowAsync(string sweep, CancellationToken ct)
    {
        var id = long.TryParse(sweep, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : -1;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return await connection.QuerySingleOrDefaultAsync<SweepOverview>(new CommandDefinition(
            "select sweep_id as SweepId, name as Name, state as State, created_at as CreatedAt from sweeps where name = @Name or sweep_id = @Id order by (name = @Name) desc limit 1",
            new { Name = sweep, Id = id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<GridCell>> GridAsync(long sweepId, JobFilter filter, CancellationToken ct)
    {
        var parameters = new DynamicParameters(new { Sweep = sweepId });
        var where = Where(filter with { State = null }, parameters);
        var sql = $"""
            select dataset as Dataset, split as Split, method as Method, modalities as Modalities, pretrained as Pretrained,
                   extractor as Extractor, profile as Profile, fold as Fold, count(*)::int as Jobs,
                   (count(*) filter (where state = 'queued'))::int as Queued,
                   (count(*) filter (where state = 'running'))::int as Running,
                   (count(*) filter (where state = 'succeeded'))::int as Succeeded,
                   (count(*) filter (where state = 'failed'))::int as Failed,
                   (count(*) filter (where state = 'cancelled'))::int as Cancelled,
                   sum(attempt)::int as Attempts, min(job_id) as FirstJob,
                   max(epoch) filter (where state = 'running') as Epoch,
                   min(started_at) as FirstStartedAt, max(finished_at) as LastFinishedAt
            from jobs j
            where sweep_id = @Sweep {where}
            group by dataset, split, method, modalities, pretrained, extractor, profile, fold
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<GridCell>(new CommandDefinition(sql, parameters, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Jobs of the sweep, running then failed ones first, then the rest by job number; losses = the job's loss count (the budget `sweep status` shows). Each
    /// state is read through the (state, sweep, job) index, so a page costs the same for 100 or 100,000 jobs.
    /// </summary>
    public async Task<IReadOnlyList<JobListRow>> JobsAsync(long sweepId, JobFilter filter, int limit, int offset, CancellationToken ct)
    {
        var parameters = new DynamicParameters(new { Sweep = sweepId, Limit = limit, Offset = offset, Window = offset + limit });
        var where = Where(filter with { State = null }, parameters);
        var states = filter.State is { } only ? [only] : new[] { "running", "failed", "queued", "succeeded", "cancelled" };
        var branches = states.Select(state => $"""
            (select j.job_id, j.state from jobs j
             where j.state = '{state}' and j.sweep_id = @Sweep {where}
             order by j.job_id limit @Window)
            """);
        var sql = $"""
            with page as (
                select job_id, state from ({string.Join(" union all ", branches)}) b
                order by (state = 'running') desc, (state = 'failed') desc, job_id
                limit @Limit offset @Offset
            )
            select j.job_id as JobId, j.dataset as Dataset, j.fold as Fold, j.method as Method, j.modalities as Modalities,
                   j.pretrained as Pretrained, j.extractor as Extractor, j.seed as Seed, j.state as State,
                   j.attempt as Attempt, j.worker as Worker, j.slot as Slot, j.stage as Stage, j.epoch as Epoch,
                   r.ua as Ua, j.error as Error,
                   j.losses as Losses
            from page p
            join jobs j on j.job_id = p.job_id
            left join results r on r.job_id = j.job_id
            order by (j.state = 'running') desc, (j.state = 'failed') desc, j.job_id
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<JobListRow>(new CommandDefinition(sql, parameters, cancellationToken: ct))).AsList();
    }

    public async Task<JobDetail?> JobAsync(long jobId, CancellationToken ct)
    {
        const string sql = """
            select j.job_id as JobId, j.sweep_id as SweepId, s.name as SweepName, j.job_key as JobKey, j.dataset as Dataset,
                   j.split as Split, j.fold as Fold, j.method as Method, j.modalities as Modalities, j.pretrained as Pretrained,
                   j.extractor as Extractor, j.seed as Seed, j.profile as Profile, j.state as State, j.attempt as Attempt,
                   j.max_attempts as MaxAttempts, j.worker as Worker, j.slot as Slot, j.stage as Stage, j.epoch as Epoch,
                   j.epochs_planned as EpochsPlanned, j.error as Error, j.created_at as CreatedAt, j.started_at as StartedAt,
                   j.finished_at as FinishedAt
            from jobs j join sweeps s on s.sweep_id = j.sweep_id
            where j.job_id = @Job
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return await connection.QuerySingleOrDefaultAsync<JobDetail>(new CommandDefinition(sql, new { Job = jobId }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<AttemptRow>> AttemptsAsync(long jobId, CancellationToken ct)
    {
        const string sql = """
            select attempt as Attempt, worker as Worker, slot as Slot, started_at as StartedAt, ended_at as EndedAt,
                   outcome as Outcome, error as Error
            from job_attempts where job_id = @Job order by attempt
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<AttemptRow>(new CommandDefinition(sql, new { Job = jobId }, cancellationToken: ct))).AsList();
    }

    public async Task<JobResultDetail?> ResultAsync(long jobId, CancellationToken ct)
    {
        const string sql = """
            select attempt as Attempt, ua as Ua, wa as Wa, macro_f1 as MacroF1, weighted_f1 as WeightedF1, confusion as Confusion,
                   best_epoch as BestEpoch, seconds as Seconds, stored_at as StoredAt
            from results where job_id = @Job
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return await connection.QuerySingleOrDefaultAsync<JobResultDetail>(new CommandDefinition(sql, new { Job = jobId }, cancellationToken: ct));
    }

    /// <summary>
    /// Changes whenever a job of the sweep succeeds or stops being succeeded (a result is stored with the state change,
    /// and removed only with it): the key of cached table renderings. One pass over the sweep's jobs, no join.
    /// </summary>
    public async Task<string> ResultStampAsync(long sweepId, CancellationToken ct)
    {
        const string sql = """
            select count(*)::bigint, coalesce(max(finished_at), 'epoch'::timestamptz)
            from jobs where sweep_id = @Sweep and state = 'succeeded'
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        var (n, last) = await connection.QuerySingleAsync<(long, DateTime)>(new CommandDefinition(sql, new { Sweep = sweepId }, cancellationToken: ct));
        return $"{sweepId}:{n}:{last.Ticks}";
    }

    /// <summary>The methods of a sweep (compare page choices).</summary>
    public async Task<IReadOnlyList<string>> MethodsAsync(long sweepId, CancellationToken ct)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<string>(new CommandDefinition(
            "select distinct method from jobs where sweep_id = @Sweep order by method", new { Sweep = sweepId }, cancellationToken: ct))).AsList();
    }

    /// <summary>Running jobs of the given workers, by worker and slot.</summary>
    public async Task<IReadOnlyList<SlotJob>> RunningJobsAsync(IReadOnlyList<string> workers, CancellationToken ct)
    {
        const string sql = """
            select j.worker as Worker, j.slot as Slot, j.job_id as JobId, s.name as SweepName, j.method as Method,
                   j.modalities as Modalities, j.fold as Fold, j.attempt as Attempt, j.stage as Stage, j.epoch as Epoch,
                   j.epochs_planned as EpochsPlanned, j.started_at as StartedAt
            from jobs j join sweeps s on s.sweep_id = j.sweep_id
            where j.state = 'running' and j.worker = any(@Workers)
            order by j.worker, j.slot
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<SlotJob>(new CommandDefinition(sql, new { Workers = workers.ToArray() }, cancellationToken: ct))).AsList();
    }

    private static string Where(JobFilter filter, DynamicParameters parameters)
    {
        var sql = new StringBuilder();
        void Add(string clause, string name, object value)
        {
            sql.Append(" and ").Append(clause);
            parameters.Add(name, value);
        }
        if (filter.Dataset is { } dataset)
        {
            Add("j.dataset = @Dataset", "Dataset", dataset);
        }
        if (filter.Method is { } method)
        {
            Add("j.method = @Method", "Method", method);
        }
        if (filter.Modalities is { } modalities)
        {
            Add("j.modalities = @Modalities", "Modalities", modalities);
        }
        if (filter.State is { } state)
        {
            Add("j.state = @State", "State", state);
        }
        if (filter.Pretrained is { } pretrained)
        {
            Add("j.pretrained = @Pretrained", "Pretrained", pretrained);
        }
        return sql.ToString();
    }
}
