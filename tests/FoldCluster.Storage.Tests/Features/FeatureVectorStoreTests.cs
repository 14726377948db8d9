using Dapper;
using FoldCluster.Core;
using FoldCluster.Core.Sweeps;
using FoldCluster.Storage.Jobs;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Storage.Tests.Features;

public sealed class FeatureVectorStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private static TrainingOutcome Outcome(double ua, float marker) => new(
        new ClassificationMetrics(ua, 0.6, 0.55, 0.58, [[3, 1, 0, 0], [0, 4, 0, 1], [1, 0, 2, 0], [0, 0, 1, 5]]),
        BestEpoch: 4,
        Seconds: 12.5,
        [new UtterancePrediction("utt0", Emotion.Angry, Emotion.Angry), new UtterancePrediction("utt1", Emotion.Sad, Emotion.Happy)],
        [])
    {
        Features =
        [
            new FeatureVector("utt0", FeatureKinds.FusedStage2, [marker, 1, 2]),
            new FeatureVector("utt1", FeatureKinds.FusedStage2, [marker, 3, 4]),
            new FeatureVector("utt0", FeatureKinds.Input("audio"), [marker, 5]),
            new FeatureVector("utt1", FeatureKinds.Input("audio"), [marker, 6]),
        ],
    };

    private static SweepSpec Spec(string name) => TestSpecs.Small(name: name, folds: 2) with { StoreFeatures = StoredFeatureLevel.All };

    [Fact]
    public async Task Claimed_job_of_the_storing_fold_is_asked_for_its_features_and_the_others_are_not()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new SweepStore(db.DataSource).SubmitAsync(Spec("storing"), "test");
        var jobs = new JobStore(db.DataSource);

        var first = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        var second = (await jobs.ClaimNextAsync("node-a", "cpu:1", Lease, default))!;

        Assert.Equal(0, first.Key.Fold);
        Assert.Equal("all", first.TrainingOverrides[FeatureKinds.OverrideKey]);
        Assert.Equal(1, second.Key.Fold);
        Assert.False(second.TrainingOverrides.ContainsKey(FeatureKinds.OverrideKey));
    }

    [Fact]
    public async Task Features_are_stored_with_the_result_and_a_stale_attempts_features_are_rejected()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new SweepStore(db.DataSource).SubmitAsync(Spec("fenced"), "test");
        var jobs = new JobStore(db.DataSource);
        var stale = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        await jobs.RequeueWorkerAsync("node-a", "node-a unreachable", default);
        var current = (await jobs.ClaimNextAsync("node-b", "cpu:0", Lease, default))!;
        Assert.Equal(stale.JobId, current.JobId);

        Assert.Equal(StoreResultOutcome.RejectedStale, await jobs.StoreResultAsync(stale.JobId, stale.Attempt, Outcome(0.9, marker: 111), default));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*)::int from feature_vectors"));

        Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(current.JobId, current.Attempt, Outcome(0.6, marker: 222), default));
        Assert.Equal(StoreResultOutcome.RejectedStale, await jobs.StoreResultAsync(stale.JobId, stale.Attempt, Outcome(0.9, marker: 111), default));

        var rows = (await connection.QueryAsync<(string Utterance, string Kind, float[] Vec)>(
            "select utterance_id, kind, vec from feature_vectors order by kind, utterance_id")).ToList();
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.Equal(222f, r.Vec[0]));
        Assert.Equal(("utt1", "fused.stage2"), (rows[1].Utterance, rows[1].Kind));
        Assert.Equal([222f, 3, 4], rows[1].Vec);
        Assert.Equal([222f, 5], rows[2].Vec);
    }

    [Fact]
    public async Task Features_are_deleted_with_their_sweep_and_other_sweeps_keep_theirs()
    {
        await using var db = await TestDatabase.CreateAsync();
        var sweeps = new SweepStore(db.DataSource);
        await sweeps.SubmitAsync(Spec("doomed"), "test");
        await sweeps.SubmitAsync(Spec("kept"), "test");
        var jobs = new JobStore(db.DataSource);
        for (var i = 0; i < 4; i++)
        {
            var job = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
            Assert.Equal(StoreResultOutcome.Stored, await jobs.StoreResultAsync(job.JobId, job.Attempt, Outcome(0.5, marker: i), default));
        }
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(16, await connection.ExecuteScalarAsync<int>("select count(*)::int from feature_vectors"));

        await sweeps.DeleteAsync("doomed");

        Assert.Equal(8, await connection.ExecuteScalarAsync<int>("select count(*)::int from feature_vectors"));
        Assert.Equal(["kept"], (await connection.QueryAsync<string>("""
            select distinct s.name from feature_vectors f join jobs j using (job_id) join sweeps s using (sweep_id)
            """)).ToList());
    }

    [Fact]
    public async Task A_vector_of_unknown_kind_is_refused_before_anything_is_written()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new SweepStore(db.DataSource).SubmitAsync(Spec("checked"), "test");
        var jobs = new JobStore(db.DataSource);
        var job = (await jobs.ClaimNextAsync("node-a", "cpu:0", Lease, default))!;
        var outcome = Outcome(0.5, marker: 1) with { Features = [new FeatureVector("utt0", "fused.stage3", [1f])] };

        var e = await Assert.ThrowsAsync<ArgumentException>(() => jobs.StoreResultAsync(job.JobId, job.Attempt, outcome, default));

        Assert.Contains("'fused.stage3' is not known", e.Message);
        Assert.True(await jobs.IsCurrentAsync(job.JobId, job.Attempt, default));
    }
}
