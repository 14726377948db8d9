namespace FoldCluster.Features.Tests;

/// <summary>
/// Fresh temporary folders for tests, under one folder per test process. The folder is removed when the process
/// exits normally; folders of earlier test processes that are gone (killed test hosts) are removed at start.
/// </summary>
internal static class TestFolders
{
    private const string Prefix = "fc-features-tests-";
    private static readonly string Root = Path.Combine(Path.GetTempPath(), $"{Prefix}{Environment.ProcessId}");

    static TestFolders()
    {
        foreach (var stale in Directory.EnumerateDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            if (int.TryParse(Path.GetFileName(stale)[Prefix.Length..], out var pid) && pid != Environment.ProcessId && !IsRunning(pid))
            {
                TryDelete(stale);
            }
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(Root);
    }

    public static string Create()
    {
        var dir = Path.Combine(Root, Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // best effort: a later test run removes it
        }
    }
}
