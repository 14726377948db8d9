using System.ComponentModel;
using FoldCluster.Cli.Infrastructure;
using FoldCluster.Core;
using FoldCluster.Core.Sweeps;
using FoldCluster.Storage.Sweeps;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

public sealed class SweepSubmitSettings : DatabaseSettings
{
    [CommandOption("--spec <FILE>")]
    [Description("YAML sweep spec (schema: docs/sweep-spec.md).")]
    public string? Spec { get; init; }

    [CommandOption("--preset <NAME>")]
    [Description("Built-in sweep: paper (Tables II + III, 440 jobs), paper-table2, paper-table3 or smoke.")]
    public string? Preset { get; init; }

    [CommandOption("--name <NAME>")]
    [Description("Sweep name (default: the spec's name).")]
    public string? Name { get; init; }

    [CommandOption("--data-root <DIR>")]
    [Description("Make the spec's relative paths absolute against this folder before storing it (default: each worker resolves them against its own --data-root).")]
    public string? DataRoot { get; init; }

    [CommandOption("--wait")]
    [Description("Follow the sweep until no job is queued or running; exit 1 if any job failed or was cancelled.")]
    public bool Wait { get; init; }

    public override Spectre.Console.ValidationResult Validate() => (Spec, Preset) switch
    {
        (null, null) => Spectre.Console.ValidationResult.Error("say which sweep to submit: --spec FILE or --preset NAME"),
        (not null, not null) => Spectre.Console.ValidationResult.Error("give either --spec or --preset, not both"),
        _ => Spectre.Console.ValidationResult.Success(),
    };
}

public sealed class SweepSubmitCommand : AsyncCommand<SweepSubmitSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SweepSubmitSettings settings, CancellationToken cancellationToken)
    {
        var spec = settings.Spec is not null ? SweepSpecParser.ParseFile(settings.Spec) : SweepPresets.Load(settings.Preset!);
        if (settings.Name is not null)
        {
            spec = spec.WithName(settings.Name);
        }
        if (settings.DataRoot is not null)
        {
            if (!Directory.Exists(settings.DataRoot))
            {
                throw new BadInputException($"--data-root '{settings.DataRoot}' is not a folder");
            }
            spec = SweepPaths.Resolve(spec, settings.DataRoot);
            foreach (var dataset in spec.Datasets.Where(d => !Directory.Exists(d.Root)).DistinctBy(d => d.Root))
            {
                // Workers may see other disks than the submitting machine, so this is a warning, not a refusal.
                Console.Error.WriteLine($"warning: dataset '{dataset.Name}' root '{dataset.Root}' does not exist on this machine; workers without it fail its jobs");
            }
        }
        SweepSubmitChecks.CheckOverrides(spec);
        var plans = SweepSubmitChecks.PlanUtteranceSets(spec, Console.Error);

        await using var dataSource = await SweepDatabase.OpenAsync(settings, cancellationToken);
        var store = new SweepStore(dataSource);
        var submission = await store.SubmitAsync(spec, CliHost.Version, cancellationToken);
        await new UtteranceSetStore(dataSource).RecordAsync(submission.SweepId, plans, cancellationToken);
        Console.Error.WriteLine(submission.Created
            ? $"sweep '{submission.Name}' submitted: {submission.JobsCreated} jobs queued"
            : $"sweep '{submission.Name}' exists with this spec: resumed, {submission.JobsCreated} new jobs, {submission.JobsRequeued} cancelled jobs requeued, {submission.JobsTotal} jobs in total");
        if (!settings.Wait)
        {
            return ExitCodes.Success;
        }

        var final = await SweepMonitor.FollowAsync(store, submission.Name, cancellationToken);
        var s = final.Sweep;
        if (s.Failed > 0 || s.Cancelled > 0)
        {
            Console.Error.WriteLine($"sweep '{s.Name}' finished: {s.Succeeded} succeeded, {s.Failed} failed, {s.Cancelled} cancelled (see `foldcluster sweep status --name {s.Name}`)");
            return ExitCodes.WorkFailed;
        }
        Console.Error.WriteLine($"sweep '{s.Name}' finished: all {s.Succeeded} jobs succeeded");
        return ExitCodes.Success;
    }
}
