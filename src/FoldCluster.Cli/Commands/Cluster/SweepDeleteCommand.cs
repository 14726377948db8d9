using System.ComponentModel;
using FoldCluster.Core;
using FoldCluster.Storage.Sweeps;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

public sealed class SweepDeleteSettings : DatabaseSettings
{
    [CommandOption("--name <NAME>")]
    [Description("The sweep.")]
    public string? Name { get; init; }

    [CommandOption("--yes")]
    [Description("Confirm: the sweep's jobs, results and predictions are deleted for good.")]
    public bool Yes { get; init; }

    [CommandOption("--if-exists")]
    [Description("Succeed quietly when there is no such sweep.")]
    public bool IfExists { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Name)
            ? Spectre.Console.ValidationResult.Error("say which sweep: --name NAME (`foldcluster sweep list` shows them)")
            : !Yes
                ? Spectre.Console.ValidationResult.Error($"deleting sweep '{Name}' removes its jobs, results and predictions for good; add --yes to confirm")
                : Spectre.Console.ValidationResult.Success();
}

public sealed class SweepDeleteCommand : AsyncCommand<SweepDeleteSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SweepDeleteSettings settings, CancellationToken cancellationToken)
    {
        await using var dataSource = await SweepDatabase.OpenAsync(settings, cancellationToken);
        var store = new SweepStore(dataSource);
        if (settings.IfExists && !(await store.ListAsync(cancellationToken)).Any(s => s.Name == settings.Name))
        {
            Console.Error.WriteLine($"no sweep named '{settings.Name}'; nothing to delete");
            return ExitCodes.Success;
        }
        var jobs = await store.DeleteAsync(settings.Name!, cancellationToken);
        Console.Error.WriteLine($"sweep '{settings.Name}' deleted with its {jobs} jobs and their results");
        return ExitCodes.Success;
    }
}
