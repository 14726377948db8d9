using System.Globalization;
using FoldCluster.Core;

namespace FoldCluster.Cluster.Hosting;

/// <summary>Everything a node needs to start, after options, environment and files are merged.</summary>
public sealed record NodeOptions(
    IReadOnlySet<string> Roles,
    string Host,
    int Port,
    string? PublicHost,
    IReadOnlyList<SeedNode> Seeds,
    IReadOnlyList<string> Slots,
    string ConnectionString,
    string CacheDirectory,
    string? DataRoot,
    string? ConfigFile,
    string Trainer,
    string NodeName)
{
    public const string CoordinatorRole = "coordinator";
    public const string WorkerRole = "worker";
    public static readonly IReadOnlyList<string> AllowedRoles = [CoordinatorRole, WorkerRole];

    /// <summary>`--tls FILE|DIR`: the node's certificate (see <see cref="ClusterTls"/>); null: plain TCP.</summary>
    public string? TlsPath { get; init; }

    /// <summary>The PKCS#12 file's password, if it has one (never logged nor printed).</summary>
    public string? TlsPassword { get; init; }

    /// <summary>`--events FILE`: the node's typed events as JSON lines (docs/cluster.md, Events); null: none written.</summary>
    public string? EventsFile { get; init; }

    /// <summary>`--insecure-network`: bind beyond loopback without TLS (warned about at every start).</summary>
    public bool InsecureNetwork { get; init; }

    /// <summary>`--prefetch N`: claimed next assignments each slot holds besides the running one (0: off).</summary>
    public int Prefetch { get; init; } = 1;

    public const int MaxPrefetch = 8;
    public const string MaxPrefetchText = "8";

    /// <summary>Remoting's address scheme: TLS changes it, and seeds must name the same one.</summary>
    public string Protocol => TlsPath is null ? "akka.tcp" : "akka.ssl.tcp";

    public bool IsCoordinator => Roles.Contains(CoordinatorRole);

    public bool IsWorker => Roles.Contains(WorkerRole);

    public static IReadOnlySet<string> ParseRoles(string text)
    {
        var roles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var role = part.ToLowerInvariant();
            if (!AllowedRoles.Contains(role))
            {
                throw new BadInputException($"role '{part}' is not known: allowed roles are {string.Join(", ", AllowedRoles)}");
            }
            roles.Add(role);
        }
        if (roles.Count == 0)
        {
            throw new BadInputException($"--roles '{text}' names no role: allowed roles are {string.Join(", ", AllowedRoles)}");
        }
        return roles;
    }
}

/// <summary>A seed node as host:port.</summary>
public sealed record SeedNode(string Host, int Port)
{
    public static IReadOnlyList<SeedNode> ParseList(string text)
    {
        var seeds = new List<SeedNode>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = part.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(part[(colon + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var port)
                || port is < 1 or > 65535)
            {
                throw new BadInputException($"seed '{part}' is not host:port (expected for example 127.0.0.1:4053)");
            }
            seeds.Add(new SeedNode(part[..colon], port));
        }
        return seeds;
    }

    public string Address(string systemName, string protocol = "akka.tcp") => $"{protocol}://{systemName}@{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    public override string ToString() => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// Worker slots (DESIGN.md section 8): `cpu:N` gives N CPU slots named cpu:0..cpu:N-1; `cuda:0,cuda:1` gives one slot
/// per listed GPU, named after it; `cuda:0x4` gives four slots sharing GPU 0, named cuda:0/0..cuda:0/3 (device, slash,
/// slot on that device; forms mix: `cuda:0x4,cuda:1x4`, `cuda:0x2,cuda:1`). One job per slot, each on its own thread.
/// </summary>
public static class SlotSpec
{
    public const int MaxPerDevice = 64;

    public const string Allowed = "cpu:N (N CPU slots, 1-64), or a list of GPUs such as cuda:0,cuda:1 (one slot each) "
        + "or cuda:0x4,cuda:1x4 (N slots sharing one GPU, 1-64)";

    public static IReadOnlyList<string> Parse(string text)
    {
        var parts = (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new BadInputException($"--slots '{text}' names no slot: expected {Allowed}");
        }
        if (parts.Length == 1 && parts[0].StartsWith("cpu:", StringComparison.OrdinalIgnoreCase))
        {
            if (!int.TryParse(parts[0][4..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > MaxPerDevice)
            {
                throw new BadInputException($"--slots '{text}': '{parts[0]}' is not valid: expected {Allowed}");
            }
            return Enumerable.Range(0, n).Select(i => $"cpu:{i.ToString(CultureInfo.InvariantCulture)}").ToArray();
        }
        var slots = new List<string>();
        var devices = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            if (ParseGpu(part) is not var (gpu, count))
            {
                throw new BadInputException($"--slots '{text}': '{part}' is not valid: expected {Allowed}");
            }
            var device = $"cuda:{gpu.ToString(CultureInfo.InvariantCulture)}";
            if (!devices.Add(device))
            {
                throw new BadInputException($"--slots '{text}' names {device} twice: expected {Allowed}");
            }
            slots.AddRange(count is null
                ? [device]
                : Enumerable.Range(0, count.Value).Select(i => $"{device}/{i.ToString(CultureInfo.InvariantCulture)}"));
        }
        return slots;
    }

    /// <summary>`cuda:G` (count null) or `cuda:GxN`; null when the part is neither.</summary>
    private static (int Gpu, int? Count)? ParseGpu(string part)
    {
        if (!part.StartsWith("cuda:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var body = part[5..];
        var x = body.IndexOf('x', StringComparison.Ordinal);
        var gpuText = x < 0 ? body : body[..x];
        if (!int.TryParse(gpuText, NumberStyles.None, CultureInfo.InvariantCulture, out var gpu) || gpu > 63)
        {
            return null;
        }
        if (x < 0)
        {
            return (gpu, null);
        }
        return int.TryParse(body[(x + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= MaxPerDevice
            ? (gpu, count)
            : null;
    }

    /// <summary>
    /// The TorchSharp device string of a slot: "cpu" for every CPU slot, "cuda:N" for a GPU slot (also for the slots
    /// cuda:N/0, cuda:N/1, ... that share GPU N).
    /// </summary>
    public static string Device(string slot)
    {
        if (slot.StartsWith("cpu", StringComparison.Ordinal))
        {
            return "cpu";
        }
        var slash = slot.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? slot : slot[..slash];
    }
}
