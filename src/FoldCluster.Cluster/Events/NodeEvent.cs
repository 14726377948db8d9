using System.Text.Json.Serialization;

namespace FoldCluster.Cluster.Events;

/// <summary>
/// One structured event of a node (docs/cluster.md, Events): written as one JSON line to the node's `--events FILE`
/// beside the human log line of the same moment. The set is closed: a reader refuses kinds it does not know.
/// Every event carries <see cref="Time"/> (UTC) and <see cref="Node"/> (the node's --node-name); the kind is the
/// JSON property `kind`.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(NodeStartedEvent), NodeStartedEvent.Kind)]
[JsonDerivedType(typeof(JoinedEvent), JoinedEvent.Kind)]
[JsonDerivedType(typeof(NodeStoppedEvent), NodeStoppedEvent.Kind)]
[JsonDerivedType(typeof(CoordinatorStartedEvent), CoordinatorStartedEvent.Kind)]
[JsonDerivedType(typeof(CoordinatorStoppedEvent), CoordinatorStoppedEvent.Kind)]
[JsonDerivedType(typeof(WorkerRegisteredEvent), WorkerRegisteredEvent.Kind)]
[JsonDerivedType(typeof(RequestRefusedEvent), RequestRefusedEvent.Kind)]
[JsonDerivedType(typeof(TlsPeerRefusedEvent), TlsPeerRefusedEvent.Kind)]
[JsonDerivedType(typeof(MessageRefusedEvent), MessageRefusedEvent.Kind)]
[JsonDerivedType(typeof(JobAssignedEvent), JobAssignedEvent.Kind)]
[JsonDerivedType(typeof(JobStartedEvent), JobStartedEvent.Kind)]
[JsonDerivedType(typeof(JobFinishedEvent), JobFinishedEvent.Kind)]
[JsonDerivedType(typeof(JobsRequeuedEvent), JobsRequeuedEvent.Kind)]
[JsonDerivedType(typeof(WorkerLostEvent), WorkerLostEvent.Kind)]
[JsonDerivedType(typeof(DatabaseRetryEvent), DatabaseRetryEvent.Kind)]
public abstract record NodeEvent
{
    public DateTime Time { get; init; } = DateTime.UtcNow;

    public string Node { get; init; } = "";
}

/// <summary>
/// The node is listening (its remoting port is bound); <see cref="Pid"/> is the process that hosts it;
/// <see cref="TlsSubject"/> its certificate's subject under mutual TLS (null: plain TCP).
/// </summary>
public sealed record NodeStartedEvent(string Host, int Port, IReadOnlyList<string> Roles, string WorkerId, int Pid, string? TlsSubject) : NodeEvent
{
    public const string Kind = "node-started";
}

/// <summary>This node is Up in the cluster.</summary>
public sealed record JoinedEvent(string Address) : NodeEvent
{
    public const string Kind = "joined";
}

/// <summary>The node process is about to exit: <see cref="Joined"/> false when it never joined (e.g. TLS refused).</summary>
public sealed record NodeStoppedEvent(bool Joined, int ExitCode, string Reason) : NodeEvent
{
    public const string Kind = "node-stopped";
}

/// <summary>The coordinator singleton started on this node (<see cref="Pid"/>: the process that hosts it).</summary>
public sealed record CoordinatorStartedEvent(string Incarnation, int Pid) : NodeEvent
{
    public const string Kind = "coordinator-started";
}

/// <summary>The coordinator singleton stopped on this node (handed over, or the node is leaving).</summary>
public sealed record CoordinatorStoppedEvent(string Incarnation) : NodeEvent
{
    public const string Kind = "coordinator-stopped";
}

/// <summary>Seen by the coordinator: a worker's first registration was accepted.</summary>
public sealed record WorkerRegisteredEvent(string Worker, string WorkerId, IReadOnlyList<string> Slots) : NodeEvent
{
    public const string Kind = "worker-registered";
}

/// <summary>
/// The coordinator refused a message naming a worker: <see cref="Request"/> is registration, re-registration, work
/// request, progress report or job report; <see cref="From"/> the sending member's address. Repeats of one kind
/// from one sender are reported once per 30 s.
/// </summary>
public sealed record RequestRefusedEvent(string Request, string WorkerId, string From, string Reason) : NodeEvent
{
    public const string Kind = "request-refused";
}

/// <summary>A TLS peer was refused: <see cref="Subject"/> is its certificate's subject (null: it presented none).</summary>
public sealed record TlsPeerRefusedEvent(string Peer, string? Subject, string Reason) : NodeEvent
{
    public const string Kind = "tls-peer-refused";
}

/// <summary>A message from the wire was refused by the serialization lockdown (<see cref="SerializerId"/>).</summary>
public sealed record MessageRefusedEvent(int SerializerId, string Detail) : NodeEvent
{
    public const string Kind = "message-refused";
}

/// <summary>
/// The coordinator assigned a job: <see cref="DispatchMs"/> is the time from the slot's RequestWork arriving to the
/// JobAssigned leaving (the PostgreSQL claim in between).
/// </summary>
public sealed record JobAssignedEvent(string Sweep, long Job, int Attempt, string Worker, string WorkerId, string Slot, double DispatchMs) : NodeEvent
{
    public const string Kind = "job-assigned";
}

/// <summary>A worker slot started an attempt.</summary>
public sealed record JobStartedEvent(string Sweep, long Job, int Attempt, string Slot) : NodeEvent
{
    public const string Kind = "job-started";
}

/// <summary>
/// A worker slot's attempt ended: <see cref="Outcome"/> is stored, rejected-stale (fenced off: not current any
/// more), failed-retryable, failed or stopped; <see cref="Detail"/> says why when it was not stored.
/// </summary>
public sealed record JobFinishedEvent(long Job, int Attempt, string Slot, string Outcome, double Seconds, string? Detail) : NodeEvent
{
    public const string Kind = "job-finished";

    public const string Stored = "stored";
    public const string RejectedStale = "rejected-stale";
    public const string FailedRetryable = "failed-retryable";
    public const string Failed = "failed";
    public const string Stopped = "stopped";
}

/// <summary>
/// Running jobs went back to the queue: <see cref="Reason"/> is worker-lost (the coordinator requeued a lost
/// worker's jobs), lease-expired (their leases ran out) or node-left (this node put its own jobs back on leaving).
/// </summary>
public sealed record JobsRequeuedEvent(int Count, string Reason, string? Worker) : NodeEvent
{
    public const string Kind = "jobs-requeued";

    public const string WorkerLost = "worker-lost";
    public const string LeaseExpired = "lease-expired";
    public const string NodeLeft = "node-left";
}

/// <summary>Seen by the coordinator: a registered worker was lost (downed, removed or its actor terminated).</summary>
public sealed record WorkerLostEvent(string Worker, string WorkerId, string Reason) : NodeEvent
{
    public const string Kind = "worker-lost";
}

/// <summary>A database call failed for want of the database and is retried (<see cref="What"/>: the call).</summary>
public sealed record DatabaseRetryEvent(string What, string Error) : NodeEvent
{
    public const string Kind = "database-retry";
}
