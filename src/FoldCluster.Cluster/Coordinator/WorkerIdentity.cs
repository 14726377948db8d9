using System.Globalization;
using Akka.Cluster;

namespace FoldCluster.Cluster.Coordinator;

/// <summary>
/// A worker's name in PostgreSQL (jobs.worker): host:port#uid of its cluster node. The uid makes a restarted
/// process on the same port a different worker, so requeueing the dead one never touches the new one's jobs.
/// </summary>
public static class WorkerIdentity
{
    public static string Of(UniqueAddress node) =>
        $"{node.Address.Host}:{node.Address.Port?.ToString(CultureInfo.InvariantCulture)}#{node.Uid.ToString(CultureInfo.InvariantCulture)}";
}
