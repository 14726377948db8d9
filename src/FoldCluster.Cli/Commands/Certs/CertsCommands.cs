using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Certs;

/// <summary>`foldcluster certs`: the cluster CA and the node certificates of mutual TLS between nodes.</summary>
public static class CertsCommands
{
    public static void Register(IConfigurator config)
    {
        config.AddBranch("certs", certs =>
        {
            certs.SetDescription("Certificates for mutual TLS between cluster nodes (a private cluster CA; no openssl needed).");
            certs.AddCommand<CertsInitCommand>("init")
                .WithDescription("Create the cluster CA: DIR/ca.crt (give it to every node) and DIR/ca.key (keep it secret; mode 0600).")
                .WithExample("certs", "init", "--out", "cluster-ca");
            certs.AddCommand<CertsIssueCommand>("issue")
                .WithDescription("Issue a node certificate signed by the cluster CA: FILE (PKCS#12, mode 0600) with ca.crt beside it, for `node start --tls FILE`.")
                .WithExample("certs", "issue", "--ca", "cluster-ca", "--name", "node1", "--host", "node1.example.org", "--out", "node1/node.pfx");
        });
    }
}
