using System.ComponentModel;
using FoldCluster.Core;
using FoldCluster.Storage.Sweeps;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

public sealed class SweepRetrySettings : DatabaseSettings
{
    [CommandOption("--name <NAME>")]
    [Description("The sweep.")]
    public string? Name { get; init; }

    [CommandOption("--failed")]
    [Description("Requeue the failed jobs (each gets a fresh retry budget).")]
    public bool Failed { get; init; }

    public override Spectre.Console.ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            return Spectre.Console.ValidationResult.Error("say which sweep: --name NAME (`foldcluster sweep list` shows them)");
        }
        return Failed
            ? Spectre.Console.ValidationResult.Success()
            : Spectre.Console.ValidationResult.Error("say which jobs to retry: --failed (the only kind that can be retried)");
    }
}

public sealed class SweepRetryCommand : AsyncCommand<SweepRetrySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SweepRetrySettings settings, CancellationToken cancellationToken)
    {
        await using var dataSource = await SweepDatabase.OpenAsync(settings, cancellationToken);
        var requeued = await new SweepStore(dataSource).RetryFailedAsync(settings.Name!, cancellationToken);
        Console.Error.WriteLine(requeued == 0
            ? $"sweep '{settings.Name}' has no failed jobs"
            : $"sweep '{settings.Name}': {requeued} failed jobs queued again");
        return ExitCodes.Success;
    }
}
