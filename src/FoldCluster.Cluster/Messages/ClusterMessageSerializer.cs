using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace FoldCluster.Cluster.Messages;

/// <summary>
/// The explicit serializer of the project's own messages (DESIGN.md sections 2 and 8): System.Text.Json of the
/// concrete record chosen by a manifest string from a fixed table. A manifest outside the table is refused, so
/// nothing but these records can be instantiated from the wire.
/// </summary>
public sealed class ClusterMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 4711;

    private static readonly IReadOnlyDictionary<string, Type> TypeByManifest = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        ["register-worker"] = typeof(RegisterWorker),
        ["worker-registered"] = typeof(WorkerRegistered),
        ["request-work"] = typeof(RequestWork),
        ["job-assigned"] = typeof(JobAssigned),
        ["no-work"] = typeof(NoWorkAvailable),
        ["job-progress"] = typeof(JobProgress),
        ["job-finished"] = typeof(JobFinished),
        ["job-failed"] = typeof(JobFailed),
        ["job-stopped"] = typeof(JobStopped),
        ["cancel-job"] = typeof(CancelJob),
    };

    private static readonly IReadOnlyDictionary<Type, string> ManifestByType =
        TypeByManifest.ToDictionary(p => p.Value, p => p.Key);

    private static readonly JsonSerializerOptions Json = new()
    {
        // Losses can be NaN when a run diverges; they must still travel.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = false,
        MaxDepth = 16,
    };

    public override int Identifier => SerializerId;

    /// <summary>Every message type this serializer knows, for tests that round-trip all of them.</summary>
    public static IReadOnlyCollection<Type> KnownTypes => ManifestByType.Keys.ToArray();

    public override string Manifest(object o) =>
        ManifestByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new SerializationException($"{o.GetType().FullName} is not a FoldCluster cluster message");

    public override byte[] ToBinary(object obj) =>
        JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!TypeByManifest.TryGetValue(manifest, out var type))
        {
            throw new SerializationException($"unknown FoldCluster message manifest '{manifest}'");
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, type, Json)
                ?? throw new SerializationException($"empty FoldCluster message '{manifest}'");
        }
        catch (JsonException e)
        {
            throw new SerializationException($"malformed FoldCluster message '{manifest}': {e.Message}", e);
        }
    }
}
