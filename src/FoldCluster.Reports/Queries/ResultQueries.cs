using System.Text;
using Dapper;
using FoldCluster.Core;
using FoldCluster.Storage;
using FoldCluster.Storage.Sweeps;
using Npgsql;

namespace FoldCluster.Reports.Queries;

/// <summary>
/// Every read the reports make, as SQL over the result database (DESIGN.md section 9). Aggregation over folds
/// happens in PostgreSQL (group by cell; avg, stddev_samp, count), never row by row here, so a table over
/// 100,000 results costs one round trip. Only succeeded jobs with a stored result count in aggregates.
/// </summary>
public sealed class ResultQueries(NpgsqlDataSource dataSource)
{
    public static readonly IReadOnlyList<string> States = ["queued", "running", "succeeded", "failed", "cancelled"];

    /// <summary>Metric columns of `results` that comparisons may use (whitelist: the name goes into SQL).</summary>
    public static readonly IReadOnlyList<string> Metrics = ["ua", "wa", "macro_f1", "weighted_f1"];

    public async Task<IReadOnlyList<SweepSummary>> ListSweepsAsync(CancellationToken ct = default)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return await SweepSummaries.ListAsync(connection, ct);
    }

    /// <summary>
    /// The sweep named (or numbered) <paramref name="sweep"/>. Unknown: a <see cref="BadInputException"/> that
    /// lists the sweeps that exist.
    /// </summary>
    public async Task<SweepSummary> FindSweepAsync(string sweep, CancellationToken ct = default)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return await SweepSummaries.FindAsync(connection, sweep, ct) ?? throw await SweepSummaries.UnknownAsync(connection, sweep, ct);
    }

    /// <summary>Per-job rows (key fields, state, attempts, metrics, the result's provenance) in key order.</summary>
    public async Task<IReadOnlyList<JobResultRow>> QueryJobsAsync(long sweepId, ResultFilter filter, CancellationToken ct = default)
    {
        var parameters = new DynamicParameters(new { Sweep = sweepId });
        var where = Where(filter, parameters, stateFromFilter: true);
        var sql = $"""
            select j.job_id as JobId, j.dataset as Dataset, j.split as Split, j.fold as Fold, j.method as Method,
                   j.modalities as Modalities, j.pretrained as Pretrained, j.extractor as Extractor, j.seed as Seed,
                   j.profile as Profile, j.state as State, j.attempt as Attempts, j.failures as Failures, j.losses as Losses,
                   r.ua as Ua, r.wa as Wa, r.macro_f1 as MacroF1, r.weighted_f1 as WeightedF1,
                   r.best_epoch as BestEpoch, r.seconds as Seconds, j.error as Error,
                   p.code_version as CodeVersion, p.torchsharp_version as TorchSharpVersion, p.libtorch_version as LibtorchVersion,
                   p.device as Device, p.device_name as DeviceName, p.cpu_model as CpuModel, p.cpu_isa as CpuIsa,
                   p.threads as Threads, p.worker_host as WorkerHost, p.feature_cache_key as FeatureCacheKey,
                   p.utterance_modalities as UtteranceModalities, p.utterances as Utterances, p.left_out::text as LeftOut
            from jobs j
            left join results r on r.job_id = j.job_id
            left join result_provenance p on p.job_id = r.job_id
            where j.sweep_id = @Sweep {where}
            order by j.dataset, j.split, j.method, j.modalities, j.pretrained desc, j.extractor, j.profile, j.seed, j.fold, j.job_id
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<JobResultRow>(new CommandDefinition(sql, parameters, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// One row per table cell: mean and sample standard deviation over folds, number of folds present. The seeds of a
    /// fold are averaged first so a fold counts once. Only succeeded jobs with a result count. Machines and Versions:
    /// how many different runtimes (device, its name, CPU instruction sets) and builds (code, TorchSharp, libtorch)
    /// the cell's results with a provenance row were computed with.
    /// </summary>
    public async Task<IReadOnlyList<CellAggregate>> AggregateAsync(long sweepId, ResultFilter filter, CancellationToken ct = default)
    {
        var parameters = new DynamicParameters(new { Sweep = sweepId });
        var where = Where(filter with { State = null }, parameters, stateFromFilter: false);
        var sql = $"""
            with per_fold as (
                select j.dataset, j.split, j.method, j.modalities, j.pretrained, j.extractor, j.profile, j.fold,
                       avg(r.ua) as ua, avg(r.wa) as wa, avg(r.macro_f1) as macro_f1, avg(r.weighted_f1) as weighted_f1,
                       count(*) as runs
                from jobs j
                join results r on r.job_id = j.job_id
                where j.sweep_id = @Sweep and j.state = 'succeeded' {where}
                group by j.dataset, j.split, j.method, j.modalities, j.pretrained, j.extractor, j.profile, j.fold
            ), cells as (
                select dataset, split, method, modalities, pretrained, extractor, profile,
                       count(*)::int as folds, sum(runs)::int as runs,
                       avg(ua) as ua_mean, stddev_samp(ua) as ua_std,
                       avg(wa) as wa_mean, stddev_samp(wa) as wa_std,
                       avg(macro_f1) as macro_f1_mean, stddev_samp(macro_f1) as macro_f1_std,
                       avg(weighted_f1) as weighted_f1_mean, stddev_samp(weighted_f1) as weighted_f1_std
                from per_fold
                group by dataset, split, method, modalities, pretrained, extractor, profile
            ), runtimes as (
                select j.dataset, j.split, j.method, j.modalities, j.pretrained, j.extractor, j.profile,
                       count(distinct p.device || ' ' || p.device_name || ' ' || p.cpu_isa)::int as machines,
                       count(distinct p.code_version || ' ' || p.torchsharp_version || ' ' || p.libtorch_version)::int as versions
                from jobs j
                join results r on r.job_id = j.job_id
                join result_provenance p on p.job_id = r.job_id
                where j.sweep_id = @Sweep and j.state = 'succeeded' {where}
                group by j.dataset, j.split, j.method, j.modalities, j.pretrained, j.extractor, j.profile
            )
            select c.dataset as Dataset, c.split as Split, c.method as Method, c.modalities as Modalities,
                   c.pretrained as Pretrained, c.extractor as Extractor, c.profile as Profile,
                   c.folds as Folds, c.runs as Runs,
                   c.ua_mean as UaMean, c.ua_std as UaStd, c.wa_mean as WaMean, c.wa_std as WaStd,
                   c.macro_f1_mean as MacroF1Mean, c.macro_f1_std as MacroF1Std,
                   c.weighted_f1_mean as WeightedF1Mean, c.weighted_f1_std as WeightedF1Std,
                   coalesce(t.machines, 0) as Machines, coalesce(t.versions, 0) as Versions
            from cells c
            left join runtimes t using (dataset, split, method, modalities, pretrained, extractor, profile)
            order by c.dataset, c.split, c.method, c.modalities, c.pretrained desc, c.extractor, c.profile
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<CellAggregate>(new CommandDefinition(sql, parameters, cancellationToken: ct))).AsList();
    }

    /// <summary>The cell's confusion matrices summed over its folds (and seeds): [true][predicted] counts.</summary>
    public async Task<int[][]> SummedConfusionAsync(long sweepId, CellKey cell, CancellationToken ct = default)
    {
        const string sql = $"""
            select (c.ord - 1)::int as Index, sum(c.count)::bigint as Total
            from jobs j
            join results r on r.job_id = j.job_id
            cross join lateral unnest(r.confusion) with ordinality as c(count, ord)
            where {CellWhere}
            group by c.ord
            order by c.ord
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        var rows = await connection.QueryAsync<(int Index, long Total)>(new CommandDefinition(sql, CellParameters(sweepId, cell), cancellationToken: ct));
        var matrix = Enumerable.Range(0, Emotions.Count).Select(_ => new int[Emotions.Count]).ToArray();
        foreach (var (index, total) in rows)
        {
            matrix[index / Emotions.Count][index % Emotions.Count] = checked((int)total);
        }
        return matrix;
    }

    /// <summary>Per-fold values (seeds averaged) of one metric for one cell, in fold order.</summary>
    public async Task<IReadOnlyList<FoldValue>> FoldValuesAsync(long sweepId, CellKey cell, string metric, CancellationToken ct = default)
    {
        if (!Metrics.Contains(metric))
        {
            throw new BadInputException($"metric '{metric}' is not known: expected one of {string.Join(", ", Metrics)}");
        }
        var sql = $"""
            select j.fold as Fold, avg(r.{metric}) as Value
            from jobs j
            join results r on r.job_id = j.job_id
            where {CellWhere}
            group by j.fold
            order by j.fold
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<FoldValue>(new CommandDefinition(sql, CellParameters(sweepId, cell), cancellationToken: ct))).AsList();
    }

    /// <summary>A job of the sweep, or null.</summary>
    public async Task<JobSummary?> FindJobAsync(long sweepId, long jobId, CancellationToken ct = default)
    {
        const string sql = """
            select job_id as JobId, sweep_id as SweepId, job_key as JobKey, dataset as Dataset, fold as Fold,
                   method as Method, modalities as Modalities, pretrained as Pretrained, extractor as Extractor,
                   state as State, attempt as Attempt
            from jobs where sweep_id = @Sweep and job_id = @Job
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return await connection.QuerySingleOrDefaultAsync<JobSummary>(new CommandDefinition(sql, new { Sweep = sweepId, Job = jobId }, cancellationToken: ct));
    }

    /// <summary>The succeeded job of a cell with the lowest fold (and seed): the default job for training curves.</summary>
    public async Task<long?> FirstJobOfCellAsync(long sweepId, CellKey cell, CancellationToken ct = default)
    {
        const string sql = $"""
            select j.job_id
            from jobs j
            join results r on r.job_id = j.job_id
            where {CellWhere}
            order by j.fold, j.seed, j.job_id
            limit 1
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(sql, CellParameters(sweepId, cell), cancellationToken: ct));
    }

    /// <summary>
    /// Epoch metrics of the attempt that produced the job's result (else its current attempt), both stages in order.
    /// </summary>
    public async Task<IReadOnlyList<EpochRow>> EpochsAsync(long jobId, CancellationToken ct = default)
    {
        const string sql = """
            select e.stage as Stage, e.epoch as Epoch, e.train_loss as TrainLoss, e.val_loss as ValLoss, e.val_ua as ValUa
            from jobs j
            left join results r on r.job_id = j.job_id
            join epoch_metrics e on e.job_id = j.job_id and e.attempt = coalesce(r.attempt, j.attempt)
            where j.job_id = @Job
            order by e.stage, e.epoch
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<EpochRow>(new CommandDefinition(sql, new { Job = jobId }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// The filters of `results query`, one line each: SQL clause, parameter name, and the filter's value (null: any).
    /// Dataset, method and extractor compare case-insensitively.
    /// </summary>
    private static readonly (string Clause, string Name, Func<ResultFilter, object?> Value)[] Filters =
    [
        ("lower(j.dataset) = lower(@Dataset)", "Dataset", f => f.Dataset),
        ("j.split = @Split", "Split", f => f.Split),
        ("lower(j.method) = lower(@Method)", "Method", f => f.Method),
        ("j.modalities = @Modalities", "Modalities", f => f.Modalities),
        ("j.pretrained = @Pretrained", "Pretrained", f => f.Pretrained),
        ("lower(j.extractor) = lower(@Extractor)", "Extractor", f => f.Extractor),
        ("j.profile = @Profile", "Profile", f => f.Profile),
        ("j.fold = @Fold", "Fold", f => f.Fold),
        ("j.state = @State", "State", f => f.State),
    ];

    private static string Where(ResultFilter filter, DynamicParameters parameters, bool stateFromFilter)
    {
        var sql = new StringBuilder();
        foreach (var (clause, name, value) in Filters)
        {
            if ((stateFromFilter || name != "State") && value(filter) is { } v)
            {
                sql.Append(" and ").Append(clause);
                parameters.Add(name, v);
            }
        }
        return sql.ToString();
    }

    /// <summary>The jobs of one table cell (with <see cref="CellParameters"/>).</summary>
    private const string CellWhere = """
        j.sweep_id = @Sweep and j.state = 'succeeded'
          and j.dataset = @Dataset and j.split = @Split and j.method = @Method and j.modalities = @Modalities
          and j.pretrained = @Pretrained and j.extractor = @Extractor and j.profile = @Profile
        """;

    private static object CellParameters(long sweepId, CellKey cell) => new
    {
        Sweep = sweepId,
        cell.Dataset,
        cell.Split,
        cell.Method,
        cell.Modalities,
        cell.Pretrained,
        cell.Extractor,
        cell.Profile,
    };
}
