using System.Text;
using FoldCluster.Cluster.Events;

namespace FoldCluster.Cluster.Tests.Events;

public sealed class EventLogTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("foldcluster-events-test-");

    private string File(string name) => Path.Combine(_dir.FullName, name);

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Every_kind_written_is_read_back_equal_and_stamped_with_the_node()
    {
        var time = new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);
        NodeEvent[] written =
        [
            new NodeStartedEvent("127.0.0.1", 4053, ["coordinator", "worker"], "127.0.0.1:4053#7", 123, null) { Time = time },
            new JoinedEvent("akka.tcp://foldcluster@127.0.0.1:4053") { Time = time },
            new NodeStoppedEvent(true, 0, "left the cluster") { Time = time },
            new CoordinatorStartedEvent("abc", 123) { Time = time },
            new CoordinatorStoppedEvent("abc") { Time = time },
            new WorkerRegisteredEvent("n1", "127.0.0.1:4053#7", ["cuda:0/0", "cuda:0/1"]) { Time = time },
            new RequestRefusedEvent("work request", "w", "akka.tcp://foldcluster@127.0.0.1:4054", "why") { Time = time },
            new TlsPeerRefusedEvent("[::1]:4054", "CN=n3, O=FoldCluster", "why") { Time = time },
            new MessageRefusedEvent(1, "payload") { Time = time },
            new JobAssignedEvent("s", 42, 2, "n1", "w", "cpu:0", 3.25) { Time = time },
            new JobStartedEvent("s", 42, 2, "cpu:0") { Time = time },
            new JobFinishedEvent(42, 2, "cpu:0", JobFinishedEvent.Stored, 1.5, null) { Time = time },
            new JobsRequeuedEvent(3, JobsRequeuedEvent.LeaseExpired, null) { Time = time },
            new WorkerLostEvent("n2", "w2", "node removed") { Time = time },
            new DatabaseRetryEvent("claim a job", "database unreachable") { Time = time },
        ];
        Assert.Equal(EventReader.Kinds.Count, written.Select(e => e.GetType()).Distinct().Count());
        var path = File("n1.events.jsonl");
        using (var log = EventLog.Open(path, "n1"))
        {
            foreach (var e in written)
            {
                log.Write(e);
            }
        }
        var read = EventReader.ReadFile(path);
        Assert.Equal(written.Length, read.Count);
        for (var i = 0; i < written.Length; i++)
        {
            // Records with list fields compare those by reference: compare their JSON instead.
            Assert.Equal("n1", read[i].Node);
            Assert.Equal(written[i].GetType(), read[i].GetType());
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(written[i] with { Node = "n1" }), System.Text.Json.JsonSerializer.Serialize(read[i]));
        }
        var assigned = Assert.IsType<JobAssignedEvent>(read[9]);
        Assert.Equal((42L, 2, "cpu:0", 3.25, time), (assigned.Job, assigned.Attempt, assigned.Slot, assigned.DispatchMs, assigned.Time));
        // The file's format: one object per line, the kind named, fields in snake case.
        var line = System.IO.File.ReadLines(path).ElementAt(9);
        Assert.Contains("\"kind\":\"job-assigned\"", line, StringComparison.Ordinal);
        Assert.Contains("\"dispatch_ms\":3.25", line, StringComparison.Ordinal);
        Assert.Contains("\"worker_id\":\"w\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reader_sees_each_event_while_the_writer_is_still_open()
    {
        var path = File("live.events.jsonl");
        using var log = EventLog.Open(path, "n1");
        var tail = new EventTail(path);
        for (var i = 1; i <= 3; i++)
        {
            log.Write(new JobStartedEvent("s", i, 1, "cpu:0"));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            IReadOnlyList<NodeEvent> seen;
            while ((seen = tail.ReadNew()).Count == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"event {i} not flushed");
                Thread.Sleep(10);
            }
            Assert.Equal(i, Assert.IsType<JobStartedEvent>(Assert.Single(seen)).Job);
        }
    }

    [Fact]
    public void A_torn_last_line_is_left_for_the_next_read()
    {
        var path = File("torn.events.jsonl");
        var whole = """{"kind":"joined","time":"2026-12-01T12:00:00Z","node":"n1","address":"a"}""";
        var second = """{"kind":"coordinator-started","time":"2026-12-01T12:00:01Z","node":"n1","incarnation":"x","pid":5}""";
        System.IO.File.WriteAllText(path, whole + "\n" + second[..20]);
        var tail = new EventTail(path);
        Assert.IsType<JoinedEvent>(Assert.Single(tail.ReadNew()));
        Assert.Empty(tail.ReadNew());
        System.IO.File.AppendAllText(path, second[20..] + "\n");
        var started = Assert.IsType<CoordinatorStartedEvent>(Assert.Single(tail.ReadNew()));
        Assert.Equal(("x", 5, "n1"), (started.Incarnation, started.Pid, started.Node));
        Assert.Single(EventReader.ReadFile(path), e => e is CoordinatorStartedEvent);
    }

    [Fact]
    public void Unknown_kinds_and_bad_lines_are_refused_naming_the_line()
    {
        var path = File("bad.events.jsonl");
        System.IO.File.WriteAllText(path, """{"kind":"joined","address":"a"}""" + "\n" + """{"kind":"heartbeat","node":"n1"}""" + "\n", Encoding.UTF8);
        var e = Assert.Throws<FormatException>(() => EventReader.ReadFile(path));
        Assert.Contains("bad.events.jsonl line 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("unknown event kind 'heartbeat'", e.Message, StringComparison.Ordinal);
        Assert.Contains("job-assigned", e.Message, StringComparison.Ordinal);
        Assert.Contains("not a JSON object", Assert.Throws<FormatException>(() => EventReader.Parse("{nope")).Message, StringComparison.Ordinal);
        Assert.Contains("'kind'", Assert.Throws<FormatException>(() => EventReader.Parse("""{"address":"a"}""")).Message, StringComparison.Ordinal);
        Assert.Contains("wrong fields", Assert.Throws<FormatException>(() => EventReader.Parse("""{"kind":"job-assigned","job":"x"}""")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_an_events_file_emitting_does_nothing_and_an_absent_file_reads_as_empty()
    {
        NodeEvents.Emit(new JoinedEvent("a"));
        Assert.Empty(EventReader.ReadFile(File("none.jsonl")));
        var e = Assert.Throws<Core.BadInputException>(() => EventLog.Open(Path.Combine(_dir.FullName, "no-such-folder", "e.jsonl"), "n1"));
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }
}
