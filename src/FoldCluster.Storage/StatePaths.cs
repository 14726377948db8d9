namespace FoldCluster.Storage;

/// <summary>
/// The project-local state folder (embedded database, logs, caches of the local demo):
/// $FOLDCLUSTER_STATE if set, else `.foldcluster` in the nearest folder above the working directory that holds
/// FoldCluster.sln, else `.foldcluster` in the working directory. It holds the database password and the cached
/// features of licensed corpora, so it is private to its owner (0700).
/// </summary>
public static class StatePaths
{
    public const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

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

    /// <summary>Creates the state folder 0700, or sets an existing one to 0700; returns its path.</summary>
    public static string EnsurePrivate(string stateDirectory)
    {
        var full = Path.GetFullPath(stateDirectory);
        if (!OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(full, PrivateFolder);
            if (File.GetUnixFileMode(full) != PrivateFolder)
            {
                File.SetUnixFileMode(full, PrivateFolder);
            }
        }
        else
        {
            Directory.CreateDirectory(full);
        }
        return full;
    }
}
