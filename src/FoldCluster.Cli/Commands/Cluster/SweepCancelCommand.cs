using System.ComponentModel;
using FoldCluster.Core;
using FoldCluster.Storage.Sweeps;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

public sealed class SweepNameSettings : DatabaseSettings
{
    [CommandOption("--name <NAME>")]
    [Description("The sweep.")]
    public string? Name { get; init; }

    public override Spectre.Console.ValidationResult Validate() => string.IsNullOrWhiteSpace(Name)
        ? Spectre.Console.ValidationResult.Error("say which sweep: --name NAME (`foldcluster sweep list` shows them)")
        : Spectre.Console.ValidationResult.Success();
}

public sealed class SweepCancelCommand : AsyncCommand<SweepNameSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SweepNameSettings settings, CancellationToken cancellationToken)
    {
        await using var dataSource = await SweepDatabase.OpenAsync(settings, cancellationToken);
        var cancelled = await new SweepStore(dataSource).CancelAsync(settings.Name!, cancellationToken);
        Console.Error.WriteLine($"sweep '{settings.Name}' cancelled: {cancelled} queued or running jobs cancelled; running workers stop at their next heartbeat");
        return ExitCodes.Success;
    }
}
