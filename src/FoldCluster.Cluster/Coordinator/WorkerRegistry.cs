using Akka.Actor;
using Akka.Cluster;
using FoldCluster.Cluster.Messages;
using FoldCluster.Storage.Jobs;

namespace FoldCluster.Cluster.Coordinator;

/// <summary>
/// The coordinator's picture of its workers (DESIGN.md section 8): who registered from which member, their slots,
/// the jobs each slot holds (running or prefetched), assignments still in flight, claims being made, and when each
/// worker was last heard from. A plain class: the coordinator actor owns it and calls it on its own thread;
/// PostgreSQL stays the truth, this is a cache of it. The membership checks (a message naming a worker must come
/// from that worker's member and name one of its slots) live here too, as plain comparisons of addresses.
/// </summary>
public sealed class WorkerRegistry
{
    private readonly Dictionary<string, Worker> _workers = new(StringComparer.Ordinal);
    private readonly HashSet<(string Worker, string Slot)> _claimsInFlight = [];

    /// <summary>One registered worker.</summary>
    public sealed class Worker(string id, string name, IActorRef actor, UniqueAddress node, DateTime seenUtc)
    {
        internal Dictionary<string, Dictionary<(long JobId, int Attempt), DateTime?>> Jobs { get; } = new(StringComparer.Ordinal);

        public string Id { get; } = id;

        public string Name { get; } = name;

        public IActorRef Ref { get; internal set; } = actor;

        public UniqueAddress Node { get; } = node;

        public IReadOnlyList<string> SlotNames { get; internal set; } = [];

        public DateTime LastSeenUtc { get; internal set; } = seenUtc;

        /// <summary>The jobs the slot holds (running and prefetched), in job order.</summary>
        public IReadOnlyList<SlotJob> JobsOf(string slot) =>
            Jobs.TryGetValue(slot, out var jobs)
                ? [.. jobs.Keys.OrderBy(k => k.JobId).ThenBy(k => k.Attempt).Select(k => new SlotJob(slot, k.JobId, k.Attempt))]
                : [];

        /// <summary>Slots that hold at least one job.</summary>
        public int BusySlots => Jobs.Count(p => p.Value.Count > 0);

        internal Dictionary<(long JobId, int Attempt), DateTime?> SlotJobs(string slot)
        {
            if (!Jobs.TryGetValue(slot, out var jobs))
            {
                jobs = [];
                Jobs[slot] = jobs;
            }
            return jobs;
        }
    }

    public int Count => _workers.Count;

    public IReadOnlyCollection<Worker> Workers => _workers.Values;

    /// <summary>Slots of all registered workers.</summary>
    public int TotalSlots => _workers.Values.Sum(w => w.SlotNames.Count);

    /// <summary>Slots that hold at least one job.</summary>
    public int BusySlots => _workers.Values.Sum(w => w.BusySlots);

    public bool TryGet(string workerId, out Worker worker) => _workers.TryGetValue(workerId, out worker!);

    /// <summary>
    /// Why a first registration is refused, or null when it is accepted: the worker id must be the sending member's
    /// own (host:port#uid). A sender that is not a member (yet) is no error: a genuine worker retries.
    /// </summary>
    public static string? RegistrationRefusal(string workerId, UniqueAddress member) =>
        WorkerIdentity.Of(member) == workerId
            ? null
            : $"it names worker {workerId}, but the sending member is {WorkerIdentity.Of(member)}";

    /// <summary>
    /// Why a message naming a registered worker (and optionally one of its slots) is refused, or null when it comes
    /// from that worker's member and names a slot the worker registered.
    /// </summary>
    public static string? Refusal(Worker worker, string? slot, Address from)
    {
        if (!from.Equals(worker.Node.Address))
        {
            return $"worker {worker.Id} is the member at {worker.Node.Address}";
        }
        if (slot is not null && !worker.SlotNames.Contains(slot, StringComparer.Ordinal))
        {
            return $"slot '{slot}' is not one of the slots it registered ({string.Join(", ", worker.SlotNames)})";
        }
        return null;
    }

    /// <summary>Adds a worker that registered for the first time (its id already checked against its member).</summary>
    public Worker Add(string workerId, string name, IActorRef actor, UniqueAddress node, DateTime nowUtc)
    {
        if (_workers.ContainsKey(workerId))
        {
            throw new InvalidOperationException($"worker {workerId} is registered already");
        }
        var worker = new Worker(workerId, name, actor, node, nowUtc);
        _workers[workerId] = worker;
        return worker;
    }

    /// <summary>
    /// A (re-)registration's report: the worker's slots and the jobs they hold now, authoritative for every job it
    /// names. An assignment sent less than <paramref name="inFlightFor"/> ago and not reported yet may still be on
    /// its way, so it is kept; older unreported ones were lost (their leases expire and the jobs are requeued).
    /// Returns the previous actor when the worker's actor changed (to unwatch), else null.
    /// </summary>
    public IActorRef? Report(Worker worker, IActorRef actor, IReadOnlyList<string> slots, IReadOnlyList<SlotJob> running, DateTime nowUtc, TimeSpan inFlightFor)
    {
        worker.LastSeenUtc = nowUtc;
        worker.SlotNames = slots;
        var previous = worker.Ref.Equals(actor) ? null : worker.Ref;
        worker.Ref = actor;
        foreach (var slot in worker.Jobs.Keys.Where(s => !slots.Contains(s, StringComparer.Ordinal)).ToArray())
        {
            worker.Jobs.Remove(slot);
        }
        foreach (var slot in slots)
        {
            var jobs = worker.SlotJobs(slot);
            foreach (var (key, sent) in jobs.ToArray())
            {
                if (sent is null || nowUtc - sent.Value > inFlightFor)
                {
                    jobs.Remove(key);
                }
            }
            foreach (var job in running.Where(r => r.Slot == slot))
            {
                jobs[(job.JobId, job.Attempt)] = null;
            }
        }
        return previous;
    }

    /// <summary>A message from the worker arrived: it is alive.</summary>
    public static void Seen(Worker worker, DateTime nowUtc) => worker.LastSeenUtc = nowUtc;

    /// <summary>
    /// Starts a claim for the slot; false when one is already being made for it (one claim per slot at a time: a
    /// slot asks again only after its previous request was answered or timed out).
    /// </summary>
    public bool BeginClaim(string workerId, string slot) => _claimsInFlight.Add((workerId, slot));

    /// <summary>The slot's claim was answered (a job or none).</summary>
    public void EndClaim(string workerId, string slot) => _claimsInFlight.Remove((workerId, slot));

    public int ClaimsInFlight => _claimsInFlight.Count;

    /// <summary>A job was claimed for the slot and sent to the worker (in flight until the worker reports it).</summary>
    public static void Assigned(Worker worker, string slot, long jobId, int attempt, DateTime nowUtc) =>
        worker.SlotJobs(slot)[(jobId, attempt)] = nowUtc;

    /// <summary>The worker reported the attempt (progress): it holds it.</summary>
    public static void Confirmed(Worker worker, string slot, long jobId, int attempt) =>
        worker.SlotJobs(slot)[(jobId, attempt)] = null;

    /// <summary>The attempt ended on the slot (stored, rejected, failed or stopped). False when the slot did not hold it.</summary>
    public static bool Ended(Worker worker, string slot, long jobId, int attempt) =>
        worker.Jobs.TryGetValue(slot, out var jobs) && jobs.Remove((jobId, attempt));

    /// <summary>Removes and returns the workers that match (lost: downed, removed, terminated).</summary>
    public IReadOnlyList<Worker> RemoveWhere(Func<Worker, bool> match)
    {
        var lost = _workers.Values.Where(match).ToArray();
        foreach (var worker in lost)
        {
            _workers.Remove(worker.Id);
            _claimsInFlight.RemoveWhere(c => c.Worker == worker.Id);
        }
        return lost;
    }

    /// <summary>
    /// What PostgreSQL says runs, after a coordinator (re)started: jobs of registered workers are added to their
    /// slots; returns the workers PostgreSQL names that are not registered here.
    /// </summary>
    public IReadOnlyList<string> Rebuild(IEnumerable<RunningJob> running)
    {
        var unknown = new List<string>();
        foreach (var group in running.GroupBy(j => j.Worker, StringComparer.Ordinal))
        {
            if (_workers.TryGetValue(group.Key, out var worker))
            {
                foreach (var job in group)
                {
                    worker.SlotJobs(job.Slot).TryAdd((job.JobId, job.Attempt), null);
                }
            }
            else
            {
                unknown.Add(group.Key);
            }
        }
        return unknown;
    }
}
