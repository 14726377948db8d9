using System.ComponentModel;
using System.Globalization;
using FoldCluster.Dashboard;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Dashboard;

public sealed class BenchDashboardSettings : DatabaseSettings
{
    [CommandOption("--jobs <N>")]
    [Description("Jobs in the throwaway sweep (default 100000).")]
    public int Jobs { get; init; } = 100_000;

    [CommandOption("--requests <N>")]
    [Description("Timed requests per page after the first (default 100).")]
    public int Requests { get; init; } = 100;

    [CommandOption("--json")]
    [Description("Last stdout line: {\"jobs\": N, \"sweep_page_p50_ms\": x, ...}.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Jobs is < 10 or > 1_000_000 ? ValidationResult.Error($"--jobs {Jobs} is out of range: expected 10 to 1000000")
        : Requests is < 5 or > 10_000 ? ValidationResult.Error($"--requests {Requests} is out of range: expected 5 to 10000")
        : ValidationResult.Success();
}

/// <summary>`foldcluster bench dashboard`: server time of the sweep page and the Table II page over a 100,000-job sweep.</summary>
public sealed class BenchDashboardCommand : Command<BenchDashboardSettings>
{
    public override int Execute(CommandContext context, BenchDashboardSettings settings, CancellationToken cancellationToken)
    {
        var r = DashboardBenchmark.RunAsync(settings.ConnectionString(), settings.Jobs, settings.Requests, line => Console.Error.WriteLine(line), cancellationToken)
            .GetAwaiter().GetResult();
        var target = DashboardBenchmark.TargetMilliseconds;
        foreach (var p in new[] { r.SweepPage, r.TablePage })
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{p.Page} page over {r.Jobs} jobs: first {p.FirstMs:F1} ms, then p50 {p.P50Ms:F1} ms, p99 {p.P99Ms:F1} ms over {p.Requests} requests ({p.Bytes / 1024} KiB); target < {target:F0} ms {(p.P99Ms < target ? "met" : "MISSED")}"));
        }
        if (settings.Json)
        {
            static double M(double v) => Math.Round(v, 2);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"jobs\": {r.Jobs}, \"requests\": {r.SweepPage.Requests}, \"sweep_page_first_ms\": {M(r.SweepPage.FirstMs)}, \"sweep_page_p50_ms\": {M(r.SweepPage.P50Ms)}, \"sweep_page_p99_ms\": {M(r.SweepPage.P99Ms)}, \"table2_page_first_ms\": {M(r.TablePage.FirstMs)}, \"table2_page_p50_ms\": {M(r.TablePage.P50Ms)}, \"table2_page_p99_ms\": {M(r.TablePage.P99Ms)}, \"seed_seconds\": {Math.Round(r.SeedSeconds, 2)}, \"target_ms\": {target}}}"));
        }
        return 0;
    }
}
