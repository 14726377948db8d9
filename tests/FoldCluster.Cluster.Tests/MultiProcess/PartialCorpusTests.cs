using System.Text.Json;
using Dapper;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// Corpora that lack an input, through real `foldcluster` processes: a generated IEMOCAP copy without its dialog
/// videos, one with a dialog video missing, and an MSP-IMPROV copy without its per-clip transcripts.
/// </summary>
[Collection(ClusterProcesses.Name)]
public sealed class PartialCorpusTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("foldcluster-partial-corpus-");
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        _dir.Delete(recursive: true);
    }

    private async Task<CliResult> Cli(params string[] args)
    {
        var result = await CliProcess.RunAsync(args, timeout: TimeSpan.FromMinutes(5));
        output.WriteLine($"foldcluster {string.Join(' ', args)} -> {result.ExitCode}\n{result.StandardError}");
        return result;
    }

    private static JsonElement Inspect(CliResult result)
    {
        Assert.Equal(0, result.ExitCode);
        return JsonDocument.Parse(result.StandardOutput).RootElement.Clone();
    }

    private static (int Audio, int Video, int Text) Modalities(JsonElement report)
    {
        var m = report.GetProperty("modalities");
        return (m.GetProperty("audio").GetInt32(), m.GetProperty("video").GetInt32(), m.GetProperty("text").GetInt32());
    }

    [Fact]
    public async Task Inspect_counts_labelled_utterances_and_each_input_of_an_iemocap_copy_without_videos_and_an_msp_improv_copy_without_transcripts()
    {
        var iemocap = Path.Combine(_dir.FullName, "iemocap");
        Assert.Equal(0, (await Cli("corpus", "synth", "--layout", "iemocap", "--out", iemocap, "--speakers", "4", "--utterances", "40", "--seed", "3")).ExitCode);
        var complete = Inspect(await Cli("corpus", "inspect", "--layout", "iemocap", "--root", iemocap, "--json"));
        var labelled = complete.GetProperty("utterances").GetInt32();
        Assert.InRange(labelled, 30, 40);
        Assert.Equal((labelled, labelled, labelled), Modalities(complete));

        foreach (var video in Directory.GetFiles(iemocap, "*.avi", SearchOption.AllDirectories))
        {
            File.Delete(video);
        }
        var noVideo = Inspect(await Cli("corpus", "inspect", "--layout", "iemocap", "--root", iemocap, "--json"));
        Assert.Equal(labelled, noVideo.GetProperty("utterances").GetInt32());
        Assert.Equal((labelled, 0, labelled), Modalities(noVideo));
        Assert.Equal(labelled, noVideo.GetProperty("missing").GetProperty("video").GetInt32());
        Assert.Equal(labelled, new[] { "angry", "happy", "sad", "neutral" }.Sum(l => noVideo.GetProperty("by_label").GetProperty(l).GetInt32()));
        Assert.Equal(4, noVideo.GetProperty("by_speaker").EnumerateObject().Count());
        Assert.Equal(complete.GetProperty("excluded").ToString(), noVideo.GetProperty("excluded").ToString());

        var msp = Path.Combine(_dir.FullName, "msp");
        Assert.Equal(0, (await Cli("corpus", "synth", "--layout", "msp-improv", "--out", msp, "--speakers", "4", "--utterances", "30", "--seed", "3")).ExitCode);
        var clips = Inspect(await Cli("corpus", "inspect", "--layout", "msp-improv", "--root", msp, "--json")).GetProperty("utterances").GetInt32();
        // The release's transcripts go into a user file (utterance-id<TAB>text), and the per-clip files away.
        var transcriptFiles = Directory.GetFiles(msp, "MSP-IMPROV-*.txt", SearchOption.AllDirectories);
        Assert.NotEmpty(transcriptFiles);
        var words = Path.Combine(_dir.FullName, "msp-words.tsv");
        File.WriteAllLines(words, transcriptFiles.Select(f => $"{Path.GetFileNameWithoutExtension(f)}\t{File.ReadAllText(f).Trim()}")
            .Append("UTD-IMPROV-S99N-F01-P-FM99.avi\tnot a clip of this corpus"));
        foreach (var f in transcriptFiles)
        {
            File.Delete(f);
        }
        var noText = Inspect(await Cli("corpus", "inspect", "--layout", "msp-improv", "--root", msp, "--json"));
        Assert.Equal(clips, noText.GetProperty("utterances").GetInt32());
        Assert.Equal((clips, clips, 0), Modalities(noText));
        Assert.Equal(clips, noText.GetProperty("missing").GetProperty("transcript").GetInt32());

        var withFile = Inspect(await Cli("corpus", "inspect", "--layout", "msp-improv", "--root", msp, "--transcripts", words, "--json"));
        Assert.Equal((clips, clips, clips), Modalities(withFile));
        var problem = Assert.Single(withFile.GetProperty("problems").EnumerateArray());
        Assert.Equal(words, problem.GetProperty("file").GetString());
        Assert.Equal(transcriptFiles.Length + 1, problem.GetProperty("line").GetInt32());
        Assert.Contains("MSP-IMPROV-S99N-F01-P-FM99 is not labelled", problem.GetProperty("message").GetString());

        var missingFile = await Cli("corpus", "inspect", "--layout", "msp-improv", "--root", msp, "--transcripts", Path.Combine(_dir.FullName, "none.tsv"));
        Assert.Equal(2, missingFile.ExitCode);
        Assert.Contains("none.tsv' does not exist", missingFile.StandardError);
    }

    [Fact]
    public async Task An_AT_sweep_runs_without_videos_and_AT_and_AVT_jobs_of_a_corpus_missing_some_videos_share_one_utterance_set()
    {
        var generated = Path.Combine(_dir.FullName, "generated");
        Assert.Equal(0, (await Cli("corpus", "synth", "--layout", "iemocap", "--out", generated, "--speakers", "4", "--utterances", "60", "--seed", "11")).ExitCode);
        var noVideo = Path.Combine(_dir.FullName, "no-video");
        var partial = Path.Combine(_dir.FullName, "partial-video");
        CopyDirectory(generated, noVideo);
        CopyDirectory(generated, partial);
        foreach (var video in Directory.GetFiles(noVideo, "*.avi", SearchOption.AllDirectories))
        {
            File.Delete(video);
        }
        var droppedDialog = Directory.GetFiles(partial, "*.avi", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        File.Delete(droppedDialog);
        var partialReport = Inspect(await Cli("corpus", "inspect", "--layout", "iemocap", "--root", partial, "--json"));
        var labelled = partialReport.GetProperty("utterances").GetInt32();
        var withVideo = Modalities(partialReport).Video;
        Assert.InRange(withVideo, labelled / 2, labelled - 1);

        string Spec(string name, string root, string modalities) => WriteSpec(name, $"""
            name: {name}
            datasets:
              - name: generated
                layout: iemocap
                root: {root}
                extractor: resnet50
                allow_random_weights: true
                options: {"{"}frame_size: 64{"}"}
            methods: [concat]
            modalities: {modalities}
            folds: [0, 1]
            seeds: [1]
            profile: tiny
            """);

        // Video is absent from the copy: a sweep that needs it is refused at submit, with the counts.
        var refused = await Cli("sweep", "submit", "--spec", Spec("needs-video", noVideo, "[AV, AT]"), "--db", _db.ConnectionString);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"has no video: 0 of {labelled} labelled utterances have it (audio {labelled}, video 0, text {labelled})", refused.StandardError);
        Assert.Contains("modality sets AV need it", refused.StandardError);
        // A typo in an override map fails once, at submit, naming the key and the allowed keys.
        var typo = await Cli("sweep", "submit", "--spec", WriteSpec("typo", File.ReadAllText(Spec("typo", noVideo, "[AT]")) + "\ntraining: {epochs_stage_1: 2}\n"),
            "--db", _db.ConnectionString);
        Assert.Equal(2, typo.ExitCode);
        Assert.Contains("'epochs_stage_1' is not known: expected one of epochs_stage1, epochs_stage2", typo.StandardError);
        var badOption = await Cli("sweep", "submit", "--spec", WriteSpec("bad-option", File.ReadAllText(Spec("bad-option", noVideo, "[AT]")).Replace("frame_size: 64", "frame_sise: 64", StringComparison.Ordinal)),
            "--db", _db.ConnectionString);
        Assert.Equal(2, badOption.ExitCode);
        Assert.Contains("dataset option 'frame_sise' is not known: expected one of frame_size, video_fps, crop_map, batch_size", badOption.StandardError);
        await using (var connection = await _db.DataSource.OpenConnectionAsync())
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*)::int from sweeps"));
        }

        Assert.Equal(0, (await Cli("sweep", "submit", "--spec", Spec("audio-text", noVideo, "[A, AT]"), "--db", _db.ConnectionString)).ExitCode);
        var mixed = await Cli("sweep", "submit", "--spec", Spec("mixed", partial, "[AT, AVT]"), "--db", _db.ConnectionString);
        Assert.Equal(0, mixed.ExitCode);
        Assert.Contains($"every job trains on the {withVideo} of {labelled} labelled utterances that have AVT; left out: {labelled - withVideo} (no video)", mixed.StandardError);

        using (var cluster = new LocalCluster(_db.ConnectionString, 1, TestEcho.To(output)))
        {
            cluster.Start(0, "coordinator,worker", "real", slots: "cpu:2", cache: Path.Combine(_dir.FullName, "cache"));
            foreach (var name in new[] { "audio-text", "mixed" })
            {
                cluster.WaitForSweep(await SweepId(name), TimeSpan.FromMinutes(12), _db.DataSource);
            }
        }

        await using var db = await _db.DataSource.OpenConnectionAsync();
        var jobs = (await db.QueryAsync<(string Sweep, int Fold, string Modalities, string State, string? Error, string? UtteranceModalities, int? Utterances, string? LeftOut)>("""
            select s.name, j.fold, j.modalities, j.state, j.error, p.utterance_modalities, p.utterances, p.left_out::text
            from jobs j join sweeps s using (sweep_id)
            left join result_provenance p on p.job_id = j.job_id
            order by s.name, j.modalities, j.fold
            """)).ToList();
        Assert.All(jobs, j => Assert.True(j.State == "succeeded", $"{j.Sweep} {j.Modalities} fold {j.Fold}: {j.State} {j.Error}"));
        Assert.Equal(8, jobs.Count);

        // Without videos, A and A+T train on every labelled utterance; each fold's test utterances are predicted once.
        Assert.All(jobs.Where(j => j.Sweep == "audio-text"), j => Assert.Equal(("AT", labelled, "{}"), (j.UtteranceModalities, j.Utterances, j.LeftOut)));
        // With some videos missing, A+T and A+V+T train on the same utterances: those with video.
        var mixedJobs = jobs.Where(j => j.Sweep == "mixed").ToList();
        Assert.All(mixedJobs, j => Assert.Equal(("AVT", withVideo), (j.UtteranceModalities, j.Utterances)));
        Assert.All(mixedJobs, j => Assert.Equal(labelled - withVideo, JsonDocument.Parse(j.LeftOut!).RootElement.GetProperty("no video").GetInt32()));
        var tested = (await db.QueryAsync<(string Modalities, int Fold, string Utterance)>("""
            select j.modalities, j.fold, p.utterance_id from predictions p join jobs j using (job_id) join sweeps s using (sweep_id)
            where s.name = 'mixed'
            """)).ToList();
        foreach (var fold in new[] { 0, 1 })
        {
            var at = tested.Where(t => t.Modalities == "AT" && t.Fold == fold).Select(t => t.Utterance).Order(StringComparer.Ordinal).ToList();
            var avt = tested.Where(t => t.Modalities == "AVT" && t.Fold == fold).Select(t => t.Utterance).Order(StringComparer.Ordinal).ToList();
            Assert.NotEmpty(at);
            Assert.Equal(at, avt);
        }
        var dropped = Path.GetFileNameWithoutExtension(droppedDialog);
        Assert.DoesNotContain(tested, t => t.Utterance.StartsWith(dropped + "_", StringComparison.Ordinal));
        var plan = await db.QuerySingleAsync<(string Modalities, int Utterances, int Labelled, string LeftOut)>("""
            select u.modalities, u.utterances, u.labelled, u.left_out::text from sweep_utterance_sets u join sweeps s using (sweep_id) where s.name = 'mixed'
            """);
        Assert.Equal(("AVT", withVideo, labelled), (plan.Modalities, plan.Utterances, plan.Labelled));
        Assert.Equal(labelled - withVideo, JsonDocument.Parse(plan.LeftOut).RootElement.GetProperty("no video").GetInt32());

        // Every result says where and how it was computed.
        var query = await Cli("results", "query", "--sweep", "mixed", "--format", "json", "--db", _db.ConnectionString);
        Assert.Equal(0, query.ExitCode);
        var rows = JsonDocument.Parse(query.StandardOutput).RootElement.EnumerateArray().ToList();
        Assert.Equal(4, rows.Count);
        foreach (var row in rows)
        {
            Assert.Matches(@"^\d+\.\d+\.\d+\+([0-9a-f]{40}|unknown)$", row.GetProperty("code_version").GetString());
            Assert.Matches(@"^\d+\.\d+", row.GetProperty("libtorch_version").GetString());
            Assert.Matches(@"^\d+\.\d+", row.GetProperty("torchsharp_version").GetString());
            Assert.Equal("cpu", row.GetProperty("device").GetString());
            Assert.Equal(row.GetProperty("cpu_model").GetString(), row.GetProperty("device_name").GetString());
            Assert.Contains("aten=", row.GetProperty("cpu_isa").GetString());
            Assert.InRange(row.GetProperty("threads").GetInt32(), 1, Environment.ProcessorCount);
            Assert.Equal(Environment.MachineName, row.GetProperty("worker_host").GetString());
            Assert.Matches("^[0-9a-f]{64}$", row.GetProperty("feature_cache_key").GetString());
            Assert.Equal(withVideo, row.GetProperty("utterances").GetInt32());
            Assert.Equal(labelled - withVideo, row.GetProperty("left_out").GetProperty("no video").GetInt32());
        }
        Assert.Single(rows.Select(r => r.GetProperty("feature_cache_key").GetString()).Distinct());
    }

    private async Task<long> SweepId(string name)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("select sweep_id from sweeps where name = @name", new { name });
    }

    private string WriteSpec(string name, string yaml)
    {
        var path = Path.Combine(_dir.FullName, $"{name}.{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
