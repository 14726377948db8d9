using System.ComponentModel;
using System.Globalization;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Cluster.Trainers;
using FoldCluster.Core;
using FoldCluster.Storage;
using FoldCluster.Storage.Jobs;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Cluster;

public sealed class NodeStartSettings : DatabaseSettings
{
    [CommandOption("--roles <ROLES>")]
    [Description("Comma-separated roles: coordinator, worker (default: $FOLDCLUSTER_ROLES, else coordinator,worker).")]
    public string? Roles { get; init; }

    [CommandOption("--host <HOST>")]
    [Description("Address to bind remoting to (default: $FOLDCLUSTER_HOST, else the --config file's, else 127.0.0.1).")]
    public string? Host { get; init; }

    [CommandOption("--public-host <NAME>")]
    [Description("Name other nodes use to reach this one, when it differs from --host (default: $FOLDCLUSTER_PUBLIC_HOST).")]
    public string? PublicHost { get; init; }

    [CommandOption("--port <PORT>")]
    [Description("Remoting TCP port (default: $FOLDCLUSTER_PORT, else the --config file's, else 4053).")]
    public int? Port { get; init; }

    [CommandOption("--seeds <HOST:PORT,...>")]
    [Description("Seed nodes, first one first (default: $FOLDCLUSTER_SEEDS, else the --config file's, else this node itself).")]
    public string? Seeds { get; init; }

    [CommandOption("--slots <SLOTS>")]
    [Description("Worker slots: cpu:N, or GPUs such as cuda:0,cuda:1 (default: cpu:1).")]
    public string Slots { get; init; } = "cpu:1";

    [CommandOption("--cache <DIR>")]
    [Description("Feature cache folder (default: the state folder's cache).")]
    public string? Cache { get; init; }

    [CommandOption("--data-root <DIR>")]
    [Description("Folder against which a sweep's relative corpus paths are resolved on this node.")]
    public string? DataRoot { get; init; }

    [CommandOption("--config <FILE>")]
    [Description("HOCON file layered over the built-in cluster-config/base.hocon (see cluster-config/).")]
    public string? Config { get; init; }

    [CommandOption("--trainer <TRAINER>")]
    [Description("real (default), or simulated:SECONDS for orchestration tests and benchmarks.")]
    public string Trainer { get; init; } = "real";

    [CommandOption("--node-name <NAME>")]
    [Description("Name of this node in logs (default: host:port).")]
    public string? NodeName { get; init; }

    [CommandOption("--tls <FILE|DIR>")]
    [Description("Mutual TLS: this node's certificate (.pfx from `foldcluster certs issue`) or a folder with one, the cluster CA's ca.crt beside it (default: $FOLDCLUSTER_TLS, else the --config file's foldcluster.tls.path). Required when --host is not a loopback address.")]
    public string? Tls { get; init; }

    [CommandOption("--insecure-network")]
    [Description("Bind a non-loopback --host without TLS anyway (anyone who reaches the port can join; warned about at every start).")]
    public bool InsecureNetwork { get; init; }

    [CommandOption("--prefetch <N>")]
    [Description("Claimed next assignments each slot holds besides the job it runs, so the next job starts the moment the previous returns (0-" + NodeOptions.MaxPrefetchText + "; 0 turns prefetch off). Default 1.")]
    public int Prefetch { get; init; } = 1;

    [CommandOption("--events <FILE>")]
    [Description("Append the node's typed events (joined, coordinator-started, job-assigned, ...) to FILE as JSON lines; see docs/cluster.md, Events.")]
    public string? Events { get; init; }

    [CommandOption("--print-config")]
    [Description("Print the node's effective HOCON (passwords masked) to stdout and exit without starting.")]
    public bool PrintConfig { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        Port is not null and not (>= 1 and <= 65535)
            ? Spectre.Console.ValidationResult.Error($"--port {Port} is not a TCP port (expected 1-65535)")
            : Prefetch is < 0 or > NodeOptions.MaxPrefetch
                ? Spectre.Console.ValidationResult.Error($"--prefetch {Prefetch} is out of range (expected 0-{NodeOptions.MaxPrefetchText}: assignments held per slot besides the running one)")
                : Spectre.Console.ValidationResult.Success();
}

/// <summary>`foldcluster node start`: runs one cluster node until SIGTERM / Ctrl-C (graceful leave) or until it is downed.</summary>
public sealed class NodeStartCommand : Command<NodeStartSettings>
{
    public override int Execute(CommandContext context, NodeStartSettings settings, CancellationToken cancellationToken)
    {
        var options = Resolve(settings);
        var name = options.NodeName;
        void Log(string line) => Console.Error.WriteLine($"{DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} [{name}] {line}");
        if (settings.PrintConfig)
        {
            // The same checks as a start, so what is printed is what would run.
            NetworkPolicy.Check(options, Log);
            if (options.TlsPath is not null)
            {
                ClusterTls.Load(options.TlsPath, options.TlsPassword);
            }
            Console.Out.WriteLine(NetworkPolicy.Render(ClusterConfigBuilder.Effective(options)));
            return ExitCodes.Success;
        }
        // Every stderr writer of the running node (its log lines, Akka's logger, the trainers) goes through one queue.
        var console = Console.Error;
        using var stderr = new QueuedLineWriter(Console.OpenStandardError());
        Console.SetError(stderr);
        Log($"database {ConnectionResolver.Redact(options.ConnectionString)}; trainer {options.Trainer}; slots {string.Join(",", options.Slots)}");
        using var events = options.EventsFile is null ? null : FoldCluster.Cluster.Events.EventLog.Open(options.EventsFile, name);
        FoldCluster.Cluster.Events.NodeEvents.Use(events);
        try
        {
            return NodeHost.Run(options, TrainerFactory, dataSource => new JobStore(dataSource), Log, cancellationToken);
        }
        finally
        {
            FoldCluster.Cluster.Events.NodeEvents.Use(null);
            Console.Error.Flush();
            Console.SetError(console);
        }
    }

    /// <summary>The trainer seam: `real` is the feature cache + two-stage model trainer; `simulated:SECONDS` the stand-in.</summary>
    public static IJobTrainer TrainerFactory(NodeOptions options) =>
        options.Trainer.StartsWith("simulated:", StringComparison.Ordinal)
            ? SimulatedTrainer.Parse(options.Trainer)
            : options.Trainer == "real"
                ? RealTrainer.Create(options)
                : throw new BadInputException($"--trainer '{options.Trainer}' is not known: expected real or simulated:SECONDS");

    public static NodeOptions Resolve(NodeStartSettings s)
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var file = s.Config is null ? null : ClusterConfigBuilder.ReadFile(s.Config);
        string? FromFile(string path) => file is not null && file.HasPath(path) ? file.GetString(path) : null;

        var roles = NodeOptions.ParseRoles(s.Roles ?? Env("FOLDCLUSTER_ROLES") ?? "coordinator,worker");
        var host = s.Host ?? Env("FOLDCLUSTER_HOST") ?? FromFile("akka.remote.dot-netty.tcp.hostname") ?? "127.0.0.1";
        var publicHost = s.PublicHost ?? Env("FOLDCLUSTER_PUBLIC_HOST") ?? FromFile("akka.remote.dot-netty.tcp.public-hostname");
        var portText = s.Port?.ToString(CultureInfo.InvariantCulture) ?? Env("FOLDCLUSTER_PORT") ?? FromFile("akka.remote.dot-netty.tcp.port") ?? "4053";
        if (!int.TryParse(portText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new BadInputException($"port '{portText}' is not a TCP port (expected 1-65535)");
        }
        var seedsText = s.Seeds ?? Env("FOLDCLUSTER_SEEDS");
        var seeds = seedsText is not null
            ? SeedNode.ParseList(seedsText)
            : ClusterConfigBuilder.SeedsFromFile(s.Config) is { Count: > 0 } fromFile
                ? fromFile
                : [new SeedNode(publicHost ?? host, port)];
        var slots = SlotSpec.Parse(s.Slots);
        var trainer = s.Trainer.Trim();
        if (trainer != "real" && !trainer.StartsWith("simulated:", StringComparison.Ordinal))
        {
            throw new BadInputException($"--trainer '{s.Trainer}' is not known: expected real or simulated:SECONDS");
        }
        var cache = Path.GetFullPath(s.Cache ?? Path.Combine(StatePaths.StateDirectory(), "cache"));
        var dataRoot = s.DataRoot is null ? null : Path.GetFullPath(s.DataRoot);
        if (dataRoot is not null && !Directory.Exists(dataRoot))
        {
            throw new BadInputException($"--data-root {s.DataRoot}: folder not found");
        }
        var name = s.NodeName ?? $"{publicHost ?? host}:{port.ToString(CultureInfo.InvariantCulture)}";
        // A certificate path in the config file is relative to that file's folder.
        var tlsFromFile = FromFile("foldcluster.tls.path") is { Length: > 0 } p ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(s.Config!))!, p) : null;
        var tls = s.Tls ?? Env("FOLDCLUSTER_TLS") ?? tlsFromFile;
        var insecure = s.InsecureNetwork || (file is not null && file.HasPath("foldcluster.insecure-network") && file.GetBoolean("foldcluster.insecure-network"));
        return new NodeOptions(roles, host, port, publicHost, seeds, slots, s.ConnectionString(), cache, dataRoot,
            s.Config is null ? null : Path.GetFullPath(s.Config), trainer, name)
        {
            TlsPath = tls is null ? null : Path.GetFullPath(tls),
            TlsPassword = Env("FOLDCLUSTER_TLS_PASSWORD") ?? (FromFile("foldcluster.tls.password") is { Length: > 0 } pw ? pw : null),
            InsecureNetwork = insecure,
            Prefetch = s.Prefetch,
            EventsFile = s.Events is null ? null : Path.GetFullPath(s.Events),
        };
    }
}

/// <summary>The real trainer for `--trainer real`: the worker's feature cache + the two-stage model trainer.</summary>
public static class RealTrainer
{
    public const string ThreadsVariable = "FOLDCLUSTER_THREADS_PER_SLOT";

    public static IJobTrainer Create(NodeOptions options)
    {
        var name = options.NodeName;
        return new RealJobTrainer(ThreadsPerSlot(options.Slots), line =>
            Console.Error.WriteLine($"{DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} [{name}] {line}"));
    }

    /// <summary>
    /// libtorch threads per slot: $FOLDCLUSTER_THREADS_PER_SLOT, else the cores shared out between the node's CPU
    /// slots (at least one), so slots do not oversubscribe the machine.
    /// </summary>
    public static int ThreadsPerSlot(IReadOnlyList<string> slots)
    {
        if (Environment.GetEnvironmentVariable(ThreadsVariable) is { Length: > 0 } text)
        {
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 1
                ? n
                : throw new BadInputException($"{ThreadsVariable}='{text}' is not a positive integer");
        }
        var cpuSlots = Math.Max(1, slots.Count(s => s.StartsWith("cpu", StringComparison.Ordinal)));
        return Math.Max(1, Environment.ProcessorCount / cpuSlots);
    }
}
