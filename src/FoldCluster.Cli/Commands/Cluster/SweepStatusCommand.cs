using System.ComponentModel;
using FoldCluster.Core;
using FoldCluster.Storage.Sweeps;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

public sealed class SweepStatusSettings : DatabaseSettings
{
    [CommandOption("--name <NAME>")]
    [Description("The sweep (default: the most recently submitted one).")]
    public string? Name { get; init; }

    [CommandOption("--watch")]
    [Description("Keep the display up to date until no job is queued or running.")]
    public bool Watch { get; init; }

    [CommandOption("--json")]
    [Description("Print one JSON object on stdout.")]
    public bool Json { get; init; }

    public override Spectre.Console.ValidationResult Validate() => Watch && Json
        ? Spectre.Console.ValidationResult.Error("--watch and --json cannot be combined: --json prints one object and exits")
        : Spectre.Console.ValidationResult.Success();
}

public sealed class SweepStatusCommand : AsyncCommand<SweepStatusSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SweepStatusSettings settings, CancellationToken cancellationToken)
    {
        await using var dataSource = await SweepDatabase.OpenAsync(settings, cancellationToken);
        var store = new SweepStore(dataSource);
        var status = await store.StatusAsync(settings.Name, cancellationToken);
        if (settings.Json)
        {
            Console.Out.WriteLine(SweepStatusView.JsonObject(status));
            return ExitCodes.Success;
        }
        if (settings.Watch)
        {
            status = await SweepMonitor.FollowAsync(store, status.Sweep.Name, cancellationToken);
        }
        Console.Out.Write(SweepStatusView.Text(status));
        return ExitCodes.Success;
    }
}
