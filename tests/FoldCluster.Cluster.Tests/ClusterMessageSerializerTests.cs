using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Cluster.Messages;
using FoldCluster.Core;

namespace FoldCluster.Cluster.Tests;

public sealed class ClusterMessageSerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer-test",
        ConfigurationFactory.ParseString("""
            akka.loggers = ["Akka.Event.DefaultLogger"]
            akka.actor.provider = local
            """).WithFallback(ConfigurationFactory.ParseString(ClusterConfigBuilder.BaseHocon())));

    public static TheoryData<IClusterMessage> AllMessages()
    {
        var key = new JobKey("iemocap", "utterance", 3, "cmha", "AVT", true, "resnet50", 7, "tiny");
        var dataset = new DatasetSource("iemocap", "iemocap", "corpora/IEMOCAP", "w2v.bin", "resnet50", null, true);
        return new TheoryData<IClusterMessage>
        {
            new RegisterWorker("127.0.0.1:4053#12", "n1", ["cpu:0", "cpu:1"], [new SlotJob("cpu:1", 5, 2)]),
            new WorkerRegistered("abc123"),
            new RequestWork("127.0.0.1:4053#12", "cuda:1"),
            new JobAssigned("cpu:0", 42, 3, "sweep-a", key, dataset, new Dictionary<string, string> { ["epochs"] = "3" }, 30),
            new NoWorkAvailable("cpu:0"),
            new JobProgress("w", "cpu:0", 42, 3, new EpochReport(2, 4, 10, double.NaN, 0.5, 0.61)),
            new JobFinished("w", "cpu:0", 42, 3, true, 12.5),
            new JobFailed("w", "cpu:0", 42, 3, "corpus root missing: /data/x", false),
            new JobStopped("w", "cpu:0", 42, 3, "node leaving"),
            new CancelJob(42, 3, "sweep cancelled"),
        };
    }

    [Theory]
    [MemberData(nameof(AllMessages))]
    public void Every_message_round_trips_through_the_project_serializer(IClusterMessage message)
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<ClusterMessageSerializer>(serializer);
        Assert.Equal(4711, serializer.Identifier);

        var bytes = serializer.ToBinary(message);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var back = _system.Serialization.Deserialize(bytes, serializer.Identifier, manifest);

        Assert.IsType(message.GetType(), back);
        // Records holding lists compare lists by reference; compare their full JSON form instead.
        var json = new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
        Assert.Equal(JsonSerializer.Serialize(message, message.GetType(), json), JsonSerializer.Serialize(back, back.GetType(), json));
    }

    [Fact]
    public void Every_known_message_type_is_covered_by_the_round_trip_test()
    {
        var covered = ((IEnumerable<object[]>)AllMessages()).Select(row => row[0].GetType()).ToHashSet();
        Assert.Equal(ClusterMessageSerializer.KnownTypes.OrderBy(t => t.Name), covered.OrderBy(t => t.Name));
        var marked = typeof(IClusterMessage).Assembly.GetTypes()
            .Where(t => typeof(IClusterMessage).IsAssignableFrom(t) && !t.IsInterface).OrderBy(t => t.Name);
        Assert.Equal(marked, ClusterMessageSerializer.KnownTypes.OrderBy(t => t.Name));
    }

    [Fact]
    public void A_manifest_outside_the_table_is_refused()
    {
        var serializer = (ClusterMessageSerializer)_system.Serialization.FindSerializerForType(typeof(RequestWork));
        var bytes = """{"$type":"System.IO.FileInfo","fileName":"/etc/passwd"}"""u8.ToArray();
        var e = Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, "System.IO.FileInfo, System.IO"));
        Assert.Contains("unknown FoldCluster message manifest", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_bytes_are_refused_with_the_manifest_named()
    {
        var serializer = (ClusterMessageSerializer)_system.Serialization.FindSerializerForType(typeof(RequestWork));
        var e = Assert.Throws<SerializationException>(() => serializer.FromBinary("{not json"u8.ToArray(), "request-work"));
        Assert.Contains("request-work", e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}
