using Akka.Actor;
using Akka.Cluster;

namespace FoldCluster.Cluster.Coordinator;

/// <summary>
/// The coordinator's registration checks (DESIGN.md section 8): a worker's registration, heartbeat (re-registration),
/// work requests and job reports are accepted only from the cluster member whose address the worker id names, and
/// only for slots that member registered. A member cannot register, or ask for work, in another member's name.
/// </summary>
public sealed class WorkerAdmission(Akka.Cluster.Cluster cluster, Action<string> log)
{
    private static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(30);
    private readonly Dictionary<string, DateTime> _lastLogged = new(StringComparer.Ordinal);

    /// <summary>The cluster node an actor lives on (a local actor: this node).</summary>
    public Address NodeOf(IActorRef sender) =>
        sender.Path.Address.HasLocalScope ? cluster.SelfAddress : sender.Path.Address;

    /// <summary>
    /// The member a first registration comes from, or null when it is refused: the sender is not a member, or the
    /// worker id it names is not the sender's own (host:port#uid of the sending node).
    /// </summary>
    public UniqueAddress? Register(string workerId, IActorRef sender)
    {
        var from = NodeOf(sender);
        var member = cluster.State.Members.FirstOrDefault(m => m.Address.Equals(from));
        if (member is null)
        {
            // Not (yet / any more) a member: a genuine worker retries every few seconds, so this is no error.
            return null;
        }
        if (WorkerRegistry.RegistrationRefusal(workerId, member.UniqueAddress) is { } why)
        {
            Refused("registration", workerId, from, why);
            return null;
        }
        return member.UniqueAddress;
    }

    /// <summary>
    /// Whether a message naming a registered worker (and optionally one of its slots) comes from that worker's member
    /// and names a slot it registered (<see cref="WorkerRegistry.Refusal"/>); refusals are logged.
    /// </summary>
    public bool Admits(string what, WorkerRegistry.Worker worker, string? slot, IActorRef sender)
    {
        var from = NodeOf(sender);
        if (WorkerRegistry.Refusal(worker, slot, from) is { } why)
        {
            Refused(what, worker.Id, from, why);
            return false;
        }
        return true;
    }

    private void Refused(string what, string workerId, Address from, string why)
    {
        // A rogue member may repeat itself many times a second; one line per kind and sender every 30 s is enough.
        var key = $"{what}|{from}|{workerId}";
        var now = DateTime.UtcNow;
        if (_lastLogged.TryGetValue(key, out var last) && now - last < LogEvery)
        {
            return;
        }
        if (_lastLogged.Count > 10_000)
        {
            _lastLogged.Clear();
        }
        _lastLogged[key] = now;
        log($"coordinator: refused {what} from {from}: {why}");
        Events.NodeEvents.Emit(new Events.RequestRefusedEvent(what, workerId, from.ToString(), why));
    }
}
