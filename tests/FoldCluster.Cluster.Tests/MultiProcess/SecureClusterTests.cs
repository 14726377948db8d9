using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using Dapper;
using FoldCluster.Cluster.Events;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Cluster.Messages;
using FoldCluster.Cluster.Trainers;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;
using Xunit.Abstractions;

namespace FoldCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// DESIGN.md section 8 with real node processes: mutual TLS with a cluster CA, the refusal of a non-loopback bind
/// without TLS, the refusal of sender-named types on the wire, and the coordinator's registration checks.
/// </summary>
[Collection(ClusterProcesses.Name)]
public sealed class SecureClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("foldcluster-secure-test-");
    private readonly List<NodeProcess> _nodes = [];
    private TestDatabase _db = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        File.WriteAllText(ConfigFile, LocalCluster.FastConfig);
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
        await _db.DisposeAsync();
        _dir.Delete(recursive: true);
    }

    private string ConfigFile => Path.Combine(_dir.FullName, "test.hocon");

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private async Task Cli(params string[] args)
    {
        var result = await CliProcess.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"foldcluster {string.Join(' ', args)}: {result.StandardError}");
    }

    private NodeProcess StartNode(string name, int port, string seeds, string roles, params string[] extra)
    {
        var node = NodeProcess.StartWithEvents(LocalCluster.FoldclusterDll, name,
        [
            "--roles", roles, "--host", "127.0.0.1", "--port", Port(port), "--seeds", seeds, "--slots", "cpu:2",
            "--db", _db.ConnectionString, "--cache", Path.Combine(_dir.FullName, "cache"), "--config", ConfigFile,
            "--trainer", "simulated:0.2", "--node-name", name, .. extra,
        ], Path.Combine(_dir.FullName, $"{name}.events.jsonl"), echo: Echo);
        _nodes.Add(node);
        return node;
    }

    private void Echo(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // the test has finished; late lines of a dying process are dropped
        }
    }

    private string Tail() => string.Join('\n', _nodes.SelectMany(n => n.Lines.TakeLast(30).Select(l => $"{n.Name}: {l}")));

    private static bool Joined(NodeProcess node) => node.WaitForEvent<JoinedEvent>(_ => true, 1, Startup);

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Two_TLS_nodes_run_a_sweep_and_a_node_whose_certificate_another_CA_signed_cannot_join()
    {
        var ca = Path.Combine(_dir.FullName, "ca");
        var rogueCa = Path.Combine(_dir.FullName, "rogue-ca");
        await Cli("certs", "init", "--out", ca);
        await Cli("certs", "init", "--out", rogueCa);
        await Cli("certs", "issue", "--ca", ca, "--name", "n1", "--host", "127.0.0.1", "--out", Path.Combine(_dir.FullName, "n1", "node.pfx"));
        await Cli("certs", "issue", "--ca", ca, "--name", "n2", "--host", "127.0.0.1", "--out", Path.Combine(_dir.FullName, "n2", "node.pfx"));
        await Cli("certs", "issue", "--ca", rogueCa, "--name", "n3", "--host", "127.0.0.1", "--out", Path.Combine(_dir.FullName, "n3", "node.pfx"));
        // The CA key never leaves its folder; node certificates are private to their owner.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(ca, "ca.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir.FullName, "n1", "node.pfx")));

        var ports = LocalCluster.FreePorts(3);
        var seeds = $"127.0.0.1:{Port(ports[0])}";
        var n1 = StartNode("n1", ports[0], seeds, "coordinator,worker", "--tls", Path.Combine(_dir.FullName, "n1"));
        Assert.True(n1.WaitForEvent<CoordinatorStartedEvent>(_ => true, 1, Startup), Tail());
        var n2 = StartNode("n2", ports[1], seeds, "worker", "--tls", Path.Combine(_dir.FullName, "n2", "node.pfx"));
        Assert.True(Joined(n2), Tail());
        Assert.Equal("CN=n1, O=FoldCluster", Assert.Single(n1.EventsOf<NodeStartedEvent>()).TlsSubject);

        // n3 holds a certificate of another CA (with that CA beside it, so it starts). Its only seed is a peer that
        // presents a cluster certificate and accepts any client, so nothing but n3's own check can end the handshake:
        // n3 refuses it. (Seeded with n1, either side's refusal may close the connection before the other's check runs.)
        var lenientPort = LocalCluster.FreePorts(1)[0];
        using var lenient = PeerSystem("lenient", lenientPort, [], "n2");
        var n3 = StartNode("n3", ports[2], $"127.0.0.1:{Port(lenientPort)}", "worker", "--tls", Path.Combine(_dir.FullName, "n3"));
        // A peer that presents the same foreign certificate but accepts any server (an attacker's node): the
        // cluster's node refuses it.
        using var intruder = PeerSystem("intruder", LocalCluster.FreePorts(1)[0], [new SeedNode("127.0.0.1", ports[0])], "n3");
        var intruderUp = false;
        Akka.Cluster.Cluster.Get(intruder).RegisterOnMemberUp(() => intruderUp = true);

        var sweep = await new SweepStore(_db.DataSource).SubmitAsync(SimulatedSweep.Spec("tls", 20), "test");
        LocalCluster.WaitForSweep(_db.DataSource, sweep.SweepId, TimeSpan.FromSeconds(90), Tail);
        SweepInvariants.ExactlyOneResultPerJob(_db.DataSource, sweep.SweepId, 20);

        Assert.True(n1.WaitForEvent<TlsPeerRefusedEvent>(e => e.Subject == "CN=n3, O=FoldCluster", 1, TimeSpan.FromSeconds(45)), Tail());
        // Its handshake with its seed refused, Akka stops it: exit code 1 with a line that says it never joined.
        Assert.True(n3.WaitForExit(TimeSpan.FromSeconds(60)), Tail());
        // Its events file is complete once it has exited.
        Assert.Contains(n3.EventsOf<TlsPeerRefusedEvent>(), e => e.Subject == "CN=n2, O=FoldCluster");
        Assert.Equal(1, n3.ExitCode);
        Assert.Empty(n3.EventsOf<JoinedEvent>());
        var stopped = Assert.Single(n3.EventsOf<NodeStoppedEvent>());
        Assert.Equal((false, 1, "n3"), (stopped.Joined, stopped.ExitCode, stopped.Node));
        Assert.False(intruderUp);
        await using var c = await _db.DataSource.OpenConnectionAsync();
        var workers = (await c.QueryAsync<string>("select distinct split_part(worker, '#', 1) from job_attempts")).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { $"127.0.0.1:{Port(ports[0])}", $"127.0.0.1:{Port(ports[1])}" }.Order(StringComparer.Ordinal), workers);
        Assert.Equal(["n1", "n2"], n1.EventsOf<WorkerRegisteredEvent>().Select(e => e.Worker).Order(StringComparer.Ordinal));
        await intruder.Terminate();
        await lenient.Terminate();
    }

    /// <summary>
    /// An in-process node on <paramref name="port"/> that presents the certificate in the test folder
    /// <paramref name="tlsFolder"/> and accepts any peer's certificate.
    /// </summary>
    private ActorSystem PeerSystem(string name, int port, IReadOnlyList<SeedNode> seeds, string tlsFolder)
    {
        var tls = Path.Combine(_dir.FullName, tlsFolder);
        var options = new NodeOptions(new HashSet<string> { "worker" }, "127.0.0.1", port, null, seeds, ["cpu:0"], _db.ConnectionString,
            _dir.FullName, null, null, "simulated:1", name)
        {
            TlsPath = tls,
        };
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(tls, "node.pfx"), null, X509KeyStorageFlags.EphemeralKeySet);
        return ActorSystem.Create(ClusterConfigBuilder.SystemName, BootstrapSetup.Create()
            .WithConfig(ConfigurationFactory.ParseString("""
                akka.loggers = ["Akka.Event.DefaultLogger"]
                akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
                """).WithFallback(ClusterConfigBuilder.Build(options)))
            .And(new DotNettySslSetup(certificate, suppressValidation: true, requireMutualAuthentication: true, validateCertificateHostname: false,
                customValidator: (_, _, _, _, _) => true)));
    }

    [Fact]
    public async Task A_node_asked_to_bind_0_0_0_0_without_TLS_exits_2_naming_TLS_and_the_certs_verb()
    {
        using var node = NodeProcess.Start(LocalCluster.FoldclusterDll, "open",
            ["--host", "0.0.0.0", "--port", Port(LocalCluster.FreePorts(1)[0]), "--db", _db.ConnectionString, "--trainer", "simulated:1"]);
        Assert.True(node.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(2, node.ExitCode);
        var error = Assert.Single(node.Lines, l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.Contains("--host 0.0.0.0 is not a loopback address", error, StringComparison.Ordinal);
        Assert.Contains("mutual TLS", error, StringComparison.Ordinal);
        Assert.Contains("foldcluster certs init", error, StringComparison.Ordinal);
        Assert.Contains("--insecure-network", error, StringComparison.Ordinal);

        // With --insecure-network it would start, and says why that is dangerous (checked without starting: --print-config).
        var printed = await CliProcess.RunAsync(["node", "start", "--host", "0.0.0.0", "--insecure-network", "--print-config", "--db", _db.ConnectionString]);
        Assert.Equal(0, printed.ExitCode);
        Assert.Contains("WARNING: --insecure-network", printed.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Print_config_shows_the_effective_HOCON_with_the_serialization_lockdown_and_masks_passwords()
    {
        var config = Path.Combine(_dir.FullName, "secret.hocon");
        File.WriteAllText(config, """akka.remote.dot-netty.tcp.ssl.certificate.password = "hunter2" """);
        var result = await CliProcess.RunAsync(["node", "start", "--config", config, "--port", "4999", "--print-config", "--db", _db.ConnectionString]);
        Assert.Equal(0, result.ExitCode);
        var hocon = ConfigurationFactory.ParseString(result.StandardOutput);
        Assert.Equal("FoldCluster.Cluster.Messages.RefusedJsonSerializer, FoldCluster.Cluster", hocon.GetString("akka.actor.serializers.json"));
        Assert.Equal("foldcluster", hocon.GetConfig("akka.actor.serialization-bindings").Root.GetObject()
            .Items["FoldCluster.Cluster.Messages.IClusterMessage, FoldCluster.Cluster"].GetString());
        Assert.True(hocon.GetBoolean("akka.remote.untrusted-mode"));
        Assert.Equal(4999, hocon.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.False(hocon.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("***", hocon.GetString("akka.remote.dot-netty.tcp.ssl.certificate.password"));
        Assert.DoesNotContain("hunter2", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_node_refuses_a_serializer_id_1_payload_naming_StringBuilder_sent_over_the_wire()
    {
        var port = LocalCluster.FreePorts(1)[0];
        var node = StartNode("n1", port, $"127.0.0.1:{Port(port)}", "coordinator,worker");
        Assert.True(Joined(node), Tail());

        // A peer with Akka's defaults: anything it sends falls to Newtonsoft json (serializer id 1, $type in the payload).
        using var peer = ActorSystem.Create("peer", ConfigurationFactory.ParseString("""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka.loggers = ["Akka.Event.DefaultLogger"]
            """));
        peer.ActorSelection($"akka.tcp://foldcluster@127.0.0.1:{Port(port)}/user/worker").Tell(new StringBuilder("gadget"));

        Assert.True(node.WaitForEvent<MessageRefusedEvent>(e => e.SerializerId == 1 && e.Detail.Contains("System.Text.StringBuilder", StringComparison.Ordinal),
            1, TimeSpan.FromSeconds(30)), Tail());
        Assert.False(node.HasExited);
        await peer.Terminate();
    }

    [Fact]
    public async Task A_rogue_member_s_registration_in_another_member_s_name_and_its_work_requests_are_refused()
    {
        var port = LocalCluster.FreePorts(1)[0];
        var n1 = StartNode("n1", port, $"127.0.0.1:{Port(port)}", "coordinator,worker");
        var registered = n1.WaitForEvent<WorkerRegisteredEvent>(Startup);
        Assert.True(registered is not null, Tail());
        var victim = registered.WorkerId;
        Assert.NotEmpty(victim);

        // The rogue is a real cluster member (this process, the project's configuration): it may join, but not speak for n1.
        var options = new NodeOptions(new HashSet<string> { "worker" }, "127.0.0.1", LocalCluster.FreePorts(1)[0], null,
            [new SeedNode("127.0.0.1", port)], ["cpu:0"], _db.ConnectionString, _dir.FullName, null, null, "simulated:1", "rogue");
        using var rogue = ActorSystem.Create(ClusterConfigBuilder.SystemName, ConfigurationFactory.ParseString("""
            akka.loggers = ["Akka.Event.DefaultLogger"]
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            """).WithFallback(ClusterConfigBuilder.Build(options)));
        var cluster = Akka.Cluster.Cluster.Get(rogue);
        var up = new TaskCompletionSource();
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        await up.Task.WaitAsync(Startup);
        var rogueId = Coordinator.WorkerIdentity.Of(cluster.SelfUniqueAddress);

        var sweep = await new SweepStore(_db.DataSource).SubmitAsync(SimulatedSweep.Spec("rogue", 10), "test");
        var coordinator = await rogue.ActorSelection($"akka.tcp://foldcluster@127.0.0.1:{Port(port)}/user/{NodeHost.CoordinatorManagerName}/{NodeHost.CoordinatorName}")
            .ResolveOne(TimeSpan.FromSeconds(20));
        var inbox = Inbox.Create(rogue);
        // In n1's name: refused outright, and so are work requests in its name.
        inbox.Send(coordinator, new RegisterWorker(victim, "n1", ["cpu:0", "cpu:1", "cpu:2", "cpu:3"], []));
        inbox.Send(coordinator, new RequestWork(victim, "cpu:0"));
        inbox.Send(coordinator, new RequestWork(victim, "cpu:3"));
        // In its own name it may register, but only ask for the slots it registered.
        inbox.Send(coordinator, new RegisterWorker(rogueId, "rogue", ["cpu:0"], []));
        Assert.IsType<WorkerRegistered>(inbox.Receive(TimeSpan.FromSeconds(10)));
        inbox.Send(coordinator, new RequestWork(rogueId, "cpu:7"));

        // n1 registered first, so the rogue's registration in its name is a (refused) re-registration from another member.
        var rogueAddress = cluster.SelfAddress.ToString();
        Assert.True(n1.WaitForEvent<RequestRefusedEvent>(e => e is { Request: "re-registration" } && e.WorkerId == victim && e.From == rogueAddress,
            1, TimeSpan.FromSeconds(20)), Tail());
        Assert.True(n1.WaitForEvent<RequestRefusedEvent>(e => e is { Request: "work request" } && e.WorkerId == victim && e.From == rogueAddress,
            1, TimeSpan.FromSeconds(20)), Tail());
        Assert.True(n1.WaitForEvent<RequestRefusedEvent>(e => e is { Request: "work request" } && e.WorkerId == rogueId && e.From == rogueAddress,
            1, TimeSpan.FromSeconds(20)), Tail());

        // n1 does all the work; nothing was claimed in the rogue's name nor for n1's unregistered slots.
        LocalCluster.WaitForSweep(_db.DataSource, sweep.SweepId, TimeSpan.FromSeconds(60), Tail);
        await using var c = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal([(victim, "cpu:0"), (victim, "cpu:1")], (await c.QueryAsync<(string, string)>(
            "select distinct worker, slot from job_attempts order by 1, 2")).ToArray());
        Assert.Throws<TimeoutException>(() => inbox.Receive(TimeSpan.FromMilliseconds(500)));
        await cluster.LeaveAsync();
    }
}
