namespace FoldCluster.Features.Tests;

/// <summary>Fresh temporary folders for tests; removed when the test process ends.</summary>
internal static class TestFolders
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), $"fc-features-tests-{Environment.ProcessId}");

    static TestFolders()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
                // best effort
            }
        };
    }

    public static string Create()
    {
        var dir = Path.Combine(Root, Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
