using Akka.Actor;
using FoldCluster.Cluster.Coordinator;
using FoldCluster.Cluster.Messages;
using FoldCluster.Cluster.Trainers;
using FoldCluster.Storage.Jobs;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Cluster.Tests.Actors;

/// <summary>The coordinator's registration checks on a one-node cluster (the multi-process tests cover other members).</summary>
public sealed class WorkerAdmissionTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private TestDatabase _db = null!;
    private readonly string _workerId;
    private readonly List<string> _log = [];

    public WorkerAdmissionTests() : base(ClusterTestKit.Config(), "admission-test")
    {
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.State.Members.Any(m => m.Status == Akka.Cluster.MemberStatus.Up), TimeSpan.FromSeconds(10));
        _workerId = WorkerIdentity.Of(cluster.SelfUniqueAddress);
    }

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private IActorRef StartCoordinator() => Sys.ActorOf(SweepCoordinator.Props(new JobStore(_db.DataSource), ClusterTestKit.Settings(Sys), line =>
    {
        lock (_log)
        {
            _log.Add(line);
        }
    }));

    [Fact]
    public async Task A_work_request_for_a_slot_the_worker_did_not_register_claims_nothing()
    {
        await new SweepStore(_db.DataSource).SubmitAsync(SimulatedSweep.Spec("admission", 1), "test");
        var coordinator = StartCoordinator();
        var worker = CreateTestProbe();
        worker.Send(coordinator, new RegisterWorker(_workerId, "w1", ["cpu:0"], []));
        worker.ExpectMsg<WorkerRegistered>(TimeSpan.FromSeconds(5));

        worker.Send(coordinator, new RequestWork(_workerId, "cpu:5"));
        worker.ExpectNoMsg(TimeSpan.FromSeconds(1));
        lock (_log)
        {
            Assert.Contains(_log, l => l.Contains("refused work request from ", StringComparison.Ordinal)
                && l.EndsWith("slot 'cpu:5' is not one of the slots it registered (cpu:0)", StringComparison.Ordinal));
        }

        // The registered slot still gets the job, at its first attempt.
        worker.Send(coordinator, new RequestWork(_workerId, "cpu:0"));
        Assert.Equal(1, worker.ExpectMsg<JobAssigned>(TimeSpan.FromSeconds(5)).Attempt);
    }

    [Fact]
    public void A_registration_naming_a_worker_that_is_not_the_sending_member_gets_no_answer()
    {
        var coordinator = StartCoordinator();
        var rogue = CreateTestProbe();
        rogue.Send(coordinator, new RegisterWorker("127.0.0.1:1#99", "rogue", ["cpu:0"], []));
        rogue.ExpectNoMsg(TimeSpan.FromSeconds(1));
        lock (_log)
        {
            Assert.Contains(_log, l => l.Contains("coordinator: refused registration from ", StringComparison.Ordinal)
                && l.EndsWith($"it names worker 127.0.0.1:1#99, but the sending member is {_workerId}", StringComparison.Ordinal));
        }
        rogue.Send(coordinator, new RequestWork("127.0.0.1:1#99", "cpu:0"));
        // Unknown workers are told "no work" (a genuine one re-registers and asks again); nothing is claimed.
        Assert.Equal("cpu:0", rogue.ExpectMsg<NoWorkAvailable>(TimeSpan.FromSeconds(5)).Slot);
    }
}
