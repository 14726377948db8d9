using System.Net;
using System.Net.Sockets;
using System.Text;
using Akka.Configuration;
using Akka.Configuration.Hocon;
using FoldCluster.Core;

namespace FoldCluster.Cluster.Hosting;

/// <summary>
/// Who may reach a node (DESIGN.md section 8): a loopback bind needs nothing; any other bind needs mutual TLS
/// (`--tls`) or an explicit `--insecure-network`, which is warned about at every start.
/// </summary>
public static class NetworkPolicy
{
    /// <summary>True when every address the host name stands for is a loopback address (127.0.0.0/8, ::1, localhost).</summary>
    public static bool IsLoopback(string host)
    {
        if (IPAddress.TryParse(host, out var address))
        {
            return IPAddress.IsLoopback(address);
        }
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        try
        {
            var addresses = Dns.GetHostAddresses(host);
            return addresses.Length > 0 && addresses.All(IPAddress.IsLoopback);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Refuses (bad input, exit 2) a non-loopback bind without TLS unless the network was declared insecure.</summary>
    public static void Check(NodeOptions options, Action<string> log)
    {
        if (options.TlsPath is not null || IsLoopback(options.Host))
        {
            return;
        }
        if (!options.InsecureNetwork)
        {
            throw new BadInputException(
                $"--host {options.Host} is not a loopback address, and nodes beyond loopback need mutual TLS: {ClusterTls.Hint}; then start with --tls FILE|DIR (or, on a network you fully trust, --insecure-network)");
        }
        log($"WARNING: --insecure-network: remoting listens on {options.Host}:{options.Port} as plain TCP without authentication; anyone who can reach this port can join the cluster, claim jobs and forge results (use --tls, see `foldcluster certs`)");
    }

    /// <summary>
    /// The node's effective configuration as HOCON (its layers over Akka's own defaults) that parses back to the same
    /// values: every key and value quoted, and every value whose key names a password masked.
    /// </summary>
    public static string Render(Config effective)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in effective.Root.GetObject().Items.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append(Quote(key)).Append(" = ");
            Write(text, key, value, 0);
            text.Append('\n');
        }
        return text.ToString();
    }

    private static void Write(StringBuilder text, string key, HoconValue value, int indent)
    {
        if (value.IsObject())
        {
            text.Append("{\n");
            foreach (var (k, v) in value.GetObject().Items.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                text.Append(' ', indent + 2).Append(Quote(k)).Append(" = ");
                Write(text, k, v, indent + 2);
                text.Append('\n');
            }
            text.Append(' ', indent).Append('}');
        }
        else if (value.IsArray())
        {
            text.Append('[');
            var first = true;
            foreach (var element in value.GetArray())
            {
                text.Append(first ? "" : ", ");
                Write(text, key, element, indent);
                first = false;
            }
            text.Append(']');
        }
        else
        {
            var literal = value.GetString() ?? "";
            text.Append(Quote(literal.Length > 0 && key.Contains("password", StringComparison.OrdinalIgnoreCase) ? "***" : literal));
        }
    }

    private static string Quote(string s) =>
        "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal) + "\"";
}
