using FoldCluster.Cluster.Hosting;
using FoldCluster.Core;

namespace FoldCluster.Cluster.Tests;

public sealed class NetworkPolicyTests
{
    private static NodeOptions Node(string host) =>
        new(new HashSet<string> { "worker" }, host, 4100, null, [new SeedNode("10.0.0.1", 4100)], ["cpu:0"], "Host=x", "cache", null, null, "simulated:1", "n");

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.0.0.7", true)]
    [InlineData("::1", true)]
    [InlineData("localhost", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::", false)]
    [InlineData("10.0.0.1", false)]
    public void Only_loopback_addresses_count_as_loopback(string host, bool loopback) =>
        Assert.Equal(loopback, NetworkPolicy.IsLoopback(host));

    [Fact]
    public void A_non_loopback_bind_needs_TLS_or_an_explicit_insecure_network()
    {
        var e = Assert.Throws<BadInputException>(() => NetworkPolicy.Check(Node("10.0.0.1"), _ => { }));
        Assert.StartsWith("--host 10.0.0.1 is not a loopback address, and nodes beyond loopback need mutual TLS", e.Message, StringComparison.Ordinal);

        var lines = new List<string>();
        NetworkPolicy.Check(Node("10.0.0.1") with { InsecureNetwork = true }, lines.Add);
        Assert.StartsWith("WARNING: --insecure-network: remoting listens on 10.0.0.1:4100 as plain TCP without authentication", Assert.Single(lines), StringComparison.Ordinal);

        NetworkPolicy.Check(Node("10.0.0.1") with { TlsPath = "/certs/node.pfx" }, lines.Add);
        NetworkPolicy.Check(Node("127.0.0.1"), lines.Add);
        Assert.Single(lines);
    }

    [Fact]
    public void With_TLS_the_seeds_and_the_transport_use_the_ssl_scheme()
    {
        var config = ClusterConfigBuilder.Build(Node("10.0.0.2") with { TlsPath = "/certs/node.pfx" });
        Assert.Equal(["akka.ssl.tcp://foldcluster@10.0.0.1:4100"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("/certs/node.pfx", config.GetString("foldcluster.tls.path"));

        var plain = ClusterConfigBuilder.Build(Node("127.0.0.1"));
        Assert.Equal(["akka.tcp://foldcluster@10.0.0.1:4100"], plain.GetStringList("akka.cluster.seed-nodes"));
        Assert.False(plain.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
    }
}
