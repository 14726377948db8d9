using System.Diagnostics;
using System.Globalization;

namespace FoldCluster.Cluster.Tests.MultiHost;

/// <summary>
/// Hosts made of Linux network namespaces, created for one test run and removed after it (also when it fails):
/// a switch namespace with two bridges (one for node-to-node traffic, 10.213.0.0/24, one for database traffic,
/// 10.213.1.0/24), a database host on the database bridge only and node hosts on both. Links are cut and restored
/// by detaching a host's port from its bridge, so both sides stay alive and simply stop hearing each other.
/// Needs root (CAP_NET_ADMIN) and iproute2; <see cref="Unavailable"/> says why not otherwise.
/// </summary>
public sealed class NetworkLab : IDisposable
{
    /// <summary>Every namespace of a lab starts with this, then the test process id; leftovers of dead runs are removed.</summary>
    public const string Prefix = "fclab";
    public const string ClusterBridge = "clusterbr";
    public const string DatabaseBridge = "databasebr";
    public const string DatabaseAddress = "10.213.1.2";

    private readonly string _id;
    private readonly List<string> _namespaces = [];
    private bool _disposed;

    public NetworkLab(int nodeHosts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodeHosts, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nodeHosts, 9);
        RemoveLeftovers();
        _id = $"{Prefix}{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..4]}";
        NodeHosts = nodeHosts;
        try
        {
            Switch = Add("sw");
            Ip("-n", Switch, "link", "set", "lo", "up");
            foreach (var bridge in new[] { ClusterBridge, DatabaseBridge })
            {
                Ip("-n", Switch, "link", "add", bridge, "type", "bridge");
                Ip("-n", Switch, "link", "set", bridge, "up");
            }
            DatabaseHost = Add("db");
            Attach(DatabaseHost, "d0", "dbd", DatabaseBridge, DatabaseAddress);
            for (var i = 1; i <= nodeHosts; i++)
            {
                var host = Add($"h{i.ToString(CultureInfo.InvariantCulture)}");
                Attach(host, "c0", ClusterPort(i), ClusterBridge, NodeAddress(i));
                Attach(host, "d0", DatabasePort(i), DatabaseBridge, $"10.213.1.{(10 + i).ToString(CultureInfo.InvariantCulture)}");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int NodeHosts { get; }

    public string Switch { get; } = "";

    public string DatabaseHost { get; } = "";

    /// <summary>The namespace of node host i (1-based).</summary>
    public string NodeHost(int i) => $"{_id}-h{i.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Node host i's address on the cluster bridge.</summary>
    public static string NodeAddress(int i) => $"10.213.0.{(10 + i).ToString(CultureInfo.InvariantCulture)}";

    private static string ClusterPort(int i) => $"hc{i.ToString(CultureInfo.InvariantCulture)}";

    private static string DatabasePort(int i) => $"hd{i.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Why multi-host tests cannot run here (not root, no `ip netns`), or null when they can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }
        if (Environment.UserName != "root")
        {
            return $"network namespaces need root (running as {Environment.UserName}); CI runs these tests as root";
        }
        var probe = $"{Prefix}{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-probe";
        try
        {
            Ip("netns", "add", probe);
            Ip("-n", probe, "link", "add", "probe0", "type", "bridge");
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"`ip netns` does not work here: {e.Message}";
        }
        finally
        {
            TryIp("netns", "del", probe);
        }
    }

    /// <summary>Removes namespaces of earlier lab runs whose test process is gone (a killed test host leaves them).</summary>
    public static void RemoveLeftovers()
    {
        var listing = TryIp("netns", "list") ?? "";
        foreach (var line in listing.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }
            var pidText = new string(name[Prefix.Length..].TakeWhile(char.IsAsciiDigit).ToArray());
            if (int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid != Environment.ProcessId && !IsRunning(pid))
            {
                TryIp("netns", "del", name);
            }
        }
    }

    private static bool IsRunning(int pid) => Directory.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>Cuts node host i off the cluster bridge (its database link stays up).</summary>
    public void CutCluster(int i) => Ip("-n", Switch, "link", "set", ClusterPort(i), "nomaster");

    public void RestoreCluster(int i) => Ip("-n", Switch, "link", "set", ClusterPort(i), "master", ClusterBridge);

    /// <summary>Cuts the database host off the database bridge: no node reaches PostgreSQL.</summary>
    public void CutDatabase() => Ip("-n", Switch, "link", "set", "dbd", "nomaster");

    public void RestoreDatabase() => Ip("-n", Switch, "link", "set", "dbd", "master", DatabaseBridge);

    /// <summary>
    /// Moves node host i's cluster link behind a <see cref="LinkEmulator"/>: its veth leaves the bridge and gives up
    /// its address to a TAP device (`s0`) whose frames the emulator delays and drops on their way to and from a TAP
    /// port of the cluster bridge. The other hosts forget the old link's hardware address. Disposing of the result
    /// removes the emulator and puts the veth back.
    /// </summary>
    public SlowLink SlowCluster(int i, TimeSpan delay, double loss, int seed)
    {
        var host = NodeHost(i);
        CutCluster(i);
        Ip("-n", host, "addr", "del", NodeAddress(i) + "/24", "dev", "c0");
        var slow = new SlowLink(this, i);
        try
        {
            slow.Link = LinkEmulator.Start($"fcl{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}", host, "s0", NodeAddress(i),
                Switch, ClusterBridge, delay, loss, seed);
            ForgetNeighbour(i);
            return slow;
        }
        catch
        {
            slow.Dispose();
            throw;
        }
    }

    /// <summary>Every other node host drops what it knew of host i's hardware address (it changed).</summary>
    private void ForgetNeighbour(int i)
    {
        for (var other = 1; other <= NodeHosts; other++)
        {
            if (other != i)
            {
                TryIp("-n", NodeHost(other), "neigh", "flush", "to", NodeAddress(i));
            }
        }
    }

    /// <summary>Node host i behind the link emulator until disposed.</summary>
    public sealed class SlowLink(NetworkLab lab, int host) : IDisposable
    {
        public LinkEmulator Link { get; internal set; } = null!;

        public void Dispose()
        {
            Link?.Dispose();
            if (!lab._disposed)
            {
                TryIp("-n", lab.NodeHost(host), "addr", "add", NodeAddress(host) + "/24", "dev", "c0");
                lab.RestoreCluster(host);
                lab.ForgetNeighbour(host);
            }
        }
    }

    private string Add(string suffix)
    {
        var name = $"{_id}-{suffix}";
        Ip("netns", "add", name);
        _namespaces.Add(name);
        Ip("-n", name, "link", "set", "lo", "up");
        return name;
    }

    /// <summary>A veth pair: `inside` with the address in the host, `port` on the bridge in the switch namespace.</summary>
    private void Attach(string host, string inside, string port, string bridge, string address)
    {
        Ip("-n", Switch, "link", "add", port, "type", "veth", "peer", "name", inside, "netns", host);
        Ip("-n", Switch, "link", "set", port, "master", bridge);
        Ip("-n", Switch, "link", "set", port, "up");
        Ip("-n", host, "addr", "add", address + "/24", "dev", inside);
        Ip("-n", host, "link", "set", inside, "up");
    }

    public static string Ip(params string[] args) => Run("ip", args);

    /// <summary>Runs a program to its end; its stdout, or an exception with its stderr when it fails.</summary>
    public static string Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Trim()}");
        }
        return stdout.Result;
    }

    private static string? TryIp(params string[] args)
    {
        try
        {
            return Ip(args);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        // Deleting a namespace deletes its veth ends and, with the switch, the bridges.
        foreach (var name in Enumerable.Reverse(_namespaces))
        {
            TryIp("netns", "del", name);
        }
    }
}
