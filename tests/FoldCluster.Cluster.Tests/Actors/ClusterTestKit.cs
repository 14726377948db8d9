using Akka.Configuration;
using FoldCluster.Cluster.Hosting;

namespace FoldCluster.Cluster.Tests.Actors;

/// <summary>A one-node cluster in the test process (the project's base.hocon, random port, TestKit logging).</summary>
public static class ClusterTestKit
{
    public static Config Config() =>
        ConfigurationFactory.ParseString("""
            akka.loggers = ["Akka.TestKit.TestEventListener, Akka.TestKit"]
            akka.loglevel = WARNING
            akka.remote.dot-netty.tcp.port = 0
            akka.cluster.roles = ["coordinator", "worker"]
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            # Every message between the test's actors goes through the project serializer, as on the wire.
            akka.actor.serialize-messages = on
            # serialize-messages also checks Akka's local-only internals, which only Newtonsoft can round-trip; this
            # in-process system has no listener a peer could reach, so its json is Akka's own again (nodes refuse it).
            akka.actor.serializers.json = "Akka.Serialization.NewtonSoftJsonSerializer, Akka"
            foldcluster.lease = 30s
            """).WithFallback(ConfigurationFactory.ParseString(ClusterConfigBuilder.BaseHocon()));

    public static OrchestrationSettings Settings(Akka.Actor.ActorSystem system) => OrchestrationSettings.From(system.Settings.Config);
}
