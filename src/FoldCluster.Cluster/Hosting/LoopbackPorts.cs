using FoldCluster.Core.Processes;

namespace FoldCluster.Cluster.Hosting;

/// <summary>Free TCP ports on 127.0.0.1 for local node processes (benchmarks and tests); <see cref="TcpPorts"/> picks them.</summary>
public static class LoopbackPorts
{
    /// <summary>Asks the OS for <paramref name="count"/> distinct free ports (all held at once, so none repeats).</summary>
    public static int[] Free(int count) => TcpPorts.Free(count);
}
