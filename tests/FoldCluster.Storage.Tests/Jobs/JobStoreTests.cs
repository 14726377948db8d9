using System.Collections.Concurrent;
using System.Threading.Channels;
using Dapper;
using FoldCluster.Core;
using FoldCluster.Storage.Jobs;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;
using Npgsql;

namespace FoldCluster.Storage.Tests.Jobs;

public sealed class JobStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private static TrainingOutcome Outcome(double ua = 0.5, int utterances = 3) => new(
        new ClassificationMetrics(ua, 0.6, 0.55, 0.58,
            [[3, 1, 0, 0], [0, 4, 0, 1], [1, 0, 2, 0], [0, 0, 1, 5]]),
        BestEpoch: 4,
        Seconds: 12.5,
        [.. Enumerable.Range(0, utterances).Select(i => new UtterancePrediction($"utt{i:D3}", (Emotion)(i % 4), (Emotion)((i + 1) % 4)))],
        [new EpochReport(1, 1, 2, 0.9, null, null), new EpochReport(2, 1, 3, 0.7, 0.8, 0.45)]);

    private static async Task<(TestDatabase Db, JobStore Jobs, SweepStore Sweeps)> SetUpAsync(int folds = 2, int seeds = 1, int maxAttempts = 3, int maxLosses = 10)
    {
        var db = await TestDatabase.CreateAsync();
        var sweeps = new SweepStore(db.DataSource);
        await sweeps.SubmitAsync(TestSpecs.Small(folds: folds, seeds: seeds, maxAttempts: maxAttempts, maxLosses: maxLosses), "test");
        return (db, new JobStore(db.DataSource), sweeps);
    }

    [Fact]
    public async Task Claim_hands_out_the_oldest_queued_job_with_its_dataset_and_overrides()
    {
        var (db, jobs, _) = await SetUpAsync();
        await using var _db = db;

        var claimed = await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default);

        Assert.NotNull(claimed);
        Assert.Equal(1, claimed.Attempt);
        Assert.Equal("test-sweep", claimed.SweepName);
        Assert.Equal("generated|utterance|0|cmha|AVT|pre|resnet50-random|1|tiny", claimed.Key.Canonical);
        Assert.Equal("generated-corpus", claimed.Dataset.Root);
        Assert.Equal("resnet50", claimed.Dataset.Extractor);
        Assert.True(claimed.Dataset.AllowRandomWeights);
        Assert.Equal("2", claimed.TrainingOverrides["stage1_epochs"]);
        Assert.Equal("112", claimed.TrainingOverrides["features.frame_size"]);
        Assert.InRange((claimed.LeaseExpiresUtc - DateTime.UtcNow).TotalSeconds, 30, 90);
        Assert.Equal(DateTimeKind.Utc, claimed.LeaseExpiresUtc.Kind);

        await using var connection = await db.DataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<(string State, int Attempt, string Worker, string Slot)>(
            "select state, attempt, worker, slot from jobs where job_id = @JobId", new { claimed.JobId });
        Assert.Equal(("running", 1, "node-a", "cpu:0"), row);
        var attempts = await connection.QuerySingleAsync<(string Worker, string Slot, string? Outcome)>(
            "select worker, slot, outcome from job_attempts where job_id = @JobId and attempt = 1", new { claimed.JobId });
        Assert.Equal(("node-a", "cpu:0", (string?)null), attempts);
    }

    [Fact]
    public async Task Full_state_machine_claim_renew_epoch_store()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 1);
        await using var _db = db;

        var job = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        Assert.Null(await jobs.ClaimNextAsync("node-b", "cpu:0", Lease, default));
        Assert.True(await jobs.RenewLeaseAsync(job.JobId, job.Attempt, TimeSpan.FromMinutes(5), 1, 1, default));
        Assert.True(await jobs.RecordEpochsAsync(job.JobId, job.Attempt, [new EpochReport(1, 1, 2, 0.9, null, null)], Lease, default));
        Assert.True(await jobs.IsCurrentAsync(job.JobId, job.Attempt, default));
        Assert.Single(await jobs.RunningJobsAsync(default));

        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(job.JobId, job.Attempt, Outcome(0.75, utterances: 5), default));

        await using var connection = await db.DataSource.OpenConnectionAsync();
        var state = await connection.QuerySingleAsync<(string State, DateTime? Finished, DateTime? Lease)>(
            "select state, finished_at, lease_expires_at from jobs where job_id = @JobId", new { job.JobId });
        Assert.Equal("succeeded", state.State);
        Assert.NotNull(state.Finished);
        Assert.Null(state.Lease);
        var result = await connection.QuerySingleAsync<(double Ua, int[] Confusion, int BestEpoch, int Attempt)>(
            "select ua, confusion, best_epoch, attempt from results where job_id = @JobId", new { job.JobId });
        Assert.Equal(0.75, result.Ua);
        Assert.Equal([3, 1, 0, 0, 0, 4, 0, 1, 1, 0, 2, 0, 0, 0, 1, 5], result.Confusion);
        Assert.Equal(4, result.BestEpoch);
        Assert.Equal(1, result.Attempt);
        var predictions = (await connection.QueryAsync<(string Id, short True, short Predicted)>(
            "select utterance_id, true_label, predicted from predictions where job_id = @JobId order by utterance_id", new { job.JobId })).ToList();
        Assert.Equal(5, predictions.Count);
        Assert.Equal(("utt004", (short)0, (short)1), predictions[4]);
        // Epoch (1,1) came by progress and again in the outcome: stored once; (2,1) only in the outcome.
        var epochs = (await connection.QueryAsync<(short Stage, int Epoch)>(
            "select stage, epoch from epoch_metrics where job_id = @JobId order by stage, epoch", new { job.JobId })).ToList();
        Assert.Equal([((short)1, 1), ((short)2, 1)], epochs);
        Assert.Equal("succeeded", await connection.ExecuteScalarAsync<string>(
            "select outcome from job_attempts where job_id = @JobId and attempt = 1", new { job.JobId }));
        Assert.False(await jobs.IsCurrentAsync(job.JobId, job.Attempt, default));
        Assert.False(await jobs.RenewLeaseAsync(job.JobId, job.Attempt, Lease, 2, 3, default));
        // A retry of the same attempt's store after a lost acknowledgement is answered "stored" and stores nothing new.
        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(job.JobId, job.Attempt, Outcome(0.1), default));
        Assert.Equal(0.75, await connection.ExecuteScalarAsync<double>("select ua from results where job_id = @JobId", new { job.JobId }));
    }

    [Fact]
    public async Task Stale_attempt_result_is_rejected_and_nothing_is_stored_twice()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 1);
        await using var _db = db;

        var first = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        Assert.Equal(1, await jobs.RequeueWorkerAsync("node-a", "node-a unreachable", default));
        var second = (await jobs.ClaimNextAsync("node-b", "cpu:1", Lease, default))!;
        Assert.Equal(first.JobId, second.JobId);
        Assert.Equal(2, second.Attempt);

        // The worker thought dead comes back with its result: fenced off.
        Assert.False(await jobs.RenewLeaseAsync(first.JobId, first.Attempt, Lease, 2, 5, default));
        Assert.False(await jobs.RecordEpochsAsync(first.JobId, first.Attempt, [new EpochReport(2, 5, 9, 0.1, 0.1, 0.9)], Lease, default));
        Assert.Equal(StoreResultOutcome.RejectedStale, await jobs.StoreResultAsync(first.JobId, first.Attempt, Outcome(0.99), default));
        Assert.False(await jobs.FailAsync(first.JobId, first.Attempt, "late failure", retryable: true, default));
        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(second.JobId, second.Attempt, Outcome(0.61), default));
        // And once more after the job succeeded.
        Assert.Equal(StoreResultOutcome.RejectedStale, await jobs.StoreResultAsync(first.JobId, first.Attempt, Outcome(0.99), default));

        await using var connection = await db.DataSource.OpenConnectionAsync();
        var results = (await connection.QueryAsync<(int Attempt, double Ua)>("select attempt, ua from results")).ToList();
        Assert.Equal([(2, 0.61)], results);
        Assert.Equal(3L, await connection.ExecuteScalarAsync<long>("select count(*) from predictions"));
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from epoch_metrics where attempt = 1"));
        var outcomes = (await connection.QueryAsync<(int Attempt, string Outcome)>(
            "select attempt, outcome from job_attempts order by attempt")).ToList();
        Assert.Equal([(1, "rejected"), (2, "succeeded")], outcomes);
    }

    [Fact]
    public async Task A_result_the_database_refuses_part_of_stores_nothing_and_leaves_the_attempt_running()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 1);
        await using var _db = db;
        var job = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;

        // The same utterance twice: the predictions' statement fails after the result's row was inserted in the same batch.
        var good = Outcome(0.75);
        var refused = good with { Predictions = [.. good.Predictions, good.Predictions[0]] };
        var error = await Assert.ThrowsAsync<PostgresException>(() => jobs.StoreResultAsync(job.JobId, job.Attempt, refused, default));
        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
        Assert.Equal("prediction_sets_distinct_utterances", error.ConstraintName);

        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from results"));
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from predictions"));
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from epoch_metrics"));
        Assert.Equal(("running", 1), await connection.QuerySingleAsync<(string, int)>(
            "select state, attempt from jobs where job_id = @JobId", new { job.JobId }));
        Assert.Null(await connection.ExecuteScalarAsync<string?>(
            "select outcome from job_attempts where job_id = @JobId and attempt = 1", new { job.JobId }));
        // The attempt is still current, and its good result is stored whole.
        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(job.JobId, job.Attempt, good, default));
        Assert.Equal(3L, await connection.ExecuteScalarAsync<long>("select count(*) from predictions"));
    }

    [Fact]
    public async Task Concurrent_claimers_never_get_the_same_job()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 10, seeds: 4);
        await using var _db = db;
        var claimed = new ConcurrentBag<(long JobId, int Attempt, string Claimer)>();

        var claimers = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            while (await jobs.ClaimNextAsync($"node-{c}", "cpu:0", Lease, default) is { } job)
            {
                claimed.Add((job.JobId, job.Attempt, $"node-{c}"));
            }
        })).ToArray();
        await Task.WhenAll(claimers);

        await BatchClaimTests.AssertEachJobClaimedOnceAsync(db, [.. claimed.Select(c => (c.JobId, c.Attempt))], 40);
    }

    [Fact]
    public async Task Requeued_jobs_of_a_lost_worker_get_a_new_attempt_on_the_next_claim()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 3);
        await using var _db = db;
        var a1 = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        var a2 = (await jobs.ClaimNextAsync("node-a", "cpu:1", Lease, default))!;
        var b1 = (await jobs.ClaimNextAsync("node-b", "cpu:0", Lease, default))!;

        Assert.Equal(2, await jobs.RequeueWorkerAsync("node-a", "node-a left the cluster", default));
        Assert.Equal(0, await jobs.RequeueWorkerAsync("node-a", "again", default));

        var running = await jobs.RunningJobsAsync(default);
        Assert.Equal([b1.JobId], running.Select(r => r.JobId));
        var again1 = (await jobs.ClaimNextAsync("node-b", "cpu:1", Lease, default))!;
        var again2 = (await jobs.ClaimNextAsync("node-c", "cpu:0", Lease, default))!;
        Assert.Equal([a1.JobId, a2.JobId], new[] { again1.JobId, again2.JobId });
        Assert.Equal(2, again1.Attempt);
        Assert.Equal(2, again2.Attempt);

        await using var connection = await db.DataSource.OpenConnectionAsync();
        var lost = (await connection.QueryAsync<(long JobId, int Attempt, string Error)>(
            "select job_id, attempt, error from job_attempts where outcome = 'lost' order by job_id")).ToList();
        Assert.Equal([(a1.JobId, 1, "node-a left the cluster"), (a2.JobId, 1, "node-a left the cluster")], lost);
    }

    [Fact]
    public async Task Expired_leases_are_requeued_and_live_ones_are_not()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 2);
        await using var _db = db;
        var expiring = (await jobs.ClaimNextAsync("node-a", "cpu:0", TimeSpan.FromMilliseconds(1), default))!;
        var live = (await jobs.ClaimNextAsync("node-b", "cpu:0", TimeSpan.FromMinutes(10), default))!;
        await Task.Delay(20);

        Assert.Equal(1, await jobs.RequeueExpiredLeasesAsync(default));

        var next = (await jobs.ClaimNextAsync("node-c", "cpu:0", Lease, default))!;
        Assert.Equal(expiring.JobId, next.JobId);
        Assert.Equal(2, next.Attempt);
        Assert.True(await jobs.IsCurrentAsync(live.JobId, live.Attempt, default));
        Assert.False(await jobs.IsCurrentAsync(expiring.JobId, expiring.Attempt, default));
        Assert.Equal(0, await jobs.RequeueExpiredLeasesAsync(default));
    }

    [Fact]
    public async Task Retryable_failures_requeue_until_the_budget_is_spent_then_fail()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 1, maxAttempts: 2);
        await using var _db = db;

        var first = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        Assert.True(await jobs.FailAsync(first.JobId, first.Attempt, "CUDA error: device lost", retryable: true, default));
        var second = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        Assert.Equal(2, second.Attempt);
        Assert.True(await jobs.FailAsync(second.JobId, second.Attempt, "CUDA error: device lost", retryable: true, default));
        Assert.Null(await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default));

        await using var connection = await db.DataSource.OpenConnectionAsync();
        var job = await connection.QuerySingleAsync<(string State, string Error, int Attempt)>("select state, error, attempt from jobs");
        Assert.Equal("failed", job.State);
        Assert.Equal(2, job.Attempt);
        Assert.Equal("CUDA error: device lost (failure budget spent: 2 of max_attempts 2)", job.Error);
        Assert.Equal(2L, await connection.ExecuteScalarAsync<long>("select count(*) from job_attempts where outcome = 'failed'"));
    }

    [Fact]
    public async Task Lost_job_with_spent_loss_budget_fails_instead_of_requeueing()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 1, maxAttempts: 1, maxLosses: 2);
        await using var _db = db;
        var first = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        Assert.Equal(1, await jobs.RequeueWorkerAsync("node-a", "node-a downed", default));
        var second = (await jobs.ClaimNextAsync("node-b", "cpu:0", Lease, default))!;
        Assert.Equal((first.JobId, 2), (second.JobId, second.Attempt));

        Assert.Equal(1, await jobs.RequeueWorkerAsync("node-b", "node-b downed", default));

        Assert.Null(await jobs.ClaimNextAsync("node-c", "cpu:0", Lease, default));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<(string State, string Error, int Failures, int Losses)>(
            "select state, error, failures, losses from jobs where job_id = @JobId", new { first.JobId });
        Assert.Equal(("failed", "node-b downed (loss budget spent: 2 of max_losses 2)", 0, 2), row);
    }

    [Fact]
    public async Task Losses_are_not_failures_a_job_lost_four_times_with_max_attempts_one_still_succeeds()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 1, maxAttempts: 1);
        await using var _db = db;
        // Four losses of both kinds: two workers downed, two leases expired.
        for (var i = 1; i <= 4; i++)
        {
            var expires = i % 2 == 1;
            var lost = (await jobs.ClaimNextAsync($"node-{i}", "cpu:0", expires ? TimeSpan.FromMilliseconds(1) : Lease, default))!;
            Assert.Equal(i, lost.Attempt);
            if (expires)
            {
                await Task.Delay(20);
            }
            Assert.Equal(1, expires ? await jobs.RequeueExpiredLeasesAsync(default) : await jobs.RequeueWorkerAsync($"node-{i}", "node killed", default));
        }
        var last = (await jobs.ClaimNextAsync("node-5", "cpu:0", Lease, default))!;
        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(last.JobId, last.Attempt, Outcome(), default));

        await using var connection = await db.DataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<(string State, int Attempt, int Failures, int Losses)>(
            "select state, attempt, failures, losses from jobs where job_id = @JobId", new { last.JobId });
        Assert.Equal(("succeeded", 5, 0, 4), row);
        Assert.Equal(4L, await connection.ExecuteScalarAsync<long>("select count(*) from job_attempts where outcome = 'lost'"));
    }

    [Fact]
    public async Task Retried_claim_after_a_lost_reply_returns_the_same_job_and_attempt()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 3);
        await using var _db = db;
        var token = Guid.NewGuid();
        var tries = 0;
        var log = new List<string>();
        var options = new DbRetryOptions { FirstDelay = TimeSpan.FromMilliseconds(10), MaxElapsed = TimeSpan.FromSeconds(30) };

        // The first try commits its claim and then loses the reply, as a dropped connection does after the commit.
        var claimed = await DbRetry.RunAsync(async ct =>
        {
            var job = await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, token, ct);
            if (++tries == 1)
            {
                throw new DatabaseUnreachableException("reply lost after the commit", new System.Net.Sockets.SocketException());
            }
            return job;
        }, options, log.Add);

        Assert.Equal(2, tries);
        Assert.Single(log);
        Assert.NotNull(claimed);
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var running = (await connection.QueryAsync<(long JobId, int Attempt)>("select job_id, attempt from jobs where state = 'running'")).ToList();
        Assert.Equal([(claimed.JobId, claimed.Attempt)], running);
        Assert.Equal(1, claimed.Attempt);
        Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("select count(*) from job_attempts"));
        Assert.Equal("generated", claimed.Key.Dataset);

        // A new request (new token) claims the next job; the old token repeated again still names the first.
        var next = (await jobs.ClaimNextAsync("node-a", "cpu:1", Lease, Guid.NewGuid(), default))!;
        Assert.NotEqual(claimed.JobId, next.JobId);
        var again = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, token, default))!;
        Assert.Equal((claimed.JobId, claimed.Attempt), (again.JobId, again.Attempt));

        // Once that attempt is over, its token hands out nothing (not a fresh job either).
        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(claimed.JobId, claimed.Attempt, Outcome(), default));
        Assert.Null(await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, token, default));
        Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("select count(*) from jobs where state = 'queued'"));
    }

    [Fact]
    public async Task Extending_running_leases_after_an_outage_keeps_them_from_expiring()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 2);
        await using var _db = db;
        var expired = (await jobs.ClaimNextAsync("node-a", "cpu:0", TimeSpan.FromMilliseconds(1), default))!;
        var live = (await jobs.ClaimNextAsync("node-b", "cpu:0", TimeSpan.FromMinutes(10), default))!;
        await Task.Delay(50);

        Assert.Equal(2, await jobs.ExtendRunningLeasesAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(0, await jobs.RequeueExpiredLeasesAsync(default));

        var leases = (await jobs.RunningJobsAsync(default)).ToDictionary(j => j.JobId, j => j.LeaseExpiresUtc);
        Assert.InRange(leases[expired.JobId], DateTime.UtcNow.AddSeconds(30), DateTime.UtcNow.AddSeconds(61));
        // A lease longer than the grace is not shortened.
        Assert.InRange(leases[live.JobId], DateTime.UtcNow.AddMinutes(9), DateTime.UtcNow.AddMinutes(10.1));
    }

    [Fact]
    public async Task Bad_input_fails_at_once_without_retry()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 1, maxAttempts: 3);
        await using var _db = db;
        var job = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;

        Assert.True(await jobs.FailAsync(job.JobId, job.Attempt, "corpus root 'generated-corpus' does not exist", retryable: false, default));

        Assert.Null(await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<(string State, string Error, int Attempt)>("select state, error, attempt from jobs");
        Assert.Equal(("failed", "corpus root 'generated-corpus' does not exist", 1), row);
        Assert.False(await jobs.FailAsync(job.JobId, job.Attempt, "again", retryable: false, default));
    }

    [Fact]
    public async Task Cancelled_sweep_hands_out_nothing_and_fences_its_running_jobs()
    {
        var (db, jobs, sweeps) = await SetUpAsync(folds: 3);
        await using var _db = db;
        var running = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;

        Assert.Equal(3, await sweeps.CancelAsync("test-sweep"));

        Assert.Null(await jobs.ClaimNextAsync("node-a", "cpu:1", Lease, default));
        Assert.False(await jobs.IsCurrentAsync(running.JobId, running.Attempt, default));
        Assert.Equal(StoreResultOutcome.RejectedStale, await jobs.StoreResultAsync(running.JobId, running.Attempt, Outcome(), default));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from results"));
        Assert.Equal(3L, await connection.ExecuteScalarAsync<long>("select count(*) from jobs where state = 'cancelled'"));
    }

    [Fact]
    public async Task A_job_its_stored_spec_cannot_describe_fails_with_the_reason_instead_of_being_handed_out()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 1);
        await using var _db = db;
        await using (var connection = await db.DataSource.OpenConnectionAsync())
        {
            var other = TestSpecs.Small(folds: 1).ToYaml().Replace("\"generated\"", "\"renamed\"", StringComparison.Ordinal);
            await connection.ExecuteAsync("update sweeps set spec = @other", new { other });
        }

        Assert.Null(await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default));

        await using var check = await db.DataSource.OpenConnectionAsync();
        var row = await check.QuerySingleAsync<(string State, string Error)>("select state, error from jobs");
        Assert.Equal(("failed", "the spec of sweep 'test-sweep' has no dataset 'generated' with extractor 'resnet50-random'"), row);
    }

    [Fact]
    public async Task A_prediction_needs_its_result_and_goes_with_it()
    {
        var (db, jobs, sweeps) = await SetUpAsync(folds: 4);
        await using var _db = db;
        var stored = new List<long>();
        for (var i = 0; i < 2; i++)
        {
            var job = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
            Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(job.JobId, job.Attempt, Outcome(utterances: 5), default));
            stored.Add(job.JobId);
        }
        // A result stored without predictions, and a job without a result.
        var bare = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(bare.JobId, bare.Attempt, Outcome(utterances: 0), default));
        var withoutResult = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!.JobId;
        await using var connection = await db.DataSource.OpenConnectionAsync();

        // A result's predictions are one stored row; the view `predictions` lists one row per utterance, in stored order.
        Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("select count(*) from prediction_sets where job_id = @id", new { id = stored[0] }));
        Assert.Equal(["utt000", "utt001", "utt002", "utt003", "utt004"], (await connection.QueryAsync<string>(
            "select utterance_id from predictions where job_id = @id", new { id = stored[0] })).ToList());

        // Predictions of a job without a result are refused, alone or beside a valid row, and nothing of the statement stays.
        foreach (var ids in new[] { new[] { withoutResult }, new[] { bare.JobId, withoutResult } })
        {
            var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => connection.ExecuteAsync("""
                insert into prediction_sets (job_id, utterance_ids, true_labels, predicted)
                select id, array['extra'], array[0::smallint], array[1::smallint] from unnest(@ids) as u(id)
                """, new { ids }));
            Assert.Equal("23503", refused.SqlState);
        }
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from prediction_sets where job_id = @JobId", new { bare.JobId }));
        var moved = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => connection.ExecuteAsync(
            "update prediction_sets set job_id = @withoutResult where job_id = @id", new { withoutResult, id = stored[0] }));
        Assert.Equal("23503", moved.SqlState);
        var renumbered = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => connection.ExecuteAsync(
            "update results set job_id = @withoutResult where job_id = @id", new { withoutResult, id = stored[0] }));
        Assert.Equal("23503", renumbered.SqlState);

        // A label outside 0-3, a missing one, or arrays of different lengths are refused by name.
        foreach (var (labels, constraint) in new[]
        {
            ("array[0, 4]::smallint[]", "prediction_sets_labels"),
            ("array[0, null]::smallint[]", "prediction_sets_no_nulls"),
            ("array[0]::smallint[]", "prediction_sets_aligned"),
        })
        {
            var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => connection.ExecuteAsync($"""
                update prediction_sets set utterance_ids = array['a', 'b'], true_labels = {labels}, predicted = array[0, 1]::smallint[]
                where job_id = @id
                """, new { id = stored[0] }));
            Assert.Equal("23514", refused.SqlState);
            Assert.Equal(constraint, refused.ConstraintName);
        }
        Assert.Equal(10L, await connection.ExecuteScalarAsync<long>("select count(*) from predictions"));

        // Deleting a result deletes its predictions only; deleting the sweep deletes the rest.
        await connection.ExecuteAsync("delete from results where job_id = @id", new { id = stored[0] });
        Assert.Equal([(stored[1], 5L)], (await connection.QueryAsync<(long, long)>(
            "select job_id, count(*) from predictions group by job_id")).ToList());
        await jobs.FailAsync(withoutResult, 1, "test", retryable: false, default);
        await sweeps.DeleteAsync("test-sweep");
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from prediction_sets"));
    }

    [Fact]
    public async Task Listening_hears_a_submission_and_a_retry_but_not_a_claim_and_leaves_its_pooled_connection_unsubscribed()
    {
        await using var db = await TestDatabase.CreateAsync();
        // One pooled connection: the listener's, given back when listening stops.
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(db.ConnectionString) { MaxPoolSize = 1 };
        await using var dataSource = Database.CreateDataSource(builder.ConnectionString, "foldcluster-tests");
        var jobs = new JobStore(dataSource);
        var heard = Channel.CreateUnbounded<int>();
        var calls = 0;
        using var stop = new CancellationTokenSource();
        var listening = jobs.ListenForQueuedJobsAsync(() => heard.Writer.TryWrite(Interlocked.Increment(ref calls)), stop.Token);
        async Task<int> Heard() => await heard.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(1, await Heard()); // once on start: jobs may have been queued before anyone listened
        var sweeps = new SweepStore(db.DataSource);
        await sweeps.SubmitAsync(TestSpecs.Small(folds: 1, maxAttempts: 1), "test");
        Assert.Equal(2, await Heard());

        var jobStore = new JobStore(db.DataSource);
        var claimed = await jobStore.ClaimNextAsync("node-a", "cpu:0", Lease, default);
        Assert.NotNull(claimed);
        Assert.True(await jobStore.FailAsync(claimed.JobId, claimed.Attempt, "boom", retryable: false, default));
        Assert.Equal(1, await sweeps.RetryFailedAsync("test-sweep"));
        Assert.Equal(3, await Heard()); // the retry; the claim and the failure said nothing

        stop.Cancel();
        await listening.WaitAsync(TimeSpan.FromSeconds(15));
        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.Empty(await connection.QueryAsync<string>("select pg_listening_channels()"));
        Assert.Equal(3, Volatile.Read(ref calls));
    }
}
