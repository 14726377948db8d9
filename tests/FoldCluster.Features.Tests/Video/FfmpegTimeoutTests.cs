using System.Diagnostics;
using FoldCluster.Features.Video;

namespace FoldCluster.Features.Tests.Video;

public sealed class FfmpegTimeoutTests
{
    [Fact]
    public void A_decode_that_stalls_is_stopped_after_the_stall_timeout_with_the_cause()
    {
        // A named pipe nobody writes to: ffmpeg opens it and waits for data forever, as on a hung network mount.
        var fifo = Path.Combine(TestFolders.Create(), "stalled.avi");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<TimeoutException>(() =>
            Ffmpeg.DecodeFrames(fifo, 2, 32, 32, TimeSpan.FromSeconds(2), CancellationToken.None).Count());

        Assert.Equal($"{fifo}: ffmpeg produced no frame for 2 s (after 0 frames); stopped it", error.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
    }
}
