using System.Net;
using System.Net.Sockets;
using FoldCluster.Core.Processes;

namespace FoldCluster.Core.Tests.Processes;

public class TcpPortsTests
{
    [Fact]
    public void Free_ports_are_distinct_and_free()
    {
        var ports = TcpPorts.Free(4);

        Assert.Equal(4, ports.Distinct().Count());
        Assert.All(ports, p => Assert.InRange(p, 1, 65535));
        Assert.All(ports, p => Assert.True(TcpPorts.IsFree(IPAddress.Loopback, p), $"port {p}"));
        Assert.InRange(TcpPorts.PickFree(), 1, 65535);
    }

    [Fact]
    public void A_port_another_program_listens_on_is_in_use()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        var port = ((IPEndPoint)holder.LocalEndPoint!).Port;

        Assert.Equal(PortState.InUse, TcpPorts.Probe(IPAddress.Loopback, port));
        Assert.False(TcpPorts.IsFree(IPAddress.Loopback, port));

        holder.Close();
        Assert.True(TcpPorts.IsFree(IPAddress.Loopback, port));
    }

    [Fact]
    public void An_address_of_another_machine_is_not_available()
    {
        // 192.0.2.0/24 is reserved for documentation (RFC 5737): never an address of this machine.
        Assert.Equal(PortState.AddressNotAvailable, TcpPorts.Probe(IPAddress.Parse("192.0.2.1"), 0));
        Assert.False(TcpPorts.IsFree(IPAddress.Parse("192.0.2.1"), 0));
    }
}
