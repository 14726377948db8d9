using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Storage.Sweeps;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands;

public sealed class SweepListSettings : DatabaseSettings
{
    [CommandOption("--json")]
    [Description("Print one JSON object {\"sweeps\": [...]} on stdout.")]
    public bool Json { get; init; }
}

public sealed class SweepListCommand : AsyncCommand<SweepListSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SweepListSettings settings, CancellationToken cancellationToken)
    {
        await using var dataSource = await SweepDatabase.OpenAsync(settings, cancellationToken);
        var sweeps = await new SweepStore(dataSource).ListAsync(cancellationToken);
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new
            {
                sweeps = sweeps.Select(s => new
                {
                    name = s.Name,
                    state = s.State,
                    created_at = s.CreatedAt,
                    code_version = s.CodeVersion,
                    jobs = new { total = s.Total, queued = s.Queued, running = s.Running, succeeded = s.Succeeded, failed = s.Failed, cancelled = s.Cancelled },
                }),
            }));
            return ExitCodes.Success;
        }
        if (sweeps.Count == 0)
        {
            Console.Error.WriteLine("no sweeps yet; submit one with `foldcluster sweep submit --preset smoke`");
            return ExitCodes.Success;
        }
        var width = Math.Max(4, sweeps.Max(s => s.Name.Length));
        Console.Out.WriteLine($"{"name".PadRight(width)}  state      created               total  queued  running  succeeded  failed  cancelled");
        foreach (var s in sweeps)
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Name.PadRight(width)}  {s.State,-9}  {s.CreatedAt:yyyy-MM-dd HH:mm:ss}Z  {s.Total,5}  {s.Queued,6}  {s.Running,7}  {s.Succeeded,9}  {s.Failed,6}  {s.Cancelled,9}"));
        }
        return ExitCodes.Success;
    }
}
