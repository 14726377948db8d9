using Akka.Actor;
using Akka.Cluster;
using FoldCluster.Cluster.Coordinator;
using FoldCluster.Cluster.Messages;
using FoldCluster.Storage.Jobs;

namespace FoldCluster.Cluster.Tests;

/// <summary>The coordinator's worker bookkeeping, without an actor or a database (probes only stand in for actor refs).</summary>
public sealed class WorkerRegistryTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTime T0 = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly UniqueAddress NodeA = new(new Address("akka.tcp", "foldcluster", "127.0.0.1", 4100), 11);
    private static readonly UniqueAddress NodeB = new(new Address("akka.tcp", "foldcluster", "127.0.0.1", 4101), 22);
    private static readonly string IdA = WorkerIdentity.Of(NodeA);

    private (WorkerRegistry Registry, WorkerRegistry.Worker Worker, IActorRef Actor) Registered(params string[] slots)
    {
        var registry = new WorkerRegistry();
        var actor = CreateTestProbe().Ref;
        var worker = registry.Add(IdA, "a", actor, NodeA, T0);
        Assert.Null(registry.Report(worker, actor, slots, [], T0, TimeSpan.FromSeconds(5)));
        return (registry, worker, actor);
    }

    [Fact]
    public void A_registration_must_name_the_sending_member()
    {
        Assert.Null(WorkerRegistry.RegistrationRefusal(IdA, NodeA));
        Assert.Equal($"it names worker {IdA}, but the sending member is 127.0.0.1:4101#22", WorkerRegistry.RegistrationRefusal(IdA, NodeB));
        // The same host and port with another uid is another process: refused too.
        Assert.NotNull(WorkerRegistry.RegistrationRefusal(IdA, new UniqueAddress(NodeA.Address, 12)));
    }

    [Fact]
    public void Messages_are_admitted_only_from_the_workers_member_and_for_its_slots()
    {
        var (_, worker, _) = Registered("cpu:0", "cpu:1");

        Assert.Null(WorkerRegistry.Refusal(worker, "cpu:1", NodeA.Address));
        Assert.Null(WorkerRegistry.Refusal(worker, null, NodeA.Address));
        Assert.Equal("slot 'cpu:5' is not one of the slots it registered (cpu:0, cpu:1)", WorkerRegistry.Refusal(worker, "cpu:5", NodeA.Address));
        Assert.Equal($"worker {IdA} is the member at {NodeA.Address}", WorkerRegistry.Refusal(worker, "cpu:0", NodeB.Address));
    }

    [Fact]
    public void A_worker_registers_once_and_its_slots_and_jobs_are_counted()
    {
        var (registry, worker, _) = Registered("cpu:0", "cpu:1", "cpu:2");
        Assert.Throws<InvalidOperationException>(() => registry.Add(IdA, "a", CreateTestProbe().Ref, NodeA, T0));

        WorkerRegistry.Assigned(worker, "cpu:0", 7, 1, T0);
        WorkerRegistry.Assigned(worker, "cpu:0", 9, 1, T0);
        WorkerRegistry.Assigned(worker, "cpu:2", 8, 2, T0);

        Assert.Equal(1, registry.Count);
        Assert.Equal(3, registry.TotalSlots);
        Assert.Equal(2, registry.BusySlots);
        Assert.Equal([new SlotJob("cpu:0", 7, 1), new SlotJob("cpu:0", 9, 1)], worker.JobsOf("cpu:0"));
        Assert.True(WorkerRegistry.Ended(worker, "cpu:0", 7, 1));
        Assert.False(WorkerRegistry.Ended(worker, "cpu:0", 7, 1));
        Assert.False(WorkerRegistry.Ended(worker, "cpu:1", 9, 1));
        Assert.Equal([new SlotJob("cpu:0", 9, 1)], worker.JobsOf("cpu:0"));
    }

    [Fact]
    public void A_report_is_authoritative_but_keeps_assignments_that_may_still_be_in_flight()
    {
        var (registry, worker, actor) = Registered("cpu:0", "cpu:1");
        WorkerRegistry.Assigned(worker, "cpu:0", 1, 1, T0);
        WorkerRegistry.Confirmed(worker, "cpu:0", 1, 1);
        WorkerRegistry.Assigned(worker, "cpu:0", 2, 1, T0);
        WorkerRegistry.Assigned(worker, "cpu:1", 3, 1, T0.AddSeconds(9));

        // 10 s later the worker reports only job 4 on cpu:1: job 1 (confirmed, not reported) ended, job 2 (sent 10 s
        // ago) was lost in flight, job 3 (sent 1 s ago) may still be on its way.
        var now = T0.AddSeconds(10);
        Assert.Null(registry.Report(worker, actor, ["cpu:0", "cpu:1"], [new SlotJob("cpu:1", 4, 2)], now, TimeSpan.FromSeconds(5)));

        Assert.Empty(worker.JobsOf("cpu:0"));
        Assert.Equal([new SlotJob("cpu:1", 3, 1), new SlotJob("cpu:1", 4, 2)], worker.JobsOf("cpu:1"));
        Assert.Equal(now, worker.LastSeenUtc);
    }

    [Fact]
    public void A_report_from_a_new_actor_returns_the_old_one_and_slots_it_no_longer_has_are_dropped()
    {
        var (registry, worker, old) = Registered("cpu:0", "cpu:1");
        WorkerRegistry.Confirmed(worker, "cpu:1", 5, 1);
        var replacement = CreateTestProbe().Ref;

        Assert.Equal(old, registry.Report(worker, replacement, ["cpu:0"], [], T0, TimeSpan.FromSeconds(5)));

        Assert.Equal(replacement, worker.Ref);
        Assert.Equal(["cpu:0"], worker.SlotNames);
        Assert.Empty(worker.JobsOf("cpu:1"));
        Assert.Equal("slot 'cpu:1' is not one of the slots it registered (cpu:0)", WorkerRegistry.Refusal(worker, "cpu:1", NodeA.Address));
    }

    [Fact]
    public void One_claim_at_a_time_per_slot_and_a_lost_worker_takes_its_claims_with_it()
    {
        var (registry, _, _) = Registered("cpu:0", "cpu:1");

        Assert.True(registry.BeginClaim(IdA, "cpu:0"));
        Assert.False(registry.BeginClaim(IdA, "cpu:0"));
        Assert.True(registry.BeginClaim(IdA, "cpu:1"));
        registry.EndClaim(IdA, "cpu:0");
        Assert.True(registry.BeginClaim(IdA, "cpu:0"));
        Assert.Equal(2, registry.ClaimsInFlight);

        var lost = registry.RemoveWhere(w => w.Node.Equals(NodeA));

        Assert.Equal([IdA], lost.Select(w => w.Id));
        Assert.Equal(0, registry.Count);
        Assert.Equal(0, registry.ClaimsInFlight);
        Assert.False(registry.TryGet(IdA, out _));
    }

    [Fact]
    public void Rebuilding_from_postgresql_fills_known_workers_and_names_the_unknown_ones()
    {
        var (registry, worker, _) = Registered("cpu:0", "cpu:1");
        var lease = T0.AddSeconds(30);

        var unknown = registry.Rebuild([
            new RunningJob(1, 1, IdA, "cpu:0", lease), new RunningJob(2, 3, IdA, "cpu:0", lease),
            new RunningJob(3, 1, "127.0.0.1:4999#5", "cpu:0", lease), new RunningJob(4, 1, "127.0.0.1:4999#5", "cpu:1", lease)]);

        Assert.Equal(["127.0.0.1:4999#5"], unknown);
        Assert.Equal([new SlotJob("cpu:0", 1, 1), new SlotJob("cpu:0", 2, 3)], worker.JobsOf("cpu:0"));
        Assert.Equal(1, registry.BusySlots);
    }
}
