using System.ComponentModel;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Certs;

public sealed class CertsInitSettings : CommandSettings
{
    [CommandOption("--out <DIR>")]
    [Description("Folder for ca.crt and ca.key (created 0700).")]
    public string? Out { get; init; }

    [CommandOption("--name <NAME>")]
    [Description("The CA's common name (default: FoldCluster cluster CA).")]
    public string Name { get; init; } = "FoldCluster cluster CA";

    [CommandOption("--days <DAYS>")]
    [Description("Validity in days (default: 3650).")]
    public int Days { get; init; } = 3650;

    public override Spectre.Console.ValidationResult Validate() =>
        Out is null ? Spectre.Console.ValidationResult.Error("--out DIR is required (the folder for ca.crt and ca.key)")
        : Days is < 1 or > 36500 ? Spectre.Console.ValidationResult.Error($"--days {Days} is out of range (expected 1-36500)")
        : Name.Length is 0 or > 64 || Name.Any(c => c is ',' or '=' or '+' or '"' || char.IsControl(c))
            ? Spectre.Console.ValidationResult.Error($"--name '{Name}' is not a plain name (1-64 characters, no , = + \")")
            : Spectre.Console.ValidationResult.Success();
}

/// <summary>`foldcluster certs init --out DIR`: creates the cluster CA.</summary>
public sealed class CertsInitCommand : Command<CertsInitSettings>
{
    public override int Execute(CommandContext context, CertsInitSettings settings, CancellationToken cancellationToken)
    {
        var (certificate, key) = ClusterAuthority.Init(settings.Out!, settings.Name, settings.Days);
        Console.Error.WriteLine($"cluster CA created: {certificate} (goes beside every node certificate) and {key} (secret, mode 0600: keep it off the nodes)");
        Console.Error.WriteLine($"next: foldcluster certs issue --ca {settings.Out} --name NODE --host HOST --out NODE/node.pfx, then node start --tls NODE/node.pfx");
        return 0;
    }
}
