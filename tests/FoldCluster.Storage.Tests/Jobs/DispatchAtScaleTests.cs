using Dapper;
using FoldCluster.Core;
using FoldCluster.Storage.Jobs;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;
using Npgsql;

namespace FoldCluster.Storage.Tests.Jobs;

/// <summary>
/// What keeps dispatch cheap at hundreds of slots: idle slots before prefetching ones, prefetch kept off the end of
/// the queue, several epochs in one statement, and a result stored in one round trip that still stores all or nothing.
/// </summary>
public sealed class DispatchAtScaleTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private static async Task<(TestDatabase Db, JobStore Jobs)> SetUpAsync(int folds)
    {
        var db = await TestDatabase.CreateAsync();
        await new SweepStore(db.DataSource).SubmitAsync(TestSpecs.Small(folds: folds), "test");
        return (db, new JobStore(db.DataSource));
    }

    private static TrainingOutcome Outcome(params UtterancePrediction[] predictions) => new(
        new ClassificationMetrics(0.5, 0.6, 0.55, 0.58, [[3, 1, 0, 0], [0, 4, 0, 1], [1, 0, 2, 0], [0, 0, 1, 5]]),
        BestEpoch: 2,
        Seconds: 3.5,
        predictions,
        [new EpochReport(1, 1, 1, 0.9, null, null), new EpochReport(2, 1, 2, 0.7, 0.8, 0.45), new EpochReport(2, 2, 2, 0.6, 0.7, 0.5)]);

    [Fact]
    public async Task Idle_requests_are_served_before_ahead_requests_of_the_same_batch()
    {
        var (db, jobs) = await SetUpAsync(folds: 2);
        await using var _db = db;
        var ahead = new ClaimRequest("node-a", "cpu:0", Guid.NewGuid(), Ahead: true);
        var idle1 = new ClaimRequest("node-a", "cpu:1", Guid.NewGuid());
        var idle2 = new ClaimRequest("node-b", "cpu:0", Guid.NewGuid());

        var claimed = await jobs.ClaimBatchAsync([ahead, idle1, idle2], Lease, default);

        // Two jobs for three requests: both idle slots get one (the oldest first, in request order), the busy slot none.
        Assert.Null(claimed[0]);
        Assert.NotNull(claimed[1]);
        Assert.NotNull(claimed[2]);
        Assert.True(claimed[1]!.JobId < claimed[2]!.JobId);
    }

    [Fact]
    public async Task Ahead_requests_take_jobs_only_beyond_the_reserve()
    {
        var (db, jobs) = await SetUpAsync(folds: 6);
        await using var _db = db;
        var requests = new[]
        {
            new ClaimRequest("node-a", "cpu:0", Guid.NewGuid(), Ahead: true),
            new ClaimRequest("node-a", "cpu:1", Guid.NewGuid(), Ahead: true),
            new ClaimRequest("node-a", "cpu:2", Guid.NewGuid(), Ahead: true),
            new ClaimRequest("node-b", "cpu:0", Guid.NewGuid()),
        };

        // Six queued, one idle request, reserve 3: the idle slot takes one, the ahead requests two of the other five.
        var claimed = await jobs.ClaimBatchAsync(requests, Lease, default, reserve: 3);

        Assert.NotNull(claimed[3]);
        Assert.Equal(2, claimed.Take(3).Count(c => c is not null));
        Assert.Null(claimed[2]);
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(3L, await connection.ExecuteScalarAsync<long>("select count(*) from jobs where state = 'queued'"));

        // With only the reserve left, ahead requests get nothing and an idle one still does.
        var more = await jobs.ClaimBatchAsync(
            [new ClaimRequest("node-a", "cpu:2", Guid.NewGuid(), Ahead: true), new ClaimRequest("node-c", "cpu:0", Guid.NewGuid())],
            Lease, default, reserve: 3);
        Assert.Null(more[0]);
        Assert.NotNull(more[1]);

        // Without a reserve (prefetch everywhere), ahead requests take what is queued.
        var rest = await jobs.ClaimBatchAsync(
            [new ClaimRequest("node-a", "cpu:2", Guid.NewGuid(), Ahead: true), new ClaimRequest("node-b", "cpu:0", Guid.NewGuid(), Ahead: true)],
            Lease, default);
        Assert.All(rest, Assert.NotNull);
    }

    [Fact]
    public async Task A_claim_late_in_a_long_sweep_reads_the_queue_through_its_index_not_the_jobs_already_handed_out()
    {
        // 2,000 jobs, analysed while all were queued (as autovacuum sees a sweep just submitted); then 1,800 handed
        // out. Jobs are stored in submission order, so a scan of the table reads every job handed out before the
        // first queued one: a claim that scanned it (with each row's sweep looked up besides) cost more the further a
        // sweep had run.
        await using var db = await TestDatabase.CreateAsync();
        await new SweepStore(db.DataSource).SubmitAsync(TestSpecs.Small(folds: 10, seeds: 200), "test");
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("analyze jobs");
        var jobs = new JobStore(db.DataSource);
        for (var handedOut = 0; handedOut < 1800; handedOut += 100)
        {
            var batch = Enumerable.Range(0, 100).Select(i => new ClaimRequest($"node-{i % 8}", $"cpu:{i}", Guid.NewGuid())).ToArray();
            Assert.All(await jobs.ClaimBatchAsync(batch, Lease, default), Assert.NotNull);
        }

        // Measured on one session of its own, whose table statistics are flushed on demand.
        await using var single = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(db.ConnectionString) { MaxPoolSize = 1 }.ConnectionString);
        var measured = new JobStore(single);
        // The setup's own scans (the submission counts its jobs) reach the statistics views first: a session reports
        // them when it next goes idle, which could otherwise fall inside the measurement.
        await FlushTableStatisticsAsync(db.DataSource, connection);
        var before = await JobsScansAsync(connection);
        for (var i = 0; i < 5; i++)
        {
            // Prefetching requests beside an idle one: the claim counts the queue beyond the reserve of 256.
            var claimed = await measured.ClaimBatchAsync(
                [new ClaimRequest("node-a", $"cpu:{i}", Guid.NewGuid(), Ahead: true), new ClaimRequest("node-b", $"cpu:{i}", Guid.NewGuid(), Ahead: true),
                 new ClaimRequest("node-c", $"cpu:{i}", Guid.NewGuid())],
                Lease, default, reserve: 256);
            // 200 queued, fewer than the reserve: only the idle request gets one.
            Assert.Equal([false, false, true], claimed.Select(c => c is not null));
        }
        await using (var session = await single.OpenConnectionAsync())
        {
            // The session's counts reach the statistics views before the server answers this call.
            await session.ExecuteAsync("select pg_stat_force_next_flush()");
        }
        var after = await JobsScansAsync(connection);

        Assert.True(after.IndexScans > before.IndexScans, $"the claims' index scans were not counted ({before.IndexScans} -> {after.IndexScans})");
        Assert.Equal(before.SeqScans, after.SeqScans);
        Assert.Equal(1800 + 5, await connection.ExecuteScalarAsync<long>("select count(*) from jobs where state = 'running'"));
    }

    /// <summary>
    /// Makes every session of the pool (the setup used one or two, one after the other) and <paramref name="open"/>
    /// report its pending table statistics: opened together, the pool hands out its idle sessions before new ones, and
    /// a session reports before it answers the call that asks it to.
    /// </summary>
    private static async Task FlushTableStatisticsAsync(NpgsqlDataSource dataSource, NpgsqlConnection open)
    {
        var sessions = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                sessions.Add(await dataSource.OpenConnectionAsync());
            }
            foreach (var session in sessions.Append(open))
            {
                await session.ExecuteAsync("select pg_stat_force_next_flush()");
            }
        }
        finally
        {
            foreach (var session in sessions)
            {
                await session.DisposeAsync();
            }
        }
    }

    private static Task<(long SeqScans, long IndexScans)> JobsScansAsync(NpgsqlConnection connection) =>
        connection.QuerySingleAsync<(long, long)>("select seq_scan, coalesce(idx_scan, 0) from pg_stat_user_tables where relname = 'jobs'");

    [Fact]
    public async Task Several_epochs_are_recorded_in_one_call_and_a_stale_attempt_records_none()
    {
        var (db, jobs) = await SetUpAsync(folds: 2);
        await using var _db = db;
        var job = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        EpochReport[] epochs = [new(1, 1, 2, 0.9, null, null), new(1, 2, 2, 0.8, null, null), new(2, 1, 30, 0.7, 0.75, 0.4)];

        Assert.True(await jobs.RecordEpochsAsync(job.JobId, job.Attempt, epochs, Lease, default));
        Assert.False(await jobs.RecordEpochsAsync(job.JobId, job.Attempt + 1, [new(2, 2, 30, 0.6, 0.7, 0.5), new(2, 3, 30, 0.5, 0.6, 0.6)], Lease, default));

        await using var connection = await db.DataSource.OpenConnectionAsync();
        var stored = (await connection.QueryAsync<(short Stage, int Epoch, double TrainLoss, double? ValUa)>(
            "select stage, epoch, train_loss, val_ua from epoch_metrics where job_id = @id order by stage, epoch", new { id = job.JobId })).ToArray();
        Assert.Equal([(1, 1, 0.9, null), (1, 2, 0.8, null), (2, 1, 0.7, 0.4)], stored.Select(s => ((int)s.Stage, s.Epoch, s.TrainLoss, s.ValUa)));
        // The job row shows the last epoch of the call.
        var (stage, epoch, planned) = await connection.QuerySingleAsync<(short, int, int)>(
            "select stage, epoch, epochs_planned from jobs where job_id = @id", new { id = job.JobId });
        Assert.Equal((2, 1, 30), ((int)stage, epoch, planned));
    }

    [Fact]
    public async Task A_result_whose_later_statement_fails_stores_nothing_and_the_attempt_stays_running()
    {
        var (db, jobs) = await SetUpAsync(folds: 2);
        await using var _db = db;
        var job = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        // The same utterance twice breaks a rule of the predictions, after the results row went in the same batch.
        var bad = Outcome(new UtterancePrediction("u1", Emotion.Angry, Emotion.Sad), new UtterancePrediction("u1", Emotion.Happy, Emotion.Happy));

        var error = await Assert.ThrowsAsync<PostgresException>(() => jobs.StoreResultAsync(job.JobId, job.Attempt, bad, default));
        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
        Assert.Equal("prediction_sets_distinct_utterances", error.ConstraintName);

        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from results where job_id = @id", new { id = job.JobId }));
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from epoch_metrics where job_id = @id", new { id = job.JobId }));
        Assert.Equal(("running", job.Attempt), await connection.QuerySingleAsync<(string, int)>(
            "select state, attempt from jobs where job_id = @id", new { id = job.JobId }));

        // The attempt can still store a good result, once, with every epoch and prediction.
        var good = Outcome(new UtterancePrediction("u1", Emotion.Angry, Emotion.Sad), new UtterancePrediction("u2", Emotion.Happy, Emotion.Happy));
        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(job.JobId, job.Attempt, good, default));
        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(job.JobId, job.Attempt, good, default));
        Assert.Equal((1L, 2L, 3L, "succeeded"), await connection.QuerySingleAsync<(long, long, long, string)>("""
            select (select count(*) from results where job_id = @id), (select count(*) from predictions where job_id = @id),
                   (select count(*) from epoch_metrics where job_id = @id),
                   (select outcome from job_attempts where job_id = @id and attempt = @attempt)
            """, new { id = job.JobId, attempt = job.Attempt }));
    }
}
