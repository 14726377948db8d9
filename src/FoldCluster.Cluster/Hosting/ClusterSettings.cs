using System.Globalization;
using System.Reflection;
using Akka.Configuration;
using FoldCluster.Core;

namespace FoldCluster.Cluster.Hosting;

/// <summary>The orchestration settings of the `foldcluster { }` section (see cluster-config/base.hocon).</summary>
public sealed record OrchestrationSettings(
    TimeSpan Lease,
    TimeSpan LeaseCheckInterval,
    TimeSpan IdlePoll,
    TimeSpan RequestTimeout,
    TimeSpan RegisterInterval,
    TimeSpan DbRetryLimit,
    TimeSpan DbStartLimit,
    TimeSpan? MaxEpochTime = null)
{
    /// <summary>
    /// How often the coordinator claims again for requests that found the queue empty. Work queued by a sweep's
    /// submission, resumption or retry wakes them at once (PostgreSQL notifies the coordinator); this is the fallback
    /// for notifications missed while the coordinator's listening connection was away, and for jobs queued again.
    /// </summary>
    public TimeSpan ParkedRetry { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// max-epoch-time = auto: how long one epoch (the first one with the feature extraction before it) may take for
    /// each training profile before the attempt counts as hung. Generous on purpose: a slow machine is not a hang.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, TimeSpan> MaxEpochTimeByProfile = new Dictionary<string, TimeSpan>(StringComparer.Ordinal)
    {
        ["tiny"] = TimeSpan.FromMinutes(10),
        ["paper"] = TimeSpan.FromHours(2),
    };

    public static OrchestrationSettings From(Config config)
    {
        var c = config.GetConfig("foldcluster");
        TimeSpan Get(string key) => c.GetTimeSpan(key, null, allowInfinite: false);
        var settings = new OrchestrationSettings(
            Get("lease"), Get("lease-check-interval"), Get("idle-poll"), Get("request-timeout"),
            Get("register-interval"), Get("db-retry-limit"), Get("db-start-limit"), MaxEpochTimeOf(c));
        if (settings.Lease < TimeSpan.FromSeconds(2) || settings.LeaseCheckInterval <= TimeSpan.Zero)
        {
            throw new BadInputException($"foldcluster.lease must be at least 2 s and lease-check-interval positive (got {settings.Lease}, {settings.LeaseCheckInterval})");
        }
        return settings;
    }

    private static TimeSpan? MaxEpochTimeOf(Config c)
    {
        var text = c.GetString("max-epoch-time", "auto");
        if (string.Equals(text, "auto", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        TimeSpan value;
        try
        {
            value = c.GetTimeSpan("max-epoch-time", null, allowInfinite: false);
        }
        catch (Exception e) when (e is FormatException or ConfigurationException or ArgumentException)
        {
            throw new BadInputException($"foldcluster.max-epoch-time '{text}': expected auto or a duration such as 15m");
        }
        if (value < TimeSpan.FromSeconds(1))
        {
            throw new BadInputException($"foldcluster.max-epoch-time must be auto or at least 1 s (got {text})");
        }
        return value;
    }

    /// <summary>How long an attempt of this profile may go without a new epoch before it is cancelled as hung.</summary>
    public TimeSpan MaxEpochTimeFor(string profile) =>
        MaxEpochTime ?? (MaxEpochTimeByProfile.TryGetValue(profile, out var t) ? t : MaxEpochTimeByProfile["paper"]);

    /// <summary>The heartbeat that renews running leases: a third of the lease, so two may be lost.</summary>
    public TimeSpan LeaseRenewInterval => TimeSpan.FromTicks(Lease.Ticks / 3);
}

/// <summary>
/// Builds the node's HOCON: the built-in base.hocon, then --config FILE, then the environment, then options
/// (last wins).
/// </summary>
public static class ClusterConfigBuilder
{
    public const string SystemName = "foldcluster";

    public static string BaseHocon()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("FoldCluster.Cluster.base.hocon")
            ?? throw new InvalidOperationException("base.hocon is not embedded in FoldCluster.Cluster");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The file's HOCON, or a clear bad-input error naming the file.</summary>
    public static Config ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new BadInputException($"--config {path}: file not found (expected a HOCON file such as cluster-config/local-3-nodes.hocon)");
        }
        try
        {
            return ConfigurationFactory.ParseString(File.ReadAllText(path));
        }
        catch (Exception e) when (e is ConfigurationException or FormatException or ArgumentException)
        {
            throw new BadInputException($"--config {path}: not valid HOCON: {e.Message}");
        }
    }

    public static Config Build(NodeOptions options)
    {
        var overrides = string.Join('\n',
            $"akka.remote.dot-netty.tcp.hostname = {Quote(options.Host)}",
            $"akka.remote.dot-netty.tcp.port = {options.Port.ToString(CultureInfo.InvariantCulture)}",
            options.PublicHost is null ? "" : $"akka.remote.dot-netty.tcp.public-hostname = {Quote(options.PublicHost)}",
            $"akka.cluster.roles = [{string.Join(", ", options.Roles.Order(StringComparer.Ordinal).Select(Quote))}]",
            options.Seeds.Count == 0 ? "" : $"akka.cluster.seed-nodes = [{string.Join(", ", options.Seeds.Select(s => Quote(s.Address(SystemName, options.Protocol))))}]",
            // The certificate itself is handed to Akka programmatically (ClusterTls), so no key password lives in HOCON.
            $"akka.remote.dot-netty.tcp.enable-ssl = {(options.TlsPath is null ? "off" : "on")}",
            options.TlsPath is null ? "" : $"foldcluster.tls.path = {Quote(options.TlsPath)}",
            $"foldcluster.insecure-network = {(options.InsecureNetwork ? "on" : "off")}");
        var config = ConfigurationFactory.ParseString(overrides);
        if (options.ConfigFile is not null)
        {
            config = config.WithFallback(ReadFile(options.ConfigFile));
        }
        return config.WithFallback(ConfigurationFactory.ParseString(BaseHocon()));
    }

    /// <summary>
    /// What the node's actor system runs with: its layers (<see cref="Build"/>) over the defaults of Akka, Akka.Remote,
    /// Akka.Cluster and the cluster singleton (shown by `node start --print-config`).
    /// </summary>
    public static Config Effective(NodeOptions options) =>
        Build(options)
            .WithFallback(Akka.Cluster.Tools.Singleton.ClusterSingleton.DefaultConfig())
            .WithFallback(ConfigurationFactory.FromResource<Akka.Cluster.Cluster>("Akka.Cluster.Configuration.Cluster.conf"))
            .WithFallback(ConfigurationFactory.FromResource<Akka.Remote.RemoteSettings>("Akka.Remote.Configuration.Remote.conf"))
            .WithFallback(ConfigurationFactory.Default());

    /// <summary>Seeds named by a config file (used when no --seeds option nor FOLDCLUSTER_SEEDS is given).</summary>
    public static IReadOnlyList<SeedNode> SeedsFromFile(string? configFile)
    {
        if (configFile is null)
        {
            return [];
        }
        var config = ReadFile(configFile);
        if (!config.HasPath("akka.cluster.seed-nodes"))
        {
            return [];
        }
        return config.GetStringList("akka.cluster.seed-nodes").Select(address =>
        {
            var uri = new Uri(address);
            return new SeedNode(uri.Host, uri.Port);
        }).ToArray();
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
