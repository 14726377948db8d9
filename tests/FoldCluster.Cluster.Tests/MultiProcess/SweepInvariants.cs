using Dapper;
using Npgsql;
using Xunit.Abstractions;

namespace FoldCluster.Cluster.Tests.MultiProcess;

/// <summary>What every finished sweep must satisfy (DESIGN.md section 8).</summary>
public static class SweepInvariants
{
    /// <param name="predictionsPerJob">Predictions each job stores (the simulated trainer's 40; null: not checked).</param>
    public static void ExactlyOneResultPerJob(NpgsqlDataSource dataSource, long sweepId, int expectedJobs, int? predictionsPerJob = 40)
    {
        using var c = dataSource.OpenConnection();
        var states = c.Query<(string State, int N)>("select state, count(*)::int from jobs where sweep_id = @sweepId group by state", new { sweepId }).ToArray();
        Assert.Equal([("succeeded", expectedJobs)], states);
        // One results row per job (the primary key allows no more), and it is the job's final attempt.
        Assert.Equal(expectedJobs, c.ExecuteScalar<int>("""
            select count(*)::int from results r join jobs j using (job_id)
            where j.sweep_id = @sweepId and r.attempt = j.attempt
            """, new { sweepId }));
        // No attempt was stored twice, and no job has two successful attempts.
        Assert.Equal(0, c.ExecuteScalar<int>("""
            select count(*)::int from (
                select a.job_id from job_attempts a join jobs j using (job_id)
                where j.sweep_id = @sweepId and a.outcome = 'succeeded' group by a.job_id having count(*) <> 1) t
            """, new { sweepId }));
        if (predictionsPerJob is { } perJob)
        {
            Assert.Equal(expectedJobs * perJob, c.ExecuteScalar<int>(
                "select count(*)::int from predictions p join jobs j using (job_id) where j.sweep_id = @sweepId", new { sweepId }));
        }
    }
}

/// <summary>A test's output as a node-line sink: lines a dying process prints after the test has finished are dropped.</summary>
public static class TestEcho
{
    public static Action<string> To(ITestOutputHelper output) => line =>
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // the test has finished; late lines of a dying process are dropped
        }
    };
}
