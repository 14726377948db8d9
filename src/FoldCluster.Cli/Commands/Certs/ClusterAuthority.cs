using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Core;

namespace FoldCluster.Cli.Commands.Certs;

/// <summary>
/// The cluster's private certificate authority (ECDSA P-256): `certs init` writes its key and certificate, `certs issue`
/// signs node certificates that serve both ends of a TLS connection (server and client authentication).
/// </summary>
public static partial class ClusterAuthority
{
    public const string KeyFileName = "ca.key";
    private const UnixFileMode SecretMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates DIR/ca.crt and DIR/ca.key (0600); refuses to overwrite an existing CA.</summary>
    public static (string Certificate, string Key) Init(string directory, string name, int days)
    {
        var dir = Path.GetFullPath(directory);
        var certFile = Path.Combine(dir, ClusterTls.CaFileName);
        var keyFile = Path.Combine(dir, KeyFileName);
        if (File.Exists(certFile) || File.Exists(keyFile))
        {
            throw new BadInputException($"--out {directory} already holds a cluster CA ({ClusterTls.CaFileName} / {KeyFileName}); refusing to overwrite it (every node certificate depends on it)");
        }
        CreatePrivateDirectory(dir);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}, O=FoldCluster"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        using var ca = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(days));
        WriteSecret(keyFile, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certFile, ca.ExportCertificatePem() + "\n");
        return (certFile, keyFile);
    }

    /// <summary>Issues a node certificate into FILE (PKCS#12 with its key, 0600) and puts ca.crt beside it.</summary>
    public static IReadOnlyList<string> Issue(string caDirectory, string nodeName, IReadOnlyList<string> hosts, string outFile, int days)
    {
        if (!NodeName().IsMatch(nodeName))
        {
            throw new BadInputException($"--name '{nodeName}' is not a node name (expected 1-64 letters, digits, '.', '-' or '_')");
        }
        var caDir = Path.GetFullPath(caDirectory);
        var caCertFile = Path.Combine(caDir, ClusterTls.CaFileName);
        var caKeyFile = Path.Combine(caDir, KeyFileName);
        if (!File.Exists(caCertFile) || !File.Exists(caKeyFile))
        {
            throw new BadInputException($"--ca {caDirectory}: expected {ClusterTls.CaFileName} and {KeyFileName} written by `foldcluster certs init --out {caDirectory}`");
        }
        var output = Path.GetFullPath(outFile);
        if (File.Exists(output))
        {
            throw new BadInputException($"--out {outFile} exists; refusing to overwrite a node certificate (remove it first to re-issue)");
        }
        X509Certificate2 ca;
        try
        {
            ca = X509Certificate2.CreateFromPemFile(caCertFile, caKeyFile);
        }
        catch (CryptographicException e)
        {
            throw new BadInputException($"--ca {caDirectory}: {ClusterTls.CaFileName} and {KeyFileName} do not form a CA certificate with its key: {e.Message}");
        }
        using (ca)
        {
            var san = new SubjectAlternativeNameBuilder();
            var names = new List<string>();
            foreach (var host in hosts.Append(nodeName).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (IPAddress.TryParse(host, out var ip))
                {
                    san.AddIpAddress(ip);
                }
                else if (HostName().IsMatch(host))
                {
                    san.AddDnsName(host);
                }
                else
                {
                    throw new BadInputException($"--host '{host}' is neither an IP address nor a DNS name");
                }
                names.Add(host);
            }
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(new X500DistinguishedName($"CN={nodeName}, O=FoldCluster"), key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
            // One certificate for both ends: a node accepts connections and opens them.
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [new Oid("1.3.6.1.5.5.7.3.1", "serverAuth"), new Oid("1.3.6.1.5.5.7.3.2", "clientAuth")], critical: false));
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
            var now = DateTimeOffset.UtcNow;
            var notAfter = now.AddDays(days) < ca.NotAfter ? now.AddDays(days) : new DateTimeOffset(ca.NotAfter.ToUniversalTime());
            using var signed = request.Create(ca, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
            using var withKey = signed.CopyWithPrivateKey(key);

            var dir = Path.GetDirectoryName(output)!;
            CreatePrivateDirectory(dir);
            WriteSecret(output, withKey.Export(X509ContentType.Pkcs12));
            var caBeside = Path.Combine(dir, ClusterTls.CaFileName);
            var caPem = File.ReadAllText(caCertFile);
            if (!File.Exists(caBeside))
            {
                File.WriteAllText(caBeside, caPem);
            }
            else if (!X509Certificate2.CreateFromPem(File.ReadAllText(caBeside)).RawData.AsSpan().SequenceEqual(ca.RawData))
            {
                File.Delete(output);
                throw new BadInputException($"--out {outFile}: {caBeside} is another cluster's CA; put this node's certificate in another folder");
            }
            return names;
        }
    }

    private static void CreatePrivateDirectory(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("FoldCluster runs on Linux");
        }
        if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void WriteSecret(string path, string text) => WriteSecret(path, System.Text.Encoding.ASCII.GetBytes(text));

    private static void WriteSecret(string path, byte[] bytes)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("FoldCluster runs on Linux");
        }
        // Created 0600 from the first byte on (never readable by others, not even briefly).
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = SecretMode,
        });
        stream.Write(bytes);
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NodeName();

    [GeneratedRegex(@"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$")]
    private static partial Regex HostName();
}
