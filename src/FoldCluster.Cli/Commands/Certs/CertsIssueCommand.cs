using System.ComponentModel;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Certs;

public sealed class CertsIssueSettings : CommandSettings
{
    [CommandOption("--ca <DIR>")]
    [Description("The cluster CA's folder (from `certs init`).")]
    public string? Ca { get; init; }

    [CommandOption("--name <NODE>")]
    [Description("The node's name (certificate subject CN; also a DNS name of the certificate).")]
    public string? Name { get; init; }

    [CommandOption("--host <HOST>")]
    [Description("A host name or IP address of the node (repeatable; recorded as subject alternative names).")]
    public string[] Hosts { get; init; } = [];

    [CommandOption("--out <FILE>")]
    [Description("The node certificate with its key (PKCS#12, mode 0600); ca.crt is written beside it.")]
    public string? Out { get; init; }

    [CommandOption("--days <DAYS>")]
    [Description("Validity in days (default: 825; never beyond the CA's).")]
    public int Days { get; init; } = 825;

    public override Spectre.Console.ValidationResult Validate() =>
        Ca is null ? Spectre.Console.ValidationResult.Error("--ca DIR is required (the folder written by `foldcluster certs init`)")
        : Name is null ? Spectre.Console.ValidationResult.Error("--name NODE is required")
        : Out is null ? Spectre.Console.ValidationResult.Error("--out FILE is required (for example node1/node.pfx)")
        : Days is < 1 or > 36500 ? Spectre.Console.ValidationResult.Error($"--days {Days} is out of range (expected 1-36500)")
        : Spectre.Console.ValidationResult.Success();
}

/// <summary>`foldcluster certs issue`: a node certificate signed by the cluster CA.</summary>
public sealed class CertsIssueCommand : Command<CertsIssueSettings>
{
    public override int Execute(CommandContext context, CertsIssueSettings settings, CancellationToken cancellationToken)
    {
        var names = ClusterAuthority.Issue(settings.Ca!, settings.Name!, settings.Hosts, settings.Out!, settings.Days);
        Console.Error.WriteLine($"node certificate for {settings.Name} ({string.Join(", ", names)}) written to {Path.GetFullPath(settings.Out!)} (mode 0600), with ca.crt beside it");
        Console.Error.WriteLine($"start the node with: foldcluster node start --tls {settings.Out} ...");
        return 0;
    }
}
