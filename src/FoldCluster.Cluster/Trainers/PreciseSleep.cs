using System.Runtime.InteropServices;

namespace FoldCluster.Cluster.Trainers;

/// <summary>Sleeps for less than a millisecond without spinning (Linux: nanosleep; elsewhere one millisecond).</summary>
internal static class PreciseSleep
{
    public static void For(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return;
        }
        if (!OperatingSystem.IsLinux())
        {
            Thread.Sleep(1);
            return;
        }
        var nanoseconds = duration.Ticks * 100;
        var request = new Timespec(nanoseconds / 1_000_000_000, nanoseconds % 1_000_000_000);
        // An interrupted sleep (EINTR) ends early; the caller's loop waits for the rest.
        _ = nanosleep(ref request, IntPtr.Zero);
    }

    [StructLayout(LayoutKind.Sequential)]
    private record struct Timespec(long Seconds, long Nanoseconds);

    [DllImport("libc", SetLastError = true)]
    private static extern int nanosleep(ref Timespec request, IntPtr remaining);
}
