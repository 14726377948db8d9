using System.ComponentModel;
using FoldCluster.Dashboard;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Dashboard;

public sealed class DashboardSettings : DatabaseSettings
{
    public const string TokenVariable = "FOLDCLUSTER_DASHBOARD_TOKEN";

    [CommandOption("--host <ADDRESS>")]
    [Description("Address to listen on (default 127.0.0.1). Beyond loopback a token is required.")]
    public string Host { get; init; } = "127.0.0.1";

    [CommandOption("--port <PORT>")]
    [Description("Port to listen on (default 8080; 0 picks a free one).")]
    public int Port { get; init; } = DashboardOptions.DefaultPort;

    [CommandOption("--token <TOKEN>")]
    [Description("Access token (at least 16 characters): requests must send it in the X-FoldCluster-Token header, or use the one-time link printed at start. Default: $FOLDCLUSTER_DASHBOARD_TOKEN.")]
    public string? Token { get; init; }

    public override ValidationResult Validate() =>
        Port is < 0 or > 65535 ? ValidationResult.Error($"--port {Port} is out of range: expected 1 to 65535 (0 picks a free port)") : ValidationResult.Success();
}

/// <summary>`foldcluster dashboard`: serves the dashboard until Ctrl-C or SIGTERM.</summary>
public sealed class DashboardCommand : Command<DashboardSettings>
{
    public override int Execute(CommandContext context, DashboardSettings settings, CancellationToken cancellationToken)
    {
        var token = settings.Token ?? (Environment.GetEnvironmentVariable(DashboardSettings.TokenVariable) is { Length: > 0 } t ? t : null);
        var options = new DashboardOptions { Host = settings.Host, Port = settings.Port, Token = token, ConnectionString = settings.ConnectionString() };
        options.Validate();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        var server = DashboardServer.StartAsync(options, stop.Token).GetAwaiter().GetResult();
        try
        {
            Console.Error.WriteLine($"dashboard on {server.Url}/ (read-only; Ctrl-C stops it)");
            if (server.LoginUrl is { } login)
            {
                Console.Error.WriteLine($"requests need the token (header {DashboardServer.TokenHeader}); one-time link for a browser: {login}");
            }
            try
            {
                Task.Delay(Timeout.Infinite, stop.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("dashboard stopped");
            }
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return 0;
    }
}
