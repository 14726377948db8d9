using System.Globalization;
using System.Text.Json;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Cli.Tests;

public sealed class AnalysisCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("foldcluster-analysis-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * random.NextDouble());
    }

    private string WriteCsv(string name, IEnumerable<double[]> rows, string? header = null)
    {
        var path = Path.Combine(_folder, name);
        var lines = rows.Select(r => string.Join(',', r.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        File.WriteAllLines(path, header is null ? lines : lines.Prepend(header));
        return path;
    }

    [Fact]
    public async Task Tsne_writes_one_2d_row_per_input_row_and_the_same_file_for_the_same_seed()
    {
        var random = new Random(1);
        var rows = Enumerable.Range(0, 90).Select(i => Enumerable.Range(0, 5).Select(f => (i % 3 == f ? 10.0 : 0.0) + Gaussian(random)).ToArray()).ToArray();
        var input = WriteCsv("x.csv", rows, "a,b,c,d,e");
        var first = Path.Combine(_folder, "y1.csv");
        var second = Path.Combine(_folder, "y2.csv");

        var a = await CliProcess.RunAsync(["analysis", "tsne", "--in", input, "--out", first, "--perplexity", "10", "--seed", "3"]);
        var b = await CliProcess.RunAsync(["analysis", "tsne", "--in", input, "--out", second, "--perplexity", "10", "--seed", "3"]);

        Assert.Equal(0, a.ExitCode);
        Assert.Equal(0, b.ExitCode);
        var lines = File.ReadAllLines(first);
        Assert.Equal("tsne_1,tsne_2", lines[0]);
        Assert.Equal(91, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.Equal(2, l.Split(',').Length));
        Assert.Equal(File.ReadAllText(first), File.ReadAllText(second));
    }

    [Fact]
    public async Task Cca_json_gives_the_known_correlation_largest_first()
    {
        var random = new Random(2);
        var x = new List<double[]>();
        var y = new List<double[]>();
        for (var i = 0; i < 5000; i++)
        {
            var u = Gaussian(random);
            x.Add([u, Gaussian(random)]);
            y.Add([0.8 * u + 0.6 * Gaussian(random), Gaussian(random)]);
        }

        var result = await CliProcess.RunAsync(["analysis", "cca", "--x", WriteCsv("x.csv", x), "--y", WriteCsv("y.csv", y), "--json"]);

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var correlations = json.RootElement.GetProperty("correlations").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(2, correlations.Length);
        Assert.InRange(correlations[0], 0.78, 0.82);
        Assert.InRange(correlations[1], 0.0, 0.05);
        Assert.Equal(correlations.Sum(), json.RootElement.GetProperty("total").GetDouble(), 9);
    }

    [Fact]
    public async Task Mi_json_has_the_estimate_and_one_curve_value_per_step()
    {
        var random = new Random(3);
        var x = Enumerable.Range(0, 2000).Select(_ => new[] { Gaussian(random) }).ToArray();
        var y = x.Select(r => new[] { 0.9 * r[0] + Math.Sqrt(1 - 0.81) * Gaussian(random) }).ToArray();

        var result = await CliProcess.RunAsync(["analysis", "mi", "--x", WriteCsv("x.csv", x), "--y", WriteCsv("y.csv", y), "--steps", "400", "--json"]);

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var curve = json.RootElement.GetProperty("curve").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(400, curve.Length);
        Assert.Equal(curve[^1], json.RootElement.GetProperty("mi_nats").GetDouble(), 9);
        // True MI 0.83 nats; a short run already finds most of it.
        Assert.InRange(curve[^1], 0.4, 1.0);
    }

    [Fact]
    public async Task Unpaired_matrices_exit_2_naming_both_row_counts()
    {
        var x = WriteCsv("x.csv", Enumerable.Range(0, 10).Select(i => new[] { (double)i }));
        var y = WriteCsv("y.csv", Enumerable.Range(0, 12).Select(i => new[] { (double)i }));

        var result = await CliProcess.RunAsync(["analysis", "cca", "--x", x, "--y", y]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("10 rows", result.StandardError);
        Assert.Contains("12", result.StandardError);
    }

    [Fact]
    public async Task A_non_numeric_cell_exits_2_naming_line_and_column()
    {
        var path = Path.Combine(_folder, "bad.csv");
        File.WriteAllLines(path, ["1,2", "3,oops", "5,6"]);

        var result = await CliProcess.RunAsync(["analysis", "tsne", "--in", path, "--out", Path.Combine(_folder, "y.csv")]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("bad.csv:2: column 2 holds 'oops'", result.StandardError);
    }
}
