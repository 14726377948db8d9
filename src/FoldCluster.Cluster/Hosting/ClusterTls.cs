using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using FoldCluster.Core;

namespace FoldCluster.Cluster.Hosting;

/// <summary>
/// A node's TLS material (DESIGN.md section 8): its certificate with private key (PKCS#12, as written by
/// `foldcluster certs issue`) and the cluster CA's certificate (`ca.crt` beside it). Remoting then runs mutual TLS:
/// both ends present a certificate and each accepts the other only if it chains to the cluster CA (not to the
/// operating system's trust store, which would admit any publicly signed certificate).
/// </summary>
public sealed class ClusterTls
{
    public const string CaFileName = "ca.crt";
    public const string Hint = "create the cluster CA with `foldcluster certs init --out DIR` and this node's certificate with `foldcluster certs issue --ca DIR --name NODE --host HOST --out FILE`";

    private ClusterTls(X509Certificate2 certificate, X509Certificate2 authority, string certificateFile)
    {
        Certificate = certificate;
        Authority = authority;
        CertificateFile = certificateFile;
    }

    public X509Certificate2 Certificate { get; }

    public X509Certificate2 Authority { get; }

    public string CertificateFile { get; }

    /// <summary>
    /// Loads `--tls FILE|DIR`: FILE is the node's PKCS#12 file (ca.crt beside it); DIR holds exactly one .pfx / .p12
    /// file and ca.crt. Bad input names the path and what was expected.
    /// </summary>
    public static ClusterTls Load(string path, string? password)
    {
        var full = Path.GetFullPath(path);
        string file;
        if (Directory.Exists(full))
        {
            var candidates = Directory.EnumerateFiles(full)
                .Where(f => f.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal).ToArray();
            file = candidates.Length switch
            {
                1 => candidates[0],
                0 => throw new BadInputException($"--tls {path}: the folder holds no node certificate (*.pfx or *.p12); {Hint}"),
                _ => throw new BadInputException($"--tls {path}: the folder holds several node certificates ({string.Join(", ", candidates.Select(Path.GetFileName))}); name one with --tls FILE"),
            };
        }
        else if (File.Exists(full))
        {
            file = full;
        }
        else
        {
            throw new BadInputException($"--tls {path}: no such file or folder (expected a node certificate .pfx or a folder with one and {CaFileName}); {Hint}");
        }
        var caFile = Path.Combine(Path.GetDirectoryName(file)!, CaFileName);
        if (!File.Exists(caFile))
        {
            throw new BadInputException($"--tls {path}: the cluster CA certificate {CaFileName} is not beside {Path.GetFileName(file)} (`foldcluster certs issue` writes it there)");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(file, password, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException e)
        {
            throw new BadInputException($"--tls {path}: {Path.GetFileName(file)} is not a readable PKCS#12 certificate (wrong password in foldcluster.tls.password or FOLDCLUSTER_TLS_PASSWORD?): {e.Message}");
        }
        if (!certificate.HasPrivateKey)
        {
            throw new BadInputException($"--tls {path}: {Path.GetFileName(file)} holds no private key; {Hint}");
        }
        X509Certificate2 authority;
        try
        {
            authority = X509Certificate2.CreateFromPem(File.ReadAllText(caFile));
        }
        catch (CryptographicException e)
        {
            throw new BadInputException($"--tls {path}: {caFile} is not a PEM certificate: {e.Message}");
        }
        var now = DateTime.Now;
        if (now < certificate.NotBefore || now > certificate.NotAfter)
        {
            throw new BadInputException($"--tls {path}: the node certificate is valid from {certificate.NotBefore:u} to {certificate.NotAfter:u} only; issue a new one");
        }
        var tls = new ClusterTls(certificate, authority, file);
        if (!tls.ChainsToAuthority(certificate, out var why))
        {
            throw new BadInputException($"--tls {path}: the node certificate is not signed by the cluster CA in {caFile}: {why}");
        }
        return tls;
    }

    /// <summary>Akka.Remote's programmatic TLS setup: mutual authentication, our CA check instead of the system store.</summary>
    public DotNettySslSetup Setup() =>
        new(Certificate, suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false, customValidator: Validate);

    /// <summary>Accepts a peer's certificate only if it chains to the cluster CA (called on both ends of every connection).</summary>
    public bool Validate(X509Certificate2? certificate, X509Chain? chain, string peer, SslPolicyErrors errors, ILoggingAdapter log)
    {
        if (certificate is null)
        {
            log.Warning("refused TLS peer {0}: it presented no certificate", peer);
            Events.NodeEvents.Emit(new Events.TlsPeerRefusedEvent(peer, null, "it presented no certificate"));
            return false;
        }
        if (!ChainsToAuthority(certificate, out var why))
        {
            log.Warning("refused TLS peer {0} ({1}): its certificate is not signed by the cluster CA ({2})", peer, certificate.Subject, why);
            Events.NodeEvents.Emit(new Events.TlsPeerRefusedEvent(peer, certificate.Subject, $"its certificate is not signed by the cluster CA ({why})"));
            return false;
        }
        return true;
    }

    private bool ChainsToAuthority(X509Certificate2 certificate, out string why)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        // A private CA publishes no revocation lists; a compromised node is removed by re-keying the cluster.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = DateTime.Now;
        if (!chain.Build(certificate))
        {
            why = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty("no chain"));
            return false;
        }
        var root = chain.ChainElements[^1].Certificate;
        if (!root.RawDataMemory.Span.SequenceEqual(Authority.RawDataMemory.Span))
        {
            why = $"its chain ends at {root.Subject}, not at the cluster CA {Authority.Subject}";
            return false;
        }
        why = "";
        return true;
    }
}
