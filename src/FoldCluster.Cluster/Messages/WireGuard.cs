using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Dispatch.SysMsg;
using Akka.Event;
using Akka.Remote.Serialization;
using Akka.Serialization;

namespace FoldCluster.Cluster.Messages;

/// <summary>
/// Stands in for one of Akka's serializers that build types named by the sender (DESIGN.md section 8: no polymorphic
/// serializer reachable from the wire). It keeps the serializer's id, so a payload that names that id is refused
/// with a logged warning instead of being handed to the original, and nothing is ever serialized with it.
/// </summary>
public abstract class RefusingSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    // Created on first use: serializers are built while the actor system itself is still being built.
    private ILoggingAdapter? _log;

    private ILoggingAdapter Log => _log ??= Logging.GetLogger(system, "foldcluster-serialization");

    /// <summary>What the refused serializer was, for messages (e.g. "json (Newtonsoft, type names from the payload)").</summary>
    protected abstract string Refused { get; }

    public override byte[] ToBinary(object obj) => throw NotOnTheWire(obj);

    public override string Manifest(object o) => throw NotOnTheWire(o);

    // A string manifest: the sender's type name is never even looked up.
    public override object FromBinary(byte[] bytes, string manifest) => throw Refuse(bytes, manifest);

    private static SerializationException NotOnTheWire(object obj) => new(
        $"{obj.GetType().FullName} has no serializer on the FoldCluster wire: only FoldCluster's own messages (IClusterMessage) and Akka's system messages travel between nodes");

    /// <summary>Builds (and logs) the refusal; the payload's start is shown as printable ASCII so an operator sees what was tried.</summary>
    protected SerializationException Refuse(byte[] bytes, string? manifest)
    {
        var message = $"refused a message for serializer id {Identifier} ({Refused}) from the wire; manifest '{Printable(Encoding.UTF8.GetBytes(manifest ?? ""))}', payload starts '{Printable(bytes)}'";
        Log.Warning("{0}", message);
        Events.NodeEvents.Emit(new Events.MessageRefusedEvent(Identifier, message));
        return new SerializationException(message);
    }

    private static string Printable(byte[] bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes.Take(160))
        {
            text.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
        }
        return text.ToString();
    }
}

/// <summary>Replaces Akka's default `json` serializer (id 1: Newtonsoft with `$type` type names taken from the payload).</summary>
public sealed class RefusedJsonSerializer(ExtendedActorSystem system) : RefusingSerializer(system)
{
    // Akka passes the serializer's `serialization-settings` section when it has one.
    public RefusedJsonSerializer(ExtendedActorSystem system, Akka.Configuration.Config settings) : this(system)
    {
        _ = settings;
    }

    public override int Identifier => 1;

    protected override string Refused => "json: Newtonsoft with type names from the payload";
}

/// <summary>Replaces Akka.Remote's `proto` serializer (id 2: creates an instance of whatever type the manifest names).</summary>
public sealed class RefusedProtobufSerializer(ExtendedActorSystem system) : RefusingSerializer(system)
{
    // Akka passes the serializer's `serialization-settings` section when it has one.
    public RefusedProtobufSerializer(ExtendedActorSystem system, Akka.Configuration.Config settings) : this(system)
    {
        _ = settings;
    }

    public override int Identifier => 2;

    protected override string Refused => "proto: instantiates the type the manifest names";
}

/// <summary>
/// Replaces Akka.Remote's `daemon-create` serializer (id 3: remote deployment, actor types and their arguments named by
/// the sender). FoldCluster never deploys actors remotely, so a remote deployment cannot even be decoded.
/// </summary>
public sealed class RefusedDaemonCreateSerializer(ExtendedActorSystem system) : RefusingSerializer(system)
{
    // Akka passes the serializer's `serialization-settings` section when it has one.
    public RefusedDaemonCreateSerializer(ExtendedActorSystem system, Akka.Configuration.Config settings) : this(system)
    {
        _ = settings;
    }

    public override int Identifier => 3;

    protected override string Refused => "daemon-create: remote deployment";
}

/// <summary>
/// Akka.Remote's `akka-misc` serializer (id 16: Identify, ActorIdentity, remote-watch heartbeats, ...), minus
/// <c>Status.Failure</c>, whose exception is rebuilt from a type name sent by the peer (any ISerializable type), and
/// <c>Kill</c>.
/// </summary>
public sealed class GuardedMiscMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    // Akka passes the serializer's `serialization-settings` section when it has one.
    public GuardedMiscMessageSerializer(ExtendedActorSystem system, Akka.Configuration.Config settings) : this(system)
    {
        _ = settings;
    }

    private const string StatusFailureManifest = "STF";
    // Kill is not "possibly harmful" to Akka.NET's untrusted-mode; a peer must not restart our actors either.
    private const string KillManifest = "K";
    private readonly MiscMessageSerializer _inner = new(system);
    // Created on first use: serializers are built while the actor system itself is still being built.
    private ILoggingAdapter? _log;

    private ILoggingAdapter Log => _log ??= Logging.GetLogger(system, "foldcluster-serialization");

    public override int Identifier => 16;

    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    public override string Manifest(object o) => _inner.Manifest(o);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest == StatusFailureManifest)
        {
            const string message = "refused a Status.Failure from the wire (serializer id 16): its exception type is named by the sender";
            Log.Warning(message);
            Events.NodeEvents.Emit(new Events.MessageRefusedEvent(Identifier, message));
            throw new SerializationException(message);
        }
        if (manifest == KillManifest)
        {
            const string message = "refused a Kill from the wire (serializer id 16): peers may not restart this node's actors";
            Log.Warning(message);
            Events.NodeEvents.Emit(new Events.MessageRefusedEvent(Identifier, message));
            throw new SerializationException(message);
        }
        return _inner.FromBinary(bytes, manifest);
    }
}

/// <summary>
/// Akka.Remote's `akka-system-msg` serializer (id 22) for what a cluster needs between nodes (death watch: Watch,
/// Unwatch, DeathWatchNotification). The supervision messages of remotely deployed children (Create, Recreate,
/// Failed, ...) carry exceptions rebuilt from sender-named types and are refused.
/// </summary>
public sealed class GuardedSystemMessageSerializer(ExtendedActorSystem system) : Serializer(system)
{
    // Akka passes the serializer's `serialization-settings` section when it has one.
    public GuardedSystemMessageSerializer(ExtendedActorSystem system, Akka.Configuration.Config settings) : this(system)
    {
        _ = settings;
    }

    private static readonly HashSet<Type> Allowed = [typeof(Watch), typeof(Unwatch), typeof(DeathWatchNotification)];
    private readonly SystemMessageSerializer _inner = new(system);
    // Created on first use: serializers are built while the actor system itself is still being built.
    private ILoggingAdapter? _log;

    private ILoggingAdapter Log => _log ??= Logging.GetLogger(system, "foldcluster-serialization");

    public override int Identifier => 22;

    public override bool IncludeManifest => true;

    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    public override object FromBinary(byte[] bytes, Type type)
    {
        if (type is null || !Allowed.Contains(type))
        {
            var message = $"refused system message {type?.FullName ?? "(no type)"} from the wire (serializer id 22): only death watch crosses nodes";
            Log.Warning("{0}", message);
            Events.NodeEvents.Emit(new Events.MessageRefusedEvent(Identifier, message));
            throw new SerializationException(message);
        }
        return _inner.FromBinary(bytes, type);
    }
}
