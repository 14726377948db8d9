using System.Collections.Concurrent;
using FoldCluster.Reports;
using Npgsql;

namespace FoldCluster.Dashboard;

/// <summary>One rendering of `foldcluster tables` for a sweep: the tables, every file (md, tex, csv, png) by name.</summary>
public sealed record TablesRendering(TablesOutcome Outcome, IReadOnlyDictionary<string, byte[]> Files, DateTime RenderedAtUtc);

/// <summary>
/// Builds the tables and figures exactly as `foldcluster tables --figures` does (through Reports, into a private
/// temporary folder that is read back and deleted) and keeps the last rendering per sweep until a result of the sweep
/// is stored or removed, so a page that is reloaded or several people watching do not redraw every figure.
/// </summary>
public sealed class TablesCache(NpgsqlDataSource dataSource, DashboardQueries queries)
{
    private readonly ConcurrentDictionary<(long, string?, string?), (string Stamp, TablesRendering Rendering)> _entries = new();
    private readonly SemaphoreSlim _render = new(1, 1);

    public async Task<TablesRendering> GetAsync(SweepOverview sweep, string? split, string? profile, CancellationToken ct)
    {
        var key = (sweep.SweepId, split, profile);
        var stamp = await queries.ResultStampAsync(sweep.SweepId, ct);
        if (_entries.TryGetValue(key, out var hit) && hit.Stamp == stamp)
        {
            return hit.Rendering;
        }
        // One rendering at a time: figures are CPU work, and a burst of reloads should wait for the first one.
        await _render.WaitAsync(ct);
        try
        {
            if (_entries.TryGetValue(key, out hit) && hit.Stamp == stamp)
            {
                return hit.Rendering;
            }
            var rendering = await RenderAsync(sweep, split, profile, ct);
            _entries[key] = (stamp, rendering);
            return rendering;
        }
        finally
        {
            _render.Release();
        }
    }

    private async Task<TablesRendering> RenderAsync(SweepOverview sweep, string? split, string? profile, CancellationToken ct)
    {
        var folder = Directory.CreateTempSubdirectory("foldcluster-dashboard-tables-");
        try
        {
            var outcome = await new TablesReport(dataSource).GenerateAsync(new TablesRequest
            {
                Sweep = sweep.SweepId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                OutputDirectory = folder.FullName,
                Split = split,
                Profile = profile,
                Figures = true,
            }, ct);
            var files = outcome.WrittenFiles.ToDictionary(f => Path.GetFileName(f)!, File.ReadAllBytes, StringComparer.Ordinal);
            return new TablesRendering(outcome, files, DateTime.UtcNow);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
