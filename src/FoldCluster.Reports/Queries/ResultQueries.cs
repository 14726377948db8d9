using System.Text;
using Dapper;
using FoldCluster.Core;
using FoldCluster.Storage;
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

    private const string SweepSummarySql = """
        select s.sweep_id as SweepId, s.name as Name, s.state as State, s.created_at as CreatedAt,
               count(j.job_id)::int as Jobs,
               (count(*) filter (where j.state = 'queued'))::int as Queued,
               (count(*) filter (where j.state = 'running'))::int as Running,
               (count(*) filter (where j.state = 'succeeded'))::int as Succeeded,
               (count(*) filter (where j.state = 'failed'))::int as Failed,
               (count(*) filter (where j.state = 'cancelled'))::int as Cancelled,
               (count(r.job_id) filter (where j.state = 'succeeded'))::int as Finished
        from sweeps s
        left join jobs j on j.sweep_id = s.sweep_id
        left join results r on r.job_id = j.job_id
        """;

    public async Task<IReadOnlyList<SweepSummary>> ListSweepsAsync(CancellationToken ct = default)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct);
        var rows = await connection.QueryAsync<SweepSummary>(new CommandDefinition(
            SweepSummarySql + " group by s.sweep_id order by s.sweep_id", cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>
    /// The sweep named (or numbered) <paramref name="sweep"/>. Unknown: a <see cref="BadInputException"/> that
    /// lists the sweeps that exist.
    /// </summary>
    public async Task<SweepSummary> FindSweepAsync(string sweep, CancellationToken ct = default)
    {
        await using var connection = await Database.OpenAsync(dataSource, ct);
        var id = long.TryParse(sweep, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : (long?)null;
        var found = await connection.QuerySingleOrDefaultAsync<SweepSummary>(new CommandDefinition(
            SweepSummarySql + " where s.name = @Name or s.sweep_id = @Id group by s.sweep_id order by (s.name = @Name) desc limit 1",
            new { Name = sweep, Id = id ?? -1 },
            cancellationToken: ct));
        if (found is not null)
        {
            return found;
        }
        var existing = await ListSweepsAsync(ct);
        var list = existing.Count == 0
            ? "no sweeps exist yet (submit one with `foldcluster sweep submit`)"
            : "existing sweeps: " + string.Join("; ", existing.Select(s => $"{s.SweepId} '{s.Name}' ({s.Finished}/{s.Jobs} jobs finished)"));
        throw new BadInputException($"sweep '{sweep}' does not exist; {list}");
    }

    /// <summary>Per-job rows (key fields, state, attempts, metrics) in key order.</summary>
    public async Task<IReadOnlyList<JobResultRow>> QueryJobsAsync(long sweepId, ResultFilter filter, CancellationToken ct = default)
    {
        var parameters = new DynamicParameters(new { Sweep = sweepId });
        var where = Where(filter, parameters, stateFromFilter: true);
        var sql = $"""
            select j.job_id as JobId, j.dataset as Dataset, j.split as Split, j.fold as Fold, j.method as Method,
                   j.modalities as Modalities, j.pretrained as Pretrained, j.extractor as Extractor, j.seed as Seed,
                   j.profile as Profile, j.state as State, j.attempt as Attempts, j.failures as Failures, j.losses as Losses,
                   r.ua as Ua, r.wa as Wa, r.macro_f1 as MacroF1, r.weighted_f1 as WeightedF1,
                   r.best_epoch as BestEpoch, r.seconds as Seconds, j.error as Error
            from jobs j
            left join results r on r.job_id = j.job_id
            where j.sweep_id = @Sweep {where}
            order by j.dataset, j.split, j.method, j.modalities, j.pretrained desc, j.extractor, j.profile, j.seed, j.fold, j.job_id
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<JobResultRow>(new CommandDefinition(sql, parameters, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// One row per table cell: mean and sample standard deviation over folds, number of folds present. The seeds of a
    /// fold are averaged first so a fold counts once. Only succeeded jobs with a result count.
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
            )
            select dataset as Dataset, split as Split, method as Method, modalities as Modalities,
                   pretrained as Pretrained, extractor as Extractor, profile as Profile,
                   count(*)::int as Folds, sum(runs)::int as Runs,
                   avg(ua) as UaMean, stddev_samp(ua) as UaStd,
                   avg(wa) as WaMean, stddev_samp(wa) as WaStd,
                   avg(macro_f1) as MacroF1Mean, stddev_samp(macro_f1) as MacroF1Std,
                   avg(weighted_f1) as WeightedF1Mean, stddev_samp(weighted_f1) as WeightedF1Std
            from per_fold
            group by dataset, split, method, modalities, pretrained, extractor, profile
            order by dataset, split, method, modalities, pretrained desc, extractor, profile
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<CellAggregate>(new CommandDefinition(sql, parameters, cancellationToken: ct))).AsList();
    }

    /// <summary>The cell's confusion matrices summed over its folds (and seeds): [true][predicted] counts.</summary>
    public async Task<int[][]> SummedConfusionAsync(long sweepId, CellKey cell, CancellationToken ct = default)
    {
        const string sql = """
            select (c.ord - 1)::int as Index, sum(c.count)::bigint as Total
            from jobs j
            join results r on r.job_id = j.job_id
            cross join lateral unnest(r.confusion) with ordinality as c(count, ord)
            where j.sweep_id = @Sweep and j.state = 'succeeded'
              and j.dataset = @Dataset and j.split = @Split and j.method = @Method and j.modalities = @Modalities
              and j.pretrained = @Pretrained and j.extractor = @Extractor and j.profile = @Profile
            group by c.ord
            order by c.ord
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        var rows = await connection.QueryAsync<(int Index, long Total)>(new CommandDefinition(sql, new
        {
            Sweep = sweepId,
            cell.Dataset,
            cell.Split,
            cell.Method,
            cell.Modalities,
            cell.Pretrained,
            cell.Extractor,
            cell.Profile,
        }, cancellationToken: ct));
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
            where j.sweep_id = @Sweep and j.state = 'succeeded'
              and j.dataset = @Dataset and j.split = @Split and j.method = @Method and j.modalities = @Modalities
              and j.pretrained = @Pretrained and j.extractor = @Extractor and j.profile = @Profile
            group by j.fold
            order by j.fold
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return (await connection.QueryAsync<FoldValue>(new CommandDefinition(sql, new
        {
            Sweep = sweepId,
            cell.Dataset,
            cell.Split,
            cell.Method,
            cell.Modalities,
            cell.Pretrained,
            cell.Extractor,
            cell.Profile,
        }, cancellationToken: ct))).AsList();
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
        const string sql = """
            select j.job_id
            from jobs j
            join results r on r.job_id = j.job_id
            where j.sweep_id = @Sweep and j.state = 'succeeded'
              and j.dataset = @Dataset and j.split = @Split and j.method = @Method and j.modalities = @Modalities
              and j.pretrained = @Pretrained and j.extractor = @Extractor and j.profile = @Profile
            order by j.fold, j.seed, j.job_id
            limit 1
            """;
        await using var connection = await Database.OpenAsync(dataSource, ct);
        return await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(sql, new
        {
            Sweep = sweepId,
            cell.Dataset,
            cell.Split,
            cell.Method,
            cell.Modalities,
            cell.Pretrained,
            cell.Extractor,
            cell.Profile,
        }, cancellationToken: ct));
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

    private static string Where(ResultFilter filter, DynamicParameters parameters, bool stateFromFilter)
    {
        var sql = new StringBuilder();
        void Add(string clause, string name, object value)
        {
            sql.Append(" and ").Append(clause);
            parameters.Add(name, value);
        }
        if (filter.Dataset is { } dataset)
        {
            Add("lower(j.dataset) = lower(@Dataset)", "Dataset", dataset);
        }
        if (filter.Split is { } split)
        {
            Add("j.split = @Split", "Split", split);
        }
        if (filter.Method is { } method)
        {
            Add("lower(j.method) = lower(@Method)", "Method", method);
        }
        if (filter.Modalities is { } modalities)
        {
            Add("j.modalities = @Modalities", "Modalities", modalities);
        }
        if (filter.Pretrained is { } pretrained)
        {
            Add("j.pretrained = @Pretrained", "Pretrained", pretrained);
        }
        if (filter.Extractor is { } extractor)
        {
            Add("lower(j.extractor) = lower(@Extractor)", "Extractor", extractor);
        }
        if (filter.Profile is { } profile)
        {
            Add("j.profile = @Profile", "Profile", profile);
        }
        if (filter.Fold is { } fold)
        {
            Add("j.fold = @Fold", "Fold", fold);
        }
        if (stateFromFilter && filter.State is { } state)
        {
            Add("j.state = @State", "State", state);
        }
        return sql.ToString();
    }
}
