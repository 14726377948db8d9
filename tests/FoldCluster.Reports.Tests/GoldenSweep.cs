using Dapper;
using FoldCluster.Storage;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Reports.Tests;

/// <summary>A fresh database seeded from Fixtures/golden-sweep.sql (sweeps 'golden' and 'waiting').</summary>
internal static class GoldenSweep
{
    public static string FixturePath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "golden-sweep.sql");

    public static async Task<TestDatabase> CreateAsync()
    {
        var database = await TestDatabase.CreateAsync();
        await using var connection = await Database.OpenAsync(database.DataSource);
        await connection.ExecuteAsync(await File.ReadAllTextAsync(FixturePath));
        return database;
    }

    /// <summary>A scratch folder under the test output, emptied first.</summary>
    public static string ScratchDirectory(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "scratch", name);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        Directory.CreateDirectory(path);
        return path;
    }
}
