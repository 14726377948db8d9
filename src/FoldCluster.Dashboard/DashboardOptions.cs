using System.Net;
using FoldCluster.Core;

namespace FoldCluster.Dashboard;

/// <summary>How `foldcluster dashboard` serves: where it listens, which database it reads, and its access token.</summary>
public sealed record DashboardOptions
{
    public const int DefaultPort = 8080;
    public const int MinimumTokenLength = 16;

    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (tests, benchmarks).</summary>
    public int Port { get; init; } = DefaultPort;

    public required string ConnectionString { get; init; }

    /// <summary>Required beyond loopback: requests must carry it (header or cookie) or get 401.</summary>
    public string? Token { get; init; }

    /// <summary>How long a worker stays on the nodes page after its last heartbeat.</summary>
    public TimeSpan NodesWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the live pages look for changes.</summary>
    public TimeSpan LiveInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The address to bind; bad input (exit 2) for a host that is not an address or "localhost".</summary>
    public IPAddress Address()
    {
        if (Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }
        if (!IPAddress.TryParse(Host, out var address))
        {
            throw new BadInputException($"--host '{Host}' is not an IP address: expected e.g. 127.0.0.1 (default), ::1 or 0.0.0.0");
        }
        return address;
    }

    public bool IsLoopback => IPAddress.IsLoopback(Address());

    /// <summary>Refuses settings that would expose the dashboard without a token (bad input, exit 2).</summary>
    public void Validate()
    {
        if (Port is < 0 or > 65535)
        {
            throw new BadInputException($"--port {Port} is out of range: expected 1 to 65535 (0 picks a free port)");
        }
        // The token travels in a header and a cookie: printable ASCII without separators keeps it intact in both.
        if (Token is { } token && (token.Length < MinimumTokenLength || token.Any(c => c is <= ' ' or > '~' or ';' or ',' or '"' or '\\')))
        {
            throw new BadInputException($"--token must be at least {MinimumTokenLength} characters of printable ASCII without spaces, quotes, commas, semicolons or backslashes (e.g. the output of `openssl rand -hex 16`)");
        }
        if (!IsLoopback && Token is null)
        {
            throw new BadInputException(
                $"--host {Host} is beyond loopback: the dashboard then requires --token TOKEN (or $FOLDCLUSTER_DASHBOARD_TOKEN); " +
                "or keep the default 127.0.0.1 and reach it through an SSH tunnel (ssh -L 8080:127.0.0.1:8080 HOST)");
        }
    }
}
