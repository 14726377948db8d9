using System.Runtime.Versioning;
using System.Security.Cryptography.X509Certificates;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Cli.Tests;

/// <summary>`foldcluster certs init|issue` and `node start --tls` input checks, through the real executable.</summary>
[SupportedOSPlatform("linux")]
public sealed class CertsCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("fc-certs-");

    private string At(params string[] parts) => Path.Combine([_dir.FullName, .. parts]);

    [Fact]
    public async Task Init_writes_the_CA_with_a_0600_key_and_refuses_to_overwrite_it()
    {
        var first = await CliProcess.RunAsync(["certs", "init", "--out", At("ca")]);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(At("ca", "ca.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(At("ca")));
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(At("ca", "ca.crt")));
        Assert.Equal("CN=FoldCluster cluster CA, O=FoldCluster", ca.Subject);
        Assert.True(ca.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal("", first.StandardOutput);

        var again = await CliProcess.RunAsync(["certs", "init", "--out", At("ca")]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already holds a cluster CA", again.StandardError, StringComparison.Ordinal);
        Assert.Contains("refusing to overwrite", again.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Issue_writes_a_0600_node_certificate_for_both_ends_signed_by_the_CA_with_the_CA_beside_it()
    {
        Assert.Equal(0, (await CliProcess.RunAsync(["certs", "init", "--out", At("ca")])).ExitCode);
        var issued = await CliProcess.RunAsync(["certs", "issue", "--ca", At("ca"), "--name", "node1", "--host", "10.1.2.3",
            "--host", "node1.example.org", "--out", At("node1", "node.pfx")]);
        Assert.True(issued.ExitCode == 0, issued.StandardError);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(At("node1", "node.pfx")));
        Assert.Equal(File.ReadAllText(At("ca", "ca.crt")), File.ReadAllText(At("node1", "ca.crt")));
        Assert.False(File.Exists(At("node1", "ca.key")));

        using var node = X509CertificateLoader.LoadPkcs12FromFile(At("node1", "node.pfx"), null, X509KeyStorageFlags.EphemeralKeySet);
        Assert.True(node.HasPrivateKey);
        Assert.Equal("CN=node1, O=FoldCluster", node.Subject);
        var san = node.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["node1", "node1.example.org"], san.EnumerateDnsNames().Order(StringComparer.Ordinal));
        Assert.Equal(["10.1.2.3"], san.EnumerateIPAddresses().Select(a => a.ToString()));
        var eku = node.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value);
        Assert.Equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], eku);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(File.ReadAllText(At("ca", "ca.crt"))));
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(node));

        var again = await CliProcess.RunAsync(["certs", "issue", "--ca", At("ca"), "--name", "node1", "--out", At("node1", "node.pfx")]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("refusing to overwrite", again.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bad name", "is not a node name")]
    [InlineData("node2", "expected ca.crt and ca.key")]
    public async Task Issue_refuses_bad_input_with_exit_code_2(string name, string expected)
    {
        var result = await CliProcess.RunAsync(["certs", "issue", "--ca", At("missing-ca"), "--name", name, "--out", At("n", "node.pfx")]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_start_tls_names_what_is_missing_and_exits_2()
    {
        var missing = await CliProcess.RunAsync(["node", "start", "--tls", At("nowhere"), "--print-config"]);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains($"--tls {At("nowhere")}: no such file or folder", missing.StandardError, StringComparison.Ordinal);
        Assert.Contains("foldcluster certs init", missing.StandardError, StringComparison.Ordinal);

        Assert.Equal(0, (await CliProcess.RunAsync(["certs", "init", "--out", At("ca")])).ExitCode);
        Assert.Equal(0, (await CliProcess.RunAsync(["certs", "issue", "--ca", At("ca"), "--name", "n1", "--out", At("n1", "node.pfx")])).ExitCode);
        File.Delete(At("n1", "ca.crt"));
        var noCa = await CliProcess.RunAsync(["node", "start", "--tls", At("n1"), "--print-config"]);
        Assert.Equal(2, noCa.ExitCode);
        Assert.Contains("the cluster CA certificate ca.crt is not beside node.pfx", noCa.StandardError, StringComparison.Ordinal);

        // A certificate of another CA than the one beside it is refused before anything starts.
        Assert.Equal(0, (await CliProcess.RunAsync(["certs", "init", "--out", At("other")])).ExitCode);
        File.Copy(At("other", "ca.crt"), At("n1", "ca.crt"));
        var wrongCa = await CliProcess.RunAsync(["node", "start", "--tls", At("n1", "node.pfx"), "--print-config"]);
        Assert.Equal(2, wrongCa.ExitCode);
        Assert.Contains("the node certificate is not signed by the cluster CA", wrongCa.StandardError, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
