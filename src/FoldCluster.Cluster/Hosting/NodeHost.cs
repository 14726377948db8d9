using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Akka;
using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using FoldCluster.Cluster.Coordinator;
using FoldCluster.Cluster.Events;
using FoldCluster.Cluster.Infrastructure;
using FoldCluster.Cluster.Worker;
using FoldCluster.Core;
using FoldCluster.Core.Processes;
using FoldCluster.Storage;
using FoldCluster.Storage.Jobs;
using Npgsql;

namespace FoldCluster.Cluster.Hosting;

/// <summary>
/// Runs one cluster node until it leaves: checks its port and the database, joins the cluster, hosts the
/// coordinator singleton (role `coordinator`) and the worker (role `worker`), and leaves gracefully on SIGTERM or
/// Ctrl-C: running attempts are cancelled within one batch and their jobs go back to the queue.
/// </summary>
public static class NodeHost
{
    public const string CoordinatorManagerName = "coordinator-manager";
    public const string CoordinatorName = "coordinator";

    /// <returns>Exit code: 0 after a graceful leave, 1 when the node was downed or the database stayed away.</returns>
    public static int Run(
        NodeOptions options,
        Func<NodeOptions, IJobTrainer> trainerFactory,
        Func<NpgsqlDataSource, IJobStore> storeFactory,
        Action<string> log,
        CancellationToken cancellationToken)
    {
        NetworkPolicy.Check(options, log);
        var tls = options.TlsPath is null ? null : ClusterTls.Load(options.TlsPath, options.TlsPassword);
        CheckPortIsFree(options.Host, options.Port);
        // Build one trainer now so that a bad --trainer fails before anything starts.
        var firstTrainer = options.IsWorker ? trainerFactory(options) : null;
        var config = ClusterConfigBuilder.Build(options);
        var settings = OrchestrationSettings.From(config);

        using var dataSource = Database.CreateDataSource(options.ConnectionString, $"foldcluster-node {options.NodeName}");
        WaitForDatabase(dataSource, settings.DbStartLimit, log, cancellationToken);
        MigrationRunner.MigrateAsync(dataSource, MigrationRunner.Embedded(), log, cancellationToken).GetAwaiter().GetResult();
        WarmConnectionPool(dataSource, options.Slots.Count + (options.IsCoordinator ? 8 : 2));
        var store = storeFactory(dataSource);

        ActorSystem system;
        try
        {
            var setup = BootstrapSetup.Create().WithConfig(config);
            system = tls is null
                ? ActorSystem.Create(ClusterConfigBuilder.SystemName, setup)
                : ActorSystem.Create(ClusterConfigBuilder.SystemName, setup.And(tls.Setup()));
        }
        catch (Exception e) when (IsBindFailure(e))
        {
            throw new BadInputException($"port {options.Port} on {options.Host} is already in use; choose another with --port");
        }

        var cluster = Akka.Cluster.Cluster.Get(system);
        var self = cluster.SelfUniqueAddress;
        var workerId = WorkerIdentity.Of(self);
        log(tls is null
            ? "remoting: plain TCP (loopback or --insecure-network)"
            : $"remoting: mutual TLS with {tls.Certificate.Subject} from {tls.CertificateFile}; peers must be signed by the cluster CA {tls.Authority.Subject}");
        log($"node {options.NodeName} listening on {options.Host}:{options.Port} as [{string.Join(",", options.Roles.Order(StringComparer.Ordinal))}] (worker id {workerId})");
        NodeEvents.Emit(new NodeStartedEvent(options.Host, options.Port, options.Roles.Order(StringComparer.Ordinal).ToArray(), workerId, Environment.ProcessId,
            tls?.Certificate.Subject));
        var joined = new ManualResetEventSlim();
        cluster.RegisterOnMemberUp(() =>
        {
            joined.Set();
            log($"joined the cluster at {self.Address} with roles [{string.Join(",", options.Roles.Order(StringComparer.Ordinal))}]");
            NodeEvents.Emit(new JoinedEvent(self.Address.ToString()));
        });
        var leaving = false;
        var downed = false;
        cluster.RegisterOnMemberRemoved(() => downed = !Volatile.Read(ref leaving));
        _ = Task.Run(async () =>
        {
            var seeds = options.Seeds.Count == 0 ? "(none given: joining itself)" : string.Join(", ", options.Seeds);
            while (!joined.IsSet && !system.WhenTerminated.IsCompleted)
            {
                await Task.Delay(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                if (!joined.IsSet && !system.WhenTerminated.IsCompleted)
                {
                    log($"not joined yet: still trying the seed nodes {seeds} (is the first seed running and reachable?)");
                }
            }
        }, CancellationToken.None);

        if (options.IsCoordinator)
        {
            system.ActorOf(ClusterSingletonManager.Props(
                    SweepCoordinator.Props(store, settings, log),
                    PoisonPill.Instance,
                    ClusterSingletonManagerSettings.Create(system).WithRole(NodeOptions.CoordinatorRole).WithSingletonName(CoordinatorName)),
                CoordinatorManagerName);
        }
        var proxy = system.ActorOf(ClusterSingletonProxy.Props(
                $"/user/{CoordinatorManagerName}",
                ClusterSingletonProxySettings.Create(system).WithRole(NodeOptions.CoordinatorRole).WithSingletonName(CoordinatorName)),
            "coordinator-proxy");

        IActorRef? worker = null;
        if (options.IsWorker)
        {
            var handedOut = 0;
            Func<string, IJobTrainer> perSlot = _ => Interlocked.Increment(ref handedOut) == 1 ? firstTrainer! : trainerFactory(options);
            var setup = new WorkerSetup(workerId, options.NodeName, options.Slots, perSlot, options.CacheDirectory, options.DataRoot)
            {
                Prefetch = options.Prefetch,
            };
            worker = system.ActorOf(NodeWorker.Props(setup, store, proxy, settings, log), "worker");
        }
        using var heartbeat = options.IsWorker ? WorkerHeartbeatLoop.Start(dataSource, workerId, options.NodeName, options.Slots, options.Roles, log) : null;

        var shutdown = CoordinatedShutdown.Get(system);
        if (worker is not null)
        {
            shutdown.AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, "requeue-running-jobs", async () =>
            {
                log("leaving the cluster: cancelling running jobs and putting them back in the queue");
                try
                {
                    await worker.Ask<Done>(NodeWorker.Leave.Instance, TimeSpan.FromSeconds(15)).ConfigureAwait(false);
                }
                catch (AskTimeoutException)
                {
                    log("some slots did not stop within 15 s; their jobs are requeued anyway (their results will be rejected)");
                }
                try
                {
                    // Requeueing uses the store's "worker lost" path: the attempt is fenced off and the job is queued again.
                    var retry = new RetryingCalls(log, TimeSpan.FromSeconds(15));
                    var n = await retry.RunAsync("requeue this node's jobs", ct => store.RequeueWorkerAsync(workerId, "node left the cluster", ct),
                        CancellationToken.None).ConfigureAwait(false);
                    log($"put {n} running job(s) back in the queue");
                    NodeEvents.Emit(new JobsRequeuedEvent(n, JobsRequeuedEvent.NodeLeft, workerId));
                }
                catch (Exception e)
                {
                    log($"could not requeue this node's jobs ({e.Message}); they come back when their leases expire");
                }
                return Done.Instance;
            });
        }

        void Leave(string why)
        {
            if (Interlocked.Exchange(ref leaving, true))
            {
                return;
            }
            log($"{why}: leaving the cluster gracefully");
            _ = shutdown.Run(CoordinatedShutdown.ClrExitReason.Instance);
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; Leave("SIGTERM"); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; Leave("interrupted"); });
        using var registration = cancellationToken.Register(() => Leave("cancelled"));

        system.WhenTerminated.Wait(CancellationToken.None);
        if (!joined.IsSet && !Volatile.Read(ref leaving))
        {
            // Akka stops a node whose TLS handshake with the seeds failed (a certificate either side refused).
            log("stopped before joining the cluster: see the errors above (a TLS certificate refused by either side, or seeds that refused this node)");
            NodeEvents.Emit(new NodeStoppedEvent(false, ExitCodes.WorkFailed, "stopped before joining the cluster"));
            return ExitCodes.WorkFailed;
        }
        if (downed || !Volatile.Read(ref leaving))
        {
            log("this node was removed from the cluster (downed or unreachable from the majority); stopping");
            NodeEvents.Emit(new NodeStoppedEvent(true, ExitCodes.WorkFailed, "removed from the cluster"));
            return ExitCodes.WorkFailed;
        }
        log("left the cluster");
        NodeEvents.Emit(new NodeStoppedEvent(true, ExitCodes.Success, "left the cluster"));
        return ExitCodes.Success;
    }

    private static void CheckPortIsFree(string host, int port)
    {
        if (port == 0)
        {
            return;
        }
        IPAddress address;
        if (!IPAddress.TryParse(host, out address!))
        {
            try
            {
                address = Dns.GetHostAddresses(host).FirstOrDefault()
                    ?? throw new BadInputException($"--host '{host}' does not resolve to an address");
            }
            catch (SocketException e)
            {
                throw new BadInputException($"--host '{host}' does not resolve to an address: {e.Message}");
            }
        }
        switch (TcpPorts.Probe(address, port))
        {
            case PortState.InUse:
                throw new BadInputException($"port {port} on {host} is already in use; choose another with --port");
            case PortState.AddressNotAvailable:
                throw new BadInputException($"--host '{host}' is not an address of this machine");
        }
    }

    private static void WaitForDatabase(NpgsqlDataSource dataSource, TimeSpan limit, Action<string> log, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        var delay = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            try
            {
                using var connection = Database.Open(dataSource);
                return;
            }
            catch (DatabaseUnreachableException e)
            {
                if (DateTime.UtcNow - started + delay > limit)
                {
                    throw new DatabaseUnreachableException($"{e.Message} (gave up after {limit.TotalSeconds:0} s)", e);
                }
                log($"{e.Message}; retrying in {delay.TotalSeconds:0.#} s (giving up after {limit.TotalSeconds:0} s)");
                if (ct.WaitHandle.WaitOne(delay))
                {
                    throw new OperationCanceledException(ct);
                }
                delay = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, delay.Ticks * 2));
            }
        }
    }

    /// <summary>
    /// Opens the connections the node will use at once (a PostgreSQL backend costs a process start), so the first
    /// claims and writes of a sweep do not pay for it (dispatch latency).
    /// </summary>
    private static void WarmConnectionPool(NpgsqlDataSource dataSource, int connections)
    {
        var opened = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < connections; i++)
            {
                opened.Add(dataSource.OpenConnection());
            }
        }
        catch (Exception e) when (Database.IsConnectionFailure(e) || e is NpgsqlException)
        {
            // A server with few free connections: the pool grows on demand instead.
        }
        finally
        {
            foreach (var c in opened)
            {
                c.Dispose();
            }
        }
    }

    private static bool IsBindFailure(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }
                || x.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}
