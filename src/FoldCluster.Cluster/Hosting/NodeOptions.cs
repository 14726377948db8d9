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
/// per listed GPU. One job per slot, each on its own thread.
/// </summary>
public static class SlotSpec
{
    public const string Allowed = "cpu:N (N CPU slots, 1-64) or a list of GPUs such as cuda:0,cuda:1";

    public static IReadOnlyList<string> Parse(string text)
    {
        var parts = (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new BadInputException($"--slots '{text}' names no slot: expected {Allowed}");
        }
        if (parts.Length == 1 && parts[0].StartsWith("cpu:", StringComparison.OrdinalIgnoreCase))
        {
            if (!int.TryParse(parts[0][4..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > 64)
            {
                throw new BadInputException($"--slots '{text}': '{parts[0]}' is not valid: expected {Allowed}");
            }
            return Enumerable.Range(0, n).Select(i => $"cpu:{i.ToString(CultureInfo.InvariantCulture)}").ToArray();
        }
        var slots = new List<string>();
        foreach (var part in parts)
        {
            if (!part.StartsWith("cuda:", StringComparison.OrdinalIgnoreCase)
                || !int.TryParse(part[5..], NumberStyles.None, CultureInfo.InvariantCulture, out var gpu) || gpu > 63)
            {
                throw new BadInputException($"--slots '{text}': '{part}' is not valid: expected {Allowed}");
            }
            var name = $"cuda:{gpu.ToString(CultureInfo.InvariantCulture)}";
            if (slots.Contains(name))
            {
                throw new BadInputException($"--slots '{text}' names {name} twice: expected {Allowed}");
            }
            slots.Add(name);
        }
        return slots;
    }

    /// <summary>The TorchSharp device string of a slot: "cpu" for every CPU slot, "cuda:N" for a GPU slot.</summary>
    public static string Device(string slot) => slot.StartsWith("cpu", StringComparison.Ordinal) ? "cpu" : slot;
}
