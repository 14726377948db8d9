using FoldCluster.Storage;
using Npgsql;

namespace FoldCluster.Cli.Commands;

/// <summary>Opens the result database for a sweep verb and brings its schema up to date first.</summary>
internal static class SweepDatabase
{
    public static async Task<NpgsqlDataSource> OpenAsync(DatabaseSettings settings, CancellationToken ct)
    {
        var dataSource = Database.CreateDataSource(settings.ConnectionString(), "foldcluster-sweep");
        try
        {
            await MigrationRunner.MigrateAsync(dataSource, MigrationRunner.Embedded(), line => Console.Error.WriteLine(line), ct);
            return dataSource;
        }
        catch
        {
            await dataSource.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls during --wait / --watch ride out a database restart instead of ending the display.</summary>
    public static Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> work, CancellationToken ct) =>
        DbRetry.RunAsync(work, new DbRetryOptions { MaxElapsed = TimeSpan.FromMinutes(10) }, line => Console.Error.WriteLine(line), ct);
}
