namespace FoldCluster.Storage;

/// <summary>
/// The project-local state folder (embedded database, logs, caches of the local demo):
/// $FOLDCLUSTER_STATE if set, else `.foldcluster` in the nearest folder above the working directory that holds
/// FoldCluster.sln, else `.foldcluster` in the working directory.
/// </summary>
public static class StatePaths
{
    public static string StateDirectory()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("FOLDCLUSTER_STATE");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FoldCluster.sln")))
            {
                return Path.Combine(dir.FullName, ".foldcluster");
            }
        }
        return Path.Combine(Directory.GetCurrentDirectory(), ".foldcluster");
    }
}
