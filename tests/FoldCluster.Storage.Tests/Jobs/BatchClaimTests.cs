using System.Collections.Concurrent;
using Dapper;
using FoldCluster.Storage.Jobs;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Storage.Tests.Jobs;

/// <summary>Several claims in one round trip (the coordinator's batches) and one lease renewal per worker heartbeat.</summary>
public sealed class BatchClaimTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private static async Task<(TestDatabase Db, JobStore Jobs, SweepStore Sweeps)> SetUpAsync(int folds, int seeds = 1)
    {
        var db = await TestDatabase.CreateAsync();
        var sweeps = new SweepStore(db.DataSource);
        await sweeps.SubmitAsync(TestSpecs.Small(folds: folds, seeds: seeds), "test");
        return (db, new JobStore(db.DataSource), sweeps);
    }

    private static ClaimRequest[] Requests(string worker, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new ClaimRequest(worker, $"cpu:{i}", Guid.NewGuid()))];

    [Fact]
    public async Task A_batch_of_n_claims_returns_n_distinct_jobs_each_fenced_on_its_own_slot()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 10);
        await using var _db = db;
        var requests = Requests("node-a", 6);

        var claimed = await jobs.ClaimBatchAsync(requests, Lease, default);

        Assert.Equal(6, claimed.Count);
        Assert.All(claimed, Assert.NotNull);
        Assert.Equal(6, claimed.Select(c => c!.JobId).Distinct().Count());
        // The oldest queued jobs, in order, one per request.
        Assert.Equal(claimed.Select(c => c!.JobId).Order(), claimed.Select(c => c!.JobId));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(long JobId, string State, int Attempt, string Worker, string Slot, Guid Token)>("""
            select j.job_id, j.state, j.attempt, j.worker, j.slot, a.claim_token
            from jobs j join job_attempts a on a.job_id = j.job_id and a.attempt = j.attempt
            where j.state = 'running' order by j.job_id
            """)).ToList();
        Assert.Equal(6, rows.Count);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal((claimed[i]!.JobId, "running", 1, "node-a", $"cpu:{i}", requests[i].Token),
                (rows[i].JobId, rows[i].State, rows[i].Attempt, rows[i].Worker, rows[i].Slot, rows[i].Token));
        }
        Assert.Equal(4L, await connection.ExecuteScalarAsync<long>("select count(*) from jobs where state = 'queued'"));

        // Each claimed attempt is fenced like a single claim: its result is stored once; a stale attempt is refused.
        Assert.False(await jobs.RenewLeaseAsync(claimed[0]!.JobId, 2, Lease, null, null, default));
        Assert.True(await jobs.RenewLeaseAsync(claimed[0]!.JobId, 1, Lease, null, null, default));
    }

    [Fact]
    public async Task A_batch_larger_than_the_queue_answers_the_rest_with_nothing()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 3);
        await using var _db = db;

        var claimed = await jobs.ClaimBatchAsync(Requests("node-a", 5), Lease, default);

        Assert.Equal(3, claimed.Count(c => c is not null));
        Assert.All(claimed.Skip(3), Assert.Null);
        Assert.All(await jobs.ClaimBatchAsync(Requests("node-b", 2), Lease, default), Assert.Null);
    }

    [Fact]
    public async Task A_retried_batch_returns_what_the_first_try_claimed_and_claims_nothing_new()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 10);
        await using var _db = db;
        var requests = Requests("node-a", 3);

        var first = await jobs.ClaimBatchAsync(requests, Lease, default);
        var again = await jobs.ClaimBatchAsync(requests, Lease, default);

        Assert.Equal(first.Select(c => (c!.JobId, c.Attempt)), again.Select(c => (c!.JobId, c.Attempt)));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(3L, await connection.ExecuteScalarAsync<long>("select count(*) from jobs where state = 'running'"));
        Assert.Equal(3L, await connection.ExecuteScalarAsync<long>("select count(*) from job_attempts"));
    }

    [Fact]
    public async Task Concurrent_batch_claims_never_hand_the_same_job_out_twice()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 10, seeds: 12);
        await using var _db = db;
        var claimed = new ConcurrentBag<(long JobId, int Attempt)>();

        var claimers = Enumerable.Range(0, 6).Select(c => Task.Run(async () =>
        {
            while (true)
            {
                var batch = await jobs.ClaimBatchAsync(Requests($"node-{c}", 1 + (c % 4) * 3), Lease, default);
                foreach (var job in batch.OfType<ClaimedJob>())
                {
                    claimed.Add((job.JobId, job.Attempt));
                }
                if (batch.All(j => j is null))
                {
                    return;
                }
            }
        })).ToArray();
        await Task.WhenAll(claimers);

        await AssertEachJobClaimedOnceAsync(db, claimed, 120);
    }

    /// <summary>Every job was handed out exactly once, at its first attempt, and PostgreSQL agrees.</summary>
    internal static async Task AssertEachJobClaimedOnceAsync(TestDatabase db, IReadOnlyCollection<(long JobId, int Attempt)> claimed, int jobs)
    {
        Assert.Equal(jobs, claimed.Count);
        Assert.Equal(jobs, claimed.Select(c => c.JobId).Distinct().Count());
        Assert.All(claimed, c => Assert.Equal(1, c.Attempt));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(jobs, await connection.ExecuteScalarAsync<long>("select count(*) from job_attempts"));
        Assert.Equal(jobs, await connection.ExecuteScalarAsync<long>("select count(*) from jobs where state = 'running' and attempt = 1"));
    }

    [Fact]
    public async Task Every_request_of_a_batch_needs_its_own_token()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 2);
        await using var _db = db;
        var token = Guid.NewGuid();

        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            jobs.ClaimBatchAsync([new ClaimRequest("node-a", "cpu:0", token), new ClaimRequest("node-a", "cpu:1", token)], Lease, default));
        Assert.Equal("requests", e.ParamName);
    }

    [Fact]
    public async Task One_renewal_per_worker_extends_the_current_attempts_and_names_the_fenced_ones()
    {
        var (db, jobs, _) = await SetUpAsync(folds: 4);
        await using var _db = db;
        var claimed = (await jobs.ClaimBatchAsync(Requests("node-a", 3), TimeSpan.FromSeconds(5), default)).Select(c => c!).ToArray();
        // The third job is lost and requeued (a new attempt elsewhere would fence this one off).
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("update jobs set state = 'queued', lease_expires_at = null where job_id = @JobId", new { claimed[2].JobId });

        var current = await jobs.RenewLeasesAsync(
            [new LeaseRenewal(claimed[0].JobId, 1, 2, 7), new LeaseRenewal(claimed[1].JobId, 1, null, null), new LeaseRenewal(claimed[2].JobId, 1, 1, 1),
             new LeaseRenewal(claimed[0].JobId, 2, null, null)],
            TimeSpan.FromMinutes(10), default);

        Assert.Equal(new HashSet<(long, int)> { (claimed[0].JobId, 1), (claimed[1].JobId, 1) }, current.ToHashSet());
        var rows = (await connection.QueryAsync<(long JobId, short? Stage, int? Epoch, double Left)>("""
            select job_id, stage, epoch, extract(epoch from lease_expires_at - now())::float8
            from jobs where state = 'running' order by job_id
            """)).ToList();
        Assert.Equal([(claimed[0].JobId, (short?)2, (int?)7), (claimed[1].JobId, null, null)], rows.Select(r => (r.JobId, r.Stage, r.Epoch)));
        Assert.All(rows, r => Assert.InRange(r.Left, 300, 600));
        Assert.Empty(await jobs.RenewLeasesAsync([], Lease, default));
    }
}
