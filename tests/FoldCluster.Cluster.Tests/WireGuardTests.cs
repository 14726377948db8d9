using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch.SysMsg;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Cluster.Messages;

namespace FoldCluster.Cluster.Tests;

/// <summary>
/// DESIGN.md section 8: only FoldCluster's messages and Akka's own system messages deserialize on a node; Akka's
/// polymorphic serializers keep their ids but refuse.
/// </summary>
public sealed class WireGuardTests : IDisposable
{
    // The node's own configuration layers (base.hocon and the options' overrides), on a random local port.
    private readonly ActorSystem _node = ActorSystem.Create(ClusterConfigBuilder.SystemName,
        ConfigurationFactory.ParseString("""
            akka.remote.dot-netty.tcp.port = 0
            akka.loggers = ["Akka.Event.DefaultLogger"]
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            """).WithFallback(ClusterConfigBuilder.Build(new NodeOptions(new HashSet<string> { "worker" }, "127.0.0.1", 1, null, [],
            ["cpu:0"], "Host=127.0.0.1", "/nonexistent", null, null, "simulated:1", "wire-guard-test"))));

    /// <summary>
    /// A serializer-id-1 payload naming StringBuilder (Newtonsoft's $type form, empty manifest), checked to be one that
    /// Akka's default configuration really turns into a StringBuilder: this is the hole being closed.
    /// </summary>
    private static (byte[] Bytes, int Id, string Manifest) StringBuilderPayload()
    {
        var bytes = """{"$type":"System.Text.StringBuilder, System.Private.CoreLib","Capacity":64}"""u8.ToArray();
        using var defaults = ActorSystem.Create("akka-defaults", "akka.loggers = [\"Akka.Event.DefaultLogger\"]");
        Assert.IsType<StringBuilder>(defaults.Serialization.Deserialize(bytes, 1, ""));
        defaults.Terminate().Wait(TimeSpan.FromSeconds(10));
        return (bytes, 1, "");
    }

    [Fact]
    public void A_serializer_id_1_payload_naming_StringBuilder_is_refused()
    {
        var (bytes, id, manifest) = StringBuilderPayload();
        Assert.Equal(1, id);
        Assert.Contains("System.Text.StringBuilder", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);

        var e = Assert.Throws<SerializationException>(() => _node.Serialization.Deserialize(bytes, id, manifest));
        Assert.Contains("refused a message for serializer id 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("System.Text.StringBuilder", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_is_serialized_with_a_polymorphic_serializer_either()
    {
        var e = Assert.Throws<SerializationException>(() => _node.Serialization.FindSerializerFor(new StringBuilder("x")).ToBinary(new StringBuilder("x")));
        Assert.Contains("System.Text.StringBuilder has no serializer on the FoldCluster wire", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, "System.Text.StringBuilder, System.Private.CoreLib")]
    [InlineData(3, "")]
    public void Protobuf_by_type_name_and_remote_deployment_are_refused(int id, string manifest)
    {
        var e = Assert.Throws<SerializationException>(() => _node.Serialization.Deserialize([1, 2, 3], id, manifest));
        Assert.Contains($"refused a message for serializer id {id}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Akka_messages_still_travel_but_a_Status_Failure_with_a_sender_named_exception_type_and_Kill_do_not()
    {
        var misc = _node.Serialization.FindSerializerFor(new Identify(42));
        Assert.IsType<GuardedMiscMessageSerializer>(misc);
        var identify = (Identify)_node.Serialization.Deserialize(misc.ToBinary(new Identify(42)), misc.Identifier, Akka.Serialization.Serialization.ManifestFor(misc, new Identify(42)));
        Assert.Equal(42, identify.MessageId);

        var failure = new Status.Failure(new InvalidOperationException("boom"));
        var bytes = misc.ToBinary(failure);
        var e = Assert.Throws<SerializationException>(() => _node.Serialization.Deserialize(bytes, misc.Identifier, Akka.Serialization.Serialization.ManifestFor(misc, failure)));
        Assert.Contains("Status.Failure", e.Message, StringComparison.Ordinal);

        var kill = Assert.Throws<SerializationException>(() => _node.Serialization.Deserialize(misc.ToBinary(Kill.Instance), misc.Identifier, Akka.Serialization.Serialization.ManifestFor(misc, Kill.Instance)));
        Assert.Contains("refused a Kill", kill.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Death_watch_crosses_nodes_but_supervision_of_remotely_deployed_actors_does_not()
    {
        var probe = _node.ActorOf(Props.Empty, "watched");
        var watch = new Watch((IInternalActorRef)probe, (IInternalActorRef)probe);
        var system = _node.Serialization.FindSerializerFor(watch);
        Assert.IsType<GuardedSystemMessageSerializer>(system);
        Assert.IsType<Watch>(_node.Serialization.Deserialize(system.ToBinary(watch), system.Identifier, Akka.Serialization.Serialization.ManifestFor(system, watch)));

        var failed = new Failed(probe, new InvalidOperationException("boom"), 1);
        var e = Assert.Throws<SerializationException>(() => _node.Serialization.Deserialize(system.ToBinary(failed), system.Identifier, Akka.Serialization.Serialization.ManifestFor(system, failed)));
        Assert.Contains("Akka.Dispatch.SysMsg.Failed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Untrusted_mode_is_on_and_only_the_cluster_s_own_selection_paths_are_trusted()
    {
        var config = _node.Settings.Config;
        Assert.True(config.GetBoolean("akka.remote.untrusted-mode"));
        Assert.Equal(["/system/cluster/core/daemon", "/system/cluster/heartbeatReceiver", "/system/remote-watcher",
            "/user/coordinator-manager", "/user/coordinator-manager/coordinator"], config.GetStringList("akka.remote.trusted-selection-paths"));
    }

    public void Dispose() => _node.Terminate().Wait(TimeSpan.FromSeconds(10));
}
