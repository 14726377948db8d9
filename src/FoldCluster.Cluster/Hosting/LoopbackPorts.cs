using System.Net;
using System.Net.Sockets;

namespace FoldCluster.Cluster.Hosting;

/// <summary>Free TCP ports on 127.0.0.1 for local node processes (benchmarks and tests).</summary>
public static class LoopbackPorts
{
    /// <summary>Asks the OS for <paramref name="count"/> distinct free ports (all held at once, so none repeats).</summary>
    public static int[] Free(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        foreach (var l in listeners)
        {
            l.Start();
        }
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners)
        {
            l.Stop();
        }
        return ports;
    }
}
