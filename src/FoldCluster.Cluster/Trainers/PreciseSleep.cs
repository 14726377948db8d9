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

    /// <summary>
    /// Asks the kernel to wake this thread's timed waits on time (timer slack 1 ns instead of 50 us): a simulated job
    /// is a few timed waits, and the slack of its last one was added to every job.
    /// </summary>
    public static void WakeOnTime()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = prctl(PrSetTimerSlack, 1, 0, 0, 0);
        }
    }

    private const int PrSetTimerSlack = 29;

    [DllImport("libc", SetLastError = true)]
    private static extern int nanosleep(ref Timespec request, IntPtr remaining);

    [DllImport("libc", SetLastError = true)]
    private static extern int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);
}
