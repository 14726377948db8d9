using System.Net;
using System.Net.Sockets;

namespace FoldCluster.Core.Processes;

/// <summary>Whether a TCP port can be listened on at an address.</summary>
public enum PortState
{
    Free,
    InUse,

    /// <summary>The address is not one of this machine's.</summary>
    AddressNotAvailable,
}

/// <summary>
/// The one place that asks the operating system about TCP ports for the servers the project starts (the embedded
/// PostgreSQL, cluster nodes, the dashboard): free ports picked by the system, and whether a given port is free.
/// </summary>
public static class TcpPorts
{
    /// <summary>
    /// <paramref name="count"/> distinct ports nothing listens on at <paramref name="address"/> (default 127.0.0.1), as
    /// the system gives them: all are held at once while picking, so none repeats.
    /// </summary>
    public static int[] Free(int count, IPAddress? address = null)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(address ?? IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var l in listeners)
            {
                l.Start();
            }
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var l in listeners)
            {
                l.Stop();
            }
        }
    }

    /// <summary>One free port at <paramref name="address"/> (default 127.0.0.1).</summary>
    public static int PickFree(IPAddress? address = null) => Free(1, address)[0];

    /// <summary>Tries to listen on <paramref name="port"/> at <paramref name="address"/> and lets go at once. Other socket errors are thrown.</summary>
    public static PortState Probe(IPAddress address, int port)
    {
        try
        {
            var listener = new TcpListener(address, port);
            listener.Start();
            listener.Stop();
            return PortState.Free;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return PortState.InUse;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            return PortState.AddressNotAvailable;
        }
    }

    /// <summary>True when a server could listen on <paramref name="port"/> at <paramref name="address"/> now.</summary>
    public static bool IsFree(IPAddress address, int port)
    {
        try
        {
            return Probe(address, port) == PortState.Free;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
