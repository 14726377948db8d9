using System.Globalization;
using FoldCluster.Core;
using FoldCluster.Core.Processes;

namespace FoldCluster.Features.Video;

/// <summary>
/// ffmpeg as a child process (DESIGN.md 4.3): decoding to raw rgb24 frames through a pipe, and encoding raw frames
/// (the generated corpus). The executable is "ffmpeg" on PATH unless FOLDCLUSTER_FFMPEG names another one.
/// </summary>
public static class Ffmpeg
{
    public static string Executable => Environment.GetEnvironmentVariable("FOLDCLUSTER_FFMPEG") is { Length: > 0 } p ? p : "ffmpeg";

    /// <summary>
    /// How long ffmpeg may go without producing a frame (decoding) or finishing (encoding) before it is killed: a
    /// stalled read (a hung network file system, a pipe nobody writes) must not hang the extraction forever.
    /// FOLDCLUSTER_FFMPEG_TIMEOUT (seconds) changes it.
    /// </summary>
    public static TimeSpan StallTimeout =>
        double.TryParse(Environment.GetEnvironmentVariable("FOLDCLUSTER_FFMPEG_TIMEOUT"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : TimeSpan.FromMinutes(2);

    /// <summary>
    /// Decodes the whole video at <paramref name="fps"/> frames per second, scaled to width x height, and yields frame k
    /// (time k / fps) as width*height*3 bytes. Throws <see cref="BadInputException"/> naming the file when ffmpeg fails.
    /// </summary>
    public static IEnumerable<byte[]> DecodeFrames(string path, double fps, int width, int height, CancellationToken ct) =>
        DecodeFrames(path, fps, width, height, StallTimeout, ct);

    /// <summary>The same, killing ffmpeg (and throwing <see cref="TimeoutException"/>) when no frame comes for <paramref name="stallTimeout"/>.</summary>
    public static IEnumerable<byte[]> DecodeFrames(string path, double fps, int width, int height, TimeSpan stallTimeout, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            throw new BadInputException($"{path}: video file not found");
        }
        var args = new List<string>
        {
            "-nostdin", "-v", "error", "-i", path, "-an", "-sn",
            "-vf", FormattableString.Invariant($"fps={fps},scale={width}:{height}:flags=bilinear"),
            "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
        };
        using var process = Start(args, redirectInput: false);
        var stdout = process.StandardOutput;
        int frameBytes = width * height * 3;
        int count = 0;
        var stalled = false;
        // Killing the process closes the pipe, so the blocked read below returns; the watchdog is re-armed per frame.
        using var watchdog = new Timer(_ =>
        {
            stalled = true;
            process.Kill();
        }, null, stallTimeout, Timeout.InfiniteTimeSpan);
        using var cancelled = ct.Register(() => watchdog.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        try
        {
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var frame = new byte[frameBytes];
                int read = stdout.ReadAtLeast(frame, frameBytes, throwOnEndOfStream: false);
                if (read < frameBytes)
                {
                    break;
                }
                count++;
                // The consumer's time with a frame is not ffmpeg's: the clock stops, and restarts with the next read.
                watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                yield return frame;
                watchdog.Change(stallTimeout, Timeout.InfiniteTimeSpan);
            }
        }
        finally
        {
            watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            process.Kill();
            process.WaitForExit(Timeout.InfiniteTimeSpan);
        }
        ct.ThrowIfCancellationRequested();
        if (stalled)
        {
            throw new TimeoutException($"{path}: ffmpeg produced no frame for {stallTimeout.TotalSeconds:0.#} s (after {count} frames); stopped it");
        }
        if (process.ExitCode != 0 || count == 0)
        {
            var firstLine = process.ErrorTail.Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "no frames decoded";
            throw new BadInputException($"{path}: cannot decode video: {firstLine}");
        }
    }

    /// <summary>Encodes raw rgb24 frames into an MPEG-4 Part 2 (DivX-like) AVI, bit-exact for a given input.</summary>
    public sealed class Encoder : IDisposable
    {
        private readonly ChildProcess process;
        private readonly string path;

        internal Encoder(string path, int width, int height, double fps)
        {
            this.path = path;
            var args = new List<string>
            {
                "-nostdin", "-v", "error", "-y",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", FormattableString.Invariant($"{width}x{height}"),
                "-r", fps.ToString(CultureInfo.InvariantCulture), "-i", "pipe:0",
                "-c:v", "mpeg4", "-q:v", "4", "-pix_fmt", "yuv420p", "-threads", "1",
                "-fflags", "+bitexact", "-flags", "+bitexact", path,
            };
            process = Start(args, redirectInput: true);
        }

        public void Write(ReadOnlySpan<byte> frame) => process.StandardInput.Write(frame);

        public void Finish()
        {
            process.CloseInput();
            var timeout = StallTimeout;
            if (!process.WaitForExit(timeout))
            {
                process.Kill();
                process.WaitForExit(Timeout.InfiniteTimeSpan);
                throw new TimeoutException($"ffmpeg did not finish encoding {path} within {timeout.TotalSeconds:0.#} s; stopped it");
            }
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"ffmpeg could not encode {path}: {string.Join('\n', process.ErrorTail).Trim()}");
            }
        }

        public void Dispose()
        {
            // Disposing kills an encoder that was not finished.
            process.Dispose();
        }
    }

    public static Encoder StartEncoder(string path, int width, int height, double fps) => new(path, width, height, fps);

    private static ChildProcess Start(List<string> args, bool redirectInput)
    {
        try
        {
            return ChildProcess.Start(new ChildProcessStart(Executable, args) { WriteInput = redirectInput, RawOutput = !redirectInput });
        }
        catch (ChildProcessStartException e)
        {
            throw new BadInputException($"cannot run '{Executable}' ({e.InnerException!.Message}): install ffmpeg (Debian package ffmpeg) or set FOLDCLUSTER_FFMPEG");
        }
    }
}
