using FoldCluster.Cluster.Hosting;
using FoldCluster.Core;

namespace FoldCluster.Cluster.Tests;

public sealed class NodeOptionsTests
{
    [Fact]
    public void Cpu_slots_are_numbered_and_gpu_slots_keep_their_device()
    {
        Assert.Equal(["cpu:0", "cpu:1", "cpu:2"], SlotSpec.Parse("cpu:3"));
        Assert.Equal(["cuda:0", "cuda:1"], SlotSpec.Parse("cuda:0, cuda:1"));
        Assert.Equal("cpu", SlotSpec.Device("cpu:2"));
        Assert.Equal("cuda:1", SlotSpec.Device("cuda:1"));
    }

    [Fact]
    public void Several_slots_on_one_gpu_get_distinct_names_on_that_device()
    {
        var two = SlotSpec.Parse("cuda:0x2");
        Assert.Equal(["cuda:0/0", "cuda:0/1"], two);
        Assert.All(two, slot => Assert.Equal("cuda:0", SlotSpec.Device(slot)));
        var eight = SlotSpec.Parse("cuda:0x4,cuda:1x4");
        Assert.Equal(8, eight.Distinct().Count());
        Assert.Equal([("cuda:0", 4), ("cuda:1", 4)], eight.GroupBy(SlotSpec.Device).Select(g => (g.Key, g.Count())));
        Assert.Equal(["cuda:0/0", "cuda:0/1", "cuda:1"], SlotSpec.Parse("cuda:0x2,cuda:1"));
        Assert.Equal(64, SlotSpec.Parse("cuda:3x64").Count);
        Assert.Equal(64, SlotSpec.Parse("cpu:64").Count);
    }

    [Fact]
    public void Threads_per_slot_count_only_cpu_slots()
    {
        // GPU slots do not share the CPU's cores out (no environment override is set in the test run).
        Assert.Null(Environment.GetEnvironmentVariable("FOLDCLUSTER_THREADS_PER_SLOT"));
        var cores = Environment.ProcessorCount;
        Assert.Equal(Math.Max(1, cores / 2), FoldCluster.Cli.Commands.Cluster.RealTrainer.ThreadsPerSlot(SlotSpec.Parse("cpu:2")));
        Assert.Equal(cores, FoldCluster.Cli.Commands.Cluster.RealTrainer.ThreadsPerSlot(SlotSpec.Parse("cuda:0x4,cuda:1x4")));
    }

    [Theory]
    [InlineData("gpu:1")]
    [InlineData("cpu:0")]
    [InlineData("cpu:x")]
    [InlineData("cuda:0,cuda:0")]
    [InlineData("cpu:2,cuda:0")]
    [InlineData("cuda:0x0")]
    [InlineData("cuda:x2")]
    [InlineData("cuda:0x2,cuda:0")]
    [InlineData("cuda:0x65")]
    [InlineData("cuda:0x")]
    [InlineData("cuda:0x2x2")]
    [InlineData("cuda:0/1")]
    [InlineData("")]
    public void Bad_slot_syntax_is_refused_listing_what_is_allowed(string text)
    {
        var e = Assert.Throws<BadInputException>(() => SlotSpec.Parse(text));
        Assert.Contains("cpu:N", e.Message, StringComparison.Ordinal);
        Assert.Contains("cuda:0,cuda:1", e.Message, StringComparison.Ordinal);
        Assert.Contains("cuda:0x4,cuda:1x4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_role_is_refused_listing_the_allowed_roles()
    {
        Assert.Equal(new HashSet<string> { "coordinator", "worker" }, NodeOptions.ParseRoles("Worker, coordinator"));
        var e = Assert.Throws<BadInputException>(() => NodeOptions.ParseRoles("worker,boss"));
        Assert.Equal("role 'boss' is not known: allowed roles are coordinator, worker", e.Message);
    }

    [Fact]
    public void Seeds_are_host_port_pairs()
    {
        var seeds = SeedNode.ParseList("127.0.0.1:4053, node2.example.org:4054");
        Assert.Equal([new SeedNode("127.0.0.1", 4053), new SeedNode("node2.example.org", 4054)], seeds);
        Assert.Equal("akka.tcp://foldcluster@127.0.0.1:4053", seeds[0].Address("foldcluster"));
        Assert.Throws<BadInputException>(() => SeedNode.ParseList("127.0.0.1"));
        Assert.Throws<BadInputException>(() => SeedNode.ParseList("127.0.0.1:70000"));
    }

    [Fact]
    public void Options_override_the_config_file_which_overrides_the_base_file()
    {
        var file = Path.Combine(Path.GetTempPath(), $"fc-{Guid.NewGuid():N}.hocon");
        File.WriteAllText(file, """
            akka.cluster.split-brain-resolver.stable-after = 2s
            akka.remote.dot-netty.tcp.port = 5000
            foldcluster.lease = 9s
            """);
        try
        {
            var options = new NodeOptions(new HashSet<string> { "worker" }, "127.0.0.1", 4100, null,
                [new SeedNode("127.0.0.1", 4100)], ["cpu:0"], "Host=x", "cache", null, file, "simulated:1", "n1");
            var config = ClusterConfigBuilder.Build(options);

            Assert.Equal(4100, config.GetInt("akka.remote.dot-netty.tcp.port"));
            Assert.Equal(TimeSpan.FromSeconds(2), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
            Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
            Assert.Equal(["worker"], config.GetStringList("akka.cluster.roles"));
            Assert.Equal(["akka.tcp://foldcluster@127.0.0.1:4100"], config.GetStringList("akka.cluster.seed-nodes"));
            var settings = OrchestrationSettings.From(config);
            Assert.Equal(TimeSpan.FromSeconds(9), settings.Lease);
            Assert.Equal(TimeSpan.FromSeconds(3), settings.LeaseRenewInterval);
            Assert.Equal(TimeSpan.FromSeconds(5), settings.LeaseCheckInterval);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Remoting_binds_to_loopback_unless_configured()
    {
        var config = Akka.Configuration.ConfigurationFactory.ParseString(ClusterConfigBuilder.BaseHocon());
        Assert.Equal("127.0.0.1", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal("Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster", config.GetString("akka.cluster.downing-provider-class"));
    }

    [Fact]
    public void A_missing_config_file_is_bad_input_naming_the_file()
    {
        var e = Assert.Throws<BadInputException>(() => ClusterConfigBuilder.ReadFile("no-such-dir/none.hocon"));
        Assert.Contains("no-such-dir/none.hocon", e.Message, StringComparison.Ordinal);
    }
}
