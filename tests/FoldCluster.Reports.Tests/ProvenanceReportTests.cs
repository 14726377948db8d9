using Dapper;
using FoldCluster.Tests.Shared;
using FoldCluster.Reports.Queries;

namespace FoldCluster.Reports.Tests;

/// <summary>Tables say when a cell mixes results of different machines or builds; query rows carry the provenance.</summary>
public class ProvenanceReportTests
{
    private static async Task AddProvenanceAsync(TestDatabase database, string isaOfFold0)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        // Every result of the golden sweep gets a provenance row; the IEMOCAP CMHA A+V+T fold 0 ran elsewhere.
        await connection.ExecuteAsync("""
            insert into result_provenance (job_id, code_version, torchsharp_version, libtorch_version, device, device_name,
                cpu_model, cpu_isa, threads, worker_host, feature_cache_key, utterance_modalities, utterances, left_out)
            select r.job_id, '0.1.0+unknown', '0.107.0', '2.10.0', 'cpu', 'Test CPU', 'Test CPU',
                   case when j.dataset = 'iemocap' and j.method = 'cmha' and j.modalities = 'AVT' and j.pretrained and j.fold = 0
                        then @isaOfFold0 else 'aten=avx2' end,
                   2, 'host', repeat('a', 64), 'AVT', 40, '{}'::jsonb
            from results r join jobs j using (job_id)
            """, new { isaOfFold0 });
    }

    [Fact]
    public async Task A_cell_whose_results_come_from_two_instruction_sets_is_named_in_a_footnote()
    {
        await using var database = await GoldenSweep.CreateAsync();
        await AddProvenanceAsync(database, "aten=default onednn=sse41 (ONEDNN_MAX_CPU_ISA)");
        var outcome = await new TablesReport(database.DataSource).GenerateAsync(new TablesRequest { Sweep = "golden" });
        var table2 = outcome.Tables.Single(t => t.Id == "table2");
        var note = Assert.Single(table2.Layout.Notes, n => n.StartsWith("Mixed runtimes:", StringComparison.Ordinal));
        Assert.Contains("IEMOCAP CMHA A+V+T (2 devices or CPU instruction sets)", note, StringComparison.Ordinal);
        Assert.DoesNotContain("Concat", note, StringComparison.Ordinal);

        var cells = await new ResultQueries(database.DataSource).AggregateAsync((await new ResultQueries(database.DataSource).FindSweepAsync("golden")).SweepId, ResultFilter.None);
        Assert.Contains(cells, c => c.Method == "cmha" && c.Modalities == "AVT" && c.Machines == 2 && c.Versions == 1);
        Assert.All(cells.Where(c => c.Method != "cmha" || c.Modalities != "AVT" || !c.Pretrained), c => Assert.True(c.Machines <= 1));
    }

    [Fact]
    public async Task One_runtime_gives_no_footnote_and_query_rows_carry_the_provenance()
    {
        await using var database = await GoldenSweep.CreateAsync();
        await AddProvenanceAsync(database, "aten=avx2");
        var outcome = await new TablesReport(database.DataSource).GenerateAsync(new TablesRequest { Sweep = "golden" });
        Assert.All(outcome.Tables, t => Assert.DoesNotContain(t.Layout.Notes, n => n.StartsWith("Mixed runtimes:", StringComparison.Ordinal)));

        var queries = new ResultQueries(database.DataSource);
        var rows = await queries.QueryJobsAsync((await queries.FindSweepAsync("golden")).SweepId, new ResultFilter { State = "succeeded" });
        // A succeeded job without a stored result (the fixture has one) has no provenance either.
        Assert.All(rows.Where(r => r.Ua is null), r => Assert.Null(r.CodeVersion));
        Assert.Contains(rows, r => r.Ua is not null);
        Assert.All(rows.Where(r => r.Ua is not null), r => Assert.Equal(("0.1.0+unknown", "2.10.0", "Test CPU", 2, "AVT", 40, "{}"),
            (r.CodeVersion, r.LibtorchVersion, r.DeviceName, r.Threads, r.UtteranceModalities, r.Utterances, r.LeftOut)));
    }
}
