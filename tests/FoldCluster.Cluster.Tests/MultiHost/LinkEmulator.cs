using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace FoldCluster.Cluster.Tests.MultiHost;

/// <summary>
/// A slow, lossy Ethernet link in user space (the kernel here has no netem): two TAP devices, one of them the host's
/// cluster interface inside its namespace, the other a port of the cluster bridge, and this process copying frames
/// between them. Every frame, in both directions, is held for <see cref="Delay"/> and dropped with probability
/// <see cref="Loss"/> (a seeded generator per direction), so every packet of the host (ARP, TCP, its connections to
/// every peer) crosses the same delay and loss. Queues are bounded: a frame that finds its queue full is dropped and
/// counted. Needs root (CAP_NET_ADMIN) and /dev/net/tun.
/// </summary>
public sealed class LinkEmulator : IDisposable
{
    /// <summary>Frames a direction holds at most: more than 100 ms of the lab's traffic, a few MB at worst.</summary>
    public const int QueueCapacity = 4096;

    private readonly Direction _toHost;
    private readonly Direction _fromHost;
    private readonly int _hostFd;
    private readonly int _bridgeFd;
    private bool _disposed;

    private LinkEmulator(int hostFd, int bridgeFd, TimeSpan delay, double loss, int seed)
    {
        _hostFd = hostFd;
        _bridgeFd = bridgeFd;
        Delay = delay;
        Loss = loss;
        _fromHost = new Direction("host->bridge", hostFd, bridgeFd, delay, loss, seed);
        _toHost = new Direction("bridge->host", bridgeFd, hostFd, delay, loss, seed + 1);
    }

    /// <summary>One-way delay of every frame (the round trip through the link grows by twice this).</summary>
    public TimeSpan Delay { get; }

    public double Loss { get; }

    /// <summary>Frames read from either side.</summary>
    public long Frames => _fromHost.Frames + _toHost.Frames;

    /// <summary>Frames dropped at random (the emulated loss).</summary>
    public long Dropped => _fromHost.Dropped + _toHost.Dropped;

    /// <summary>Frames dropped because a queue was full (0 unless the link is flooded).</summary>
    public long Overflowed => _fromHost.Overflowed + _toHost.Overflowed;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Frames} frames, {Dropped} dropped at random ({(Frames == 0 ? 0 : 100.0 * Dropped / Frames):0.00} %), {Overflowed} dropped by a full queue");

    /// <summary>
    /// Creates the two TAP devices (named tapPrefix + "h" and + "b", at most 15 characters), puts the first into
    /// `hostNamespace` with `address` (a /24) as its interface, the second into `switchNamespace` as a port of
    /// `bridge`, and starts copying.
    /// </summary>
    public static LinkEmulator Start(string tapPrefix, string hostNamespace, string interfaceName, string address,
        string switchNamespace, string bridge, TimeSpan delay, double loss, int seed)
    {
        var hostTap = tapPrefix + "h";
        var bridgeTap = tapPrefix + "b";
        var hostFd = OpenTap(hostTap);
        int bridgeFd;
        try
        {
            bridgeFd = OpenTap(bridgeTap);
        }
        catch
        {
            _ = Native.close(hostFd);
            throw;
        }
        var link = new LinkEmulator(hostFd, bridgeFd, delay, loss, seed);
        try
        {
            // The descriptors stay attached to the devices when these move to other namespaces.
            NetworkLab.Ip("link", "set", hostTap, "netns", hostNamespace);
            NetworkLab.Ip("-n", hostNamespace, "link", "set", hostTap, "name", interfaceName);
            NetworkLab.Ip("-n", hostNamespace, "addr", "add", address + "/24", "dev", interfaceName);
            NetworkLab.Ip("-n", hostNamespace, "link", "set", interfaceName, "up");
            NetworkLab.Ip("link", "set", bridgeTap, "netns", switchNamespace);
            NetworkLab.Ip("-n", switchNamespace, "link", "set", bridgeTap, "master", bridge);
            NetworkLab.Ip("-n", switchNamespace, "link", "set", bridgeTap, "up");
            link._fromHost.Start();
            link._toHost.Start();
            return link;
        }
        catch
        {
            link.Dispose();
            throw;
        }
    }

    private static int OpenTap(string name)
    {
        if (Encoding.ASCII.GetByteCount(name) > 15)
        {
            throw new ArgumentException($"TAP device name '{name}' is longer than 15 characters", nameof(name));
        }
        var fd = Native.open("/dev/net/tun\0"u8.ToArray(), Native.O_RDWR);
        if (fd < 0)
        {
            throw new InvalidOperationException($"cannot open /dev/net/tun: errno {Marshal.GetLastPInvokeError()}");
        }
        // struct ifreq: the name (16 bytes, NUL-terminated), then the flags (a short) at offset 16, 40 bytes in all.
        var ifreq = new byte[40];
        Encoding.ASCII.GetBytes(name, ifreq);
        BinaryPrimitives.WriteInt16LittleEndian(ifreq.AsSpan(16), Native.IFF_TAP | Native.IFF_NO_PI);
        if (Native.ioctl(fd, Native.TUNSETIFF, ifreq) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _ = Native.close(fd);
            throw new InvalidOperationException($"TUNSETIFF {name} failed: errno {errno}");
        }
        return fd;
    }

    /// <summary>
    /// Round-trip times, in ms, from inside `fromNamespace` to `address`: each is the time a TCP connect to a port
    /// nobody listens on (9, discard) takes to be refused, one SYN out and one RST back (iputils ping may be absent).
    /// A connect whose SYN or RST was lost waits for the retransmission (about 1 s more); that sample is kept.
    /// </summary>
    public static IReadOnlyList<double> RoundTrips(string fromNamespace, string address, int count)
    {
        var samples = new List<double>();
        Exception? failure = null;
        // setns switches only the calling thread's network namespace: a thread of its own, ended afterwards.
        var thread = new Thread(() =>
        {
            try
            {
                using var ns = File.OpenHandle(Path.Combine("/run/netns", fromNamespace));
                if (Native.setns((int)ns.DangerousGetHandle(), Native.CLONE_NEWNET) != 0)
                {
                    throw new InvalidOperationException($"setns {fromNamespace} failed: errno {Marshal.GetLastPInvokeError()}");
                }
                var target = new System.Net.IPEndPoint(System.Net.IPAddress.Parse(address), 9);
                for (var i = 0; i < count; i++)
                {
                    using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                    var start = Stopwatch.GetTimestamp();
                    try
                    {
                        socket.Connect(target);
                        throw new InvalidOperationException($"{address}:9 accepted a connection; expected it refused");
                    }
                    catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused)
                    {
                        samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    }
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true, Name = "round trips from " + fromNamespace };
        thread.Start();
        thread.Join();
        return failure is null ? samples : throw new InvalidOperationException($"measuring round trips from {fromNamespace} to {address}: {failure.Message}", failure);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _fromHost.Stop();
        _toHost.Stop();
        // Closing the last descriptor of a non-persistent TAP device removes it (in whichever namespace it is).
        _ = Native.close(_hostFd);
        _ = Native.close(_bridgeFd);
    }

    /// <summary>One direction: a reader that stamps each frame with its due time, a writer that sends it then.</summary>
    private sealed class Direction(string name, int from, int to, TimeSpan delay, double loss, int seed)
    {
        private readonly Queue<(long Due, byte[] Frame)> _queue = new();
        private readonly Random _random = new(seed);
        private readonly long _delayTicks = (long)(delay.TotalSeconds * Stopwatch.Frequency);
        private readonly List<Thread> _threads = [];
        private volatile bool _stopping;
        private long _frames;
        private long _dropped;
        private long _overflowed;

        public long Frames => Interlocked.Read(ref _frames);

        public long Dropped => Interlocked.Read(ref _dropped);

        public long Overflowed => Interlocked.Read(ref _overflowed);

        public void Start()
        {
            foreach (var (loop, role) in new (ThreadStart, string)[] { (Read, "read"), (Write, "write") })
            {
                var thread = new Thread(loop) { IsBackground = true, Name = $"link {name} {role}" };
                _threads.Add(thread);
                thread.Start();
            }
        }

        public void Stop()
        {
            _stopping = true;
            lock (_queue)
            {
                Monitor.PulseAll(_queue);
            }
            foreach (var thread in _threads)
            {
                thread.Join();
            }
        }

        private void Read()
        {
            var buffer = new byte[65536];
            var poll = new Native.PollFd[] { new() { Fd = from, Events = Native.POLLIN } };
            while (!_stopping)
            {
                // Poll with a timeout so that Stop is seen without closing a descriptor under a blocked read.
                if (Native.poll(poll, 1, 100) <= 0 || (poll[0].Revents & Native.POLLIN) == 0)
                {
                    continue;
                }
                var n = Native.read(from, buffer, buffer.Length);
                if (n <= 0)
                {
                    continue;
                }
                Interlocked.Increment(ref _frames);
                if (_random.NextDouble() < loss)
                {
                    Interlocked.Increment(ref _dropped);
                    continue;
                }
                var frame = buffer.AsSpan(0, (int)n).ToArray();
                lock (_queue)
                {
                    if (_queue.Count >= QueueCapacity)
                    {
                        Interlocked.Increment(ref _overflowed);
                        continue;
                    }
                    _queue.Enqueue((Stopwatch.GetTimestamp() + _delayTicks, frame));
                    Monitor.Pulse(_queue);
                }
            }
        }

        private void Write()
        {
            while (true)
            {
                byte[] frame;
                lock (_queue)
                {
                    while (true)
                    {
                        if (_stopping)
                        {
                            return;
                        }
                        if (_queue.TryPeek(out var head))
                        {
                            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), head.Due);
                            if (wait <= TimeSpan.Zero)
                            {
                                frame = _queue.Dequeue().Frame;
                                break;
                            }
                            Monitor.Wait(_queue, wait);
                        }
                        else
                        {
                            Monitor.Wait(_queue);
                        }
                    }
                }
                // A frame the device refuses (it is down, its queue is full) is lost, as on a wire.
                _ = Native.write(to, frame, frame.Length);
            }
        }
    }

    private static class Native
    {
        public const int O_RDWR = 2;
        public const short IFF_TAP = 0x0002;
        public const short IFF_NO_PI = 0x1000;
        public const ulong TUNSETIFF = 0x400454ca;
        public const short POLLIN = 0x0001;

        [StructLayout(LayoutKind.Sequential)]
        public struct PollFd
        {
            public int Fd;
            public short Events;
            public short Revents;
        }

        [DllImport("libc", SetLastError = true)]
        public static extern int open(byte[] path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int ioctl(int fd, ulong request, byte[] argument);

        [DllImport("libc", SetLastError = true)]
        public static extern nint read(int fd, byte[] buffer, nint count);

        [DllImport("libc", SetLastError = true)]
        public static extern nint write(int fd, byte[] buffer, nint count);

        [DllImport("libc", SetLastError = true)]
        public static extern int poll([In, Out] PollFd[] fds, ulong count, int timeout);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);

        public const int CLONE_NEWNET = 0x40000000;

        [DllImport("libc", SetLastError = true)]
        public static extern int setns(int fd, int nstype);
    }
}
