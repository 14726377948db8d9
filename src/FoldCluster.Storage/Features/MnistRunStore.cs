using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace FoldCluster.Storage.Features;

/// <summary>The settings and outcome of one MNIST run as stored (sql/0006); <see cref="RunId"/> is 0 until stored.</summary>
public sealed record MnistRunRecord(
    long RunId,
    DateTime CreatedAt,
    string Source,
    int Seed,
    int Epochs,
    int TrainPerChannel,
    int TestPerChannel,
    int Latent,
    int Heads,
    int BatchSize,
    double LearningRate,
    double WeightDecay,
    double Seconds,
    double[] EpochLosses,
    IReadOnlyList<MnistChannelRecord> Channels);

/// <summary>One channel: its digits, test MSE per pixel (trained, untrained, mean training image) and its kept test digits.</summary>
public sealed record MnistChannelRecord(int Channel, int[] Digits, double TestMse, double UntrainedMse, double MeanImageMse, IReadOnlyList<MnistSampleRecord> Samples);

/// <summary>A kept test digit: its class, its index in the package's class file, its 784 input pixels and the model's reconstruction.</summary>
public sealed record MnistSampleRecord(int Position, int Digit, int SourceIndex, float[] Input, float[] Output);

/// <summary>Fig. 6's runs (tables mnist_runs, mnist_channels, mnist_samples): written in one transaction, deleted with their run.</summary>
public sealed class MnistRunStore(NpgsqlDataSource dataSource)
{
    public async Task<long> StoreAsync(MnistRunRecord run, CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var runId = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            insert into mnist_runs (source, seed, epochs, train_per_channel, test_per_channel, latent, heads, batch_size,
                                    learning_rate, weight_decay, seconds, epoch_losses)
            values (@Source, @Seed, @Epochs, @TrainPerChannel, @TestPerChannel, @Latent, @Heads, @BatchSize,
                    @LearningRate, @WeightDecay, @Seconds, @EpochLosses)
            returning run_id
            """, new { run.Source, run.Seed, run.Epochs, run.TrainPerChannel, run.TestPerChannel, run.Latent, run.Heads, run.BatchSize, run.LearningRate, run.WeightDecay, run.Seconds, run.EpochLosses },
            transaction, cancellationToken: ct)).ConfigureAwait(false);
        foreach (var channel in run.Channels)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                insert into mnist_channels (run_id, channel, digits, test_mse, untrained_mse, mean_image_mse)
                values (@runId, @Channel, @Digits, @TestMse, @UntrainedMse, @MeanImageMse)
                """, new { runId, Channel = (short)channel.Channel, Digits = channel.Digits.Select(d => (short)d).ToArray(), channel.TestMse, channel.UntrainedMse, channel.MeanImageMse },
                transaction, cancellationToken: ct)).ConfigureAwait(false);
        }
        await using (var import = await connection.BeginBinaryImportAsync(
            "copy mnist_samples (run_id, channel, position, digit, source_index, input, output) from stdin (format binary)", ct).ConfigureAwait(false))
        {
            foreach (var channel in run.Channels)
            {
                foreach (var s in channel.Samples)
                {
                    await import.StartRowAsync(ct).ConfigureAwait(false);
                    await import.WriteAsync(runId, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                    await import.WriteAsync((short)channel.Channel, NpgsqlDbType.Smallint, ct).ConfigureAwait(false);
                    await import.WriteAsync((short)s.Position, NpgsqlDbType.Smallint, ct).ConfigureAwait(false);
                    await import.WriteAsync((short)s.Digit, NpgsqlDbType.Smallint, ct).ConfigureAwait(false);
                    await import.WriteAsync(s.SourceIndex, NpgsqlDbType.Integer, ct).ConfigureAwait(false);
                    await import.WriteAsync(s.Input, NpgsqlDbType.Array | NpgsqlDbType.Real, ct).ConfigureAwait(false);
                    await import.WriteAsync(s.Output, NpgsqlDbType.Array | NpgsqlDbType.Real, ct).ConfigureAwait(false);
                }
            }
            await import.CompleteAsync(ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return runId;
    }

    /// <summary>The newest stored run with exactly the settings of <paramref name="settings"/> (its outcome fields are ignored) and as many kept digits, or null.</summary>
    public async Task<long?> FindAsync(MnistRunRecord settings, int samplesPerChannel, CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long?>(new CommandDefinition("""
            select max(run_id) from mnist_runs
            where source = @Source and seed = @Seed and epochs = @Epochs and train_per_channel = @TrainPerChannel
              and test_per_channel = @TestPerChannel and latent = @Latent and heads = @Heads and batch_size = @BatchSize
              and learning_rate = @LearningRate and weight_decay = @WeightDecay
              and (select count(*) from mnist_samples s where s.run_id = mnist_runs.run_id) = 3 * @Samples
            """, new { settings.Source, settings.Seed, settings.Epochs, settings.TrainPerChannel, settings.TestPerChannel, settings.Latent, settings.Heads,
                       settings.BatchSize, settings.LearningRate, settings.WeightDecay, Samples = samplesPerChannel },
            cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>The newest stored run, or null when there is none.</summary>
    public async Task<MnistRunRecord?> LatestAsync(CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        var id = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "select max(run_id) from mnist_runs", cancellationToken: ct)).ConfigureAwait(false);
        return id is { } runId ? await ReadAsync(runId, ct).ConfigureAwait(false) : null;
    }

    /// <summary>One run with its channels and kept digits, or null when it does not exist.</summary>
    public async Task<MnistRunRecord?> ReadAsync(long runId, CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        var run = await connection.QuerySingleOrDefaultAsync<RunRow>(new CommandDefinition("""
            select run_id as RunId, created_at as CreatedAt, source as Source, seed as Seed, epochs as Epochs,
                   train_per_channel as TrainPerChannel, test_per_channel as TestPerChannel, latent as Latent, heads as Heads,
                   batch_size as BatchSize, learning_rate as LearningRate, weight_decay as WeightDecay, seconds as Seconds,
                   epoch_losses as EpochLosses
            from mnist_runs where run_id = @runId
            """, new { runId }, cancellationToken: ct)).ConfigureAwait(false);
        if (run is null)
        {
            return null;
        }
        var channels = (await connection.QueryAsync<(short Channel, short[] Digits, double TestMse, double UntrainedMse, double MeanImageMse)>(new CommandDefinition(
            "select channel, digits, test_mse, untrained_mse, mean_image_mse from mnist_channels where run_id = @runId order by channel",
            new { runId }, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var samples = (await connection.QueryAsync<(short Channel, short Position, short Digit, int SourceIndex, float[] Input, float[] Output)>(new CommandDefinition(
            "select channel, position, digit, source_index, input, output from mnist_samples where run_id = @runId order by channel, position",
            new { runId }, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        return new MnistRunRecord(run.RunId, DateTime.SpecifyKind(run.CreatedAt, DateTimeKind.Utc), run.Source, run.Seed, run.Epochs, run.TrainPerChannel, run.TestPerChannel,
            run.Latent, run.Heads, run.BatchSize, run.LearningRate, run.WeightDecay, run.Seconds, run.EpochLosses,
            channels.Select(c => new MnistChannelRecord(c.Channel, c.Digits.Select(d => (int)d).ToArray(), c.TestMse, c.UntrainedMse, c.MeanImageMse,
                samples.Where(s => s.Channel == c.Channel).Select(s => new MnistSampleRecord(s.Position, s.Digit, s.SourceIndex, s.Input, s.Output)).ToList())).ToList());
    }

    /// <summary>Deletes a run with its channels and kept digits; false when it does not exist.</summary>
    public async Task<bool> DeleteAsync(long runId, CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition("delete from mnist_runs where run_id = @runId", new { runId }, cancellationToken: ct)).ConfigureAwait(false) > 0;
    }

    private sealed class RunRow
    {
        public long RunId { get; init; }
        public DateTime CreatedAt { get; init; }
        public string Source { get; init; } = "";
        public int Seed { get; init; }
        public int Epochs { get; init; }
        public int TrainPerChannel { get; init; }
        public int TestPerChannel { get; init; }
        public int Latent { get; init; }
        public int Heads { get; init; }
        public int BatchSize { get; init; }
        public double LearningRate { get; init; }
        public double WeightDecay { get; init; }
        public double Seconds { get; init; }
        public double[] EpochLosses { get; init; } = [];
    }
}
