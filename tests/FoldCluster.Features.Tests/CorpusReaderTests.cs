using FoldCluster.Core;
using FoldCluster.Features.Audio;
using FoldCluster.Features.Corpus;

namespace FoldCluster.Features.Tests;

/// <summary>Small corpora written in the real file formats (DESIGN.md section 7).</summary>
internal static class CorpusFixtures
{
    public static byte[] Tone(double seconds = 0.5) =>
        WavWriter.Pcm16(Enumerable.Range(0, (int)(seconds * 16000)).Select(i => (float)(0.3 * Math.Sin(i * 0.1))).ToArray(), 16000);

    public static string Iemocap()
    {
        var root = TestFolders.Create();
        void Dialog(int session, string dialog, string evaluation, string? transcript, string[] wavs, bool video = true)
        {
            var s = Path.Combine(root, $"Session{session}");
            Directory.CreateDirectory(Path.Combine(s, "dialog", "EmoEvaluation"));
            File.WriteAllText(Path.Combine(s, "dialog", "EmoEvaluation", dialog + ".txt"), evaluation);
            if (transcript is not null)
            {
                Directory.CreateDirectory(Path.Combine(s, "dialog", "transcriptions"));
                File.WriteAllText(Path.Combine(s, "dialog", "transcriptions", dialog + ".txt"), transcript);
            }
            var wavDir = Path.Combine(s, "sentences", "wav", dialog);
            Directory.CreateDirectory(wavDir);
            foreach (var w in wavs)
            {
                File.WriteAllBytes(Path.Combine(wavDir, w + ".wav"), Tone());
            }
            if (video)
            {
                Directory.CreateDirectory(Path.Combine(s, "dialog", "avi", "DivX"));
                File.WriteAllText(Path.Combine(s, "dialog", "avi", "DivX", dialog + ".avi"), "placeholder");
            }
        }
        Dialog(1, "Ses01F_impro05a",
            "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n" +
            "[6.2901 - 8.2357]\tSes01F_impro05a_F000\tneu\t[2.5000, 2.5000, 2.5000]\n" +
            "C-E1:\tNeutral state;\t()\nC-E3:\tNeutral state;\t()\nA-E3:\tval 3; act 2; dom  2;\t()\n\n" +
            "[10.0100 - 11.5000]\tSes01F_impro05a_M000\texc\t[3.5000, 3.5000, 3.0000]\n" +
            "C-E2:\tExcited;\t()\n\n" +
            "[12.0000 - 13.0000]\tSes01F_impro05a_F001\tfru\t[2.0000, 3.0000, 3.0000]\n\n" +
            "[13.5000 - 14.0000]\tSes01F_impro05a_M001\txxx\t[2.0000, 3.0000, 3.0000]\n\n" +
            "[14.5 - 15.5]\tSes01F_impro05a_F002\n\n",
            "Ses01F_impro05a_F000 [006.2901-008.2357]: Excuse me.\n" +
            "Ses01F_impro05a_MXX0 [007.0000-007.5000]: [LAUGHTER]\n" +
            "Ses01F_impro05a_M000 [010.0100-011.5000]: Oh, that's great!\n" +
            "Ses01F_impro05a_F001 [012.0000-013.0000]: Whatever.\n",
            ["Ses01F_impro05a_F000", "Ses01F_impro05a_M000", "Ses01F_impro05a_F001", "Ses01F_impro05a_M001"]);
        Dialog(5, "Ses05F_script03_1",
            "% header\n\n[1.0000 - 2.5000]\tSes05F_script03_1_F000\tang\t[1.0000, 4.0000, 4.0000]\nA-E1:\tval 1; act 4; dom  4;\t()\n\n" +
            "[3.0000 - 4.0000]\tSes05F_script03_1_M000\tsad\t[1.5000, 1.5000, 2.0000]\n\n",
            "Ses05F_script03_1_F000 [001.0000-002.5000]: I hate this!\nSes05F_script03_1_M000 [003.0000-004.0000: broken line\n",
            ["Ses05F_script03_1_F000", "Ses05F_script03_1_M000"]);
        Dialog(3, "Ses03M_script01_1b",
            "% header\n\n[0.5000 - 1.5000]\tSes03M_script01_1b_M000\thap\t[4.0000, 3.0000, 3.0000]\n\n" +
            "[2.0000 - 3.0000]\tSes03M_script01_1b_F000\tneu\t[3.0000, 2.0000, 3.0000]\n\n",
            null,
            ["Ses03M_script01_1b_M000"], video: false);
        return root;
    }

    public static string MspImprov(string labelFileName = "Evaluation.txt")
    {
        var root = TestFolders.Create();
        File.WriteAllText(Path.Combine(root, labelFileName),
            "UTD-IMPROV-S01A-F01-P-FM01.avi; A; A:4.000000; V:1.400000; D:4.000000 ; N:5.000000;\n" +
            "rater-0001; Angry; A:4.000000; V:1.000000; D:4.000000;\n" +
            "rater-0002; Angry; A:4.000000; V:2.000000; D:4.000000;\n\n" +
            "UTD-IMPROV-S02H-M01-R-MF02.avi; H; A:3.000000; V:4.200000; D:3.000000 ; N:5.000000;\n\n" +
            "UTD-IMPROV-S03N-F02-S-FM03.avi; O; A:3.000000; V:3.000000; D:3.000000 ; N:5.000000;\n\n" +
            "UTD-IMPROV-S04S-M02-T-MF04.avi; X; A:3.000000; V:3.000000; D:3.000000 ; N:5.000000;\n\n" +
            "UTD-IMPROV-S05N-F02-P-FM05.avi N A:3\n\n" +
            "UTD-IMPROV-S06N-M02-P-MF06.avi; N; A:2.000000; V:3.000000; D:3.000000 ; N:5.000000;\n");
        foreach (var (stem, folder) in new[]
        {
            ("MSP-IMPROV-S01A-F01-P-FM01", "session1/S01A/P"), ("MSP-IMPROV-S02H-M01-R-MF02", "session1/S02H/R"),
            ("MSP-IMPROV-S03N-F02-S-FM03", "session2/S03N/S"), ("MSP-IMPROV-S06N-M02-P-MF06", "session2/S06N/P"),
        })
        {
            Directory.CreateDirectory(Path.Combine(root, "Audio", folder));
            Directory.CreateDirectory(Path.Combine(root, "Video", folder));
            File.WriteAllBytes(Path.Combine(root, "Audio", folder, stem + ".wav"), Tone());
            if (!stem.Contains("S06N", StringComparison.Ordinal))
            {
                File.WriteAllText(Path.Combine(root, "Video", folder, stem + ".avi"), "placeholder");
            }
            File.WriteAllText(Path.Combine(root, "Audio", folder, stem + ".txt"), "Some words here.\n");
        }
        return root;
    }
}

public class IemocapReaderTests
{
    [Fact]
    public void Reads_labels_speakers_transcripts_and_paths_of_real_dialog_names()
    {
        var root = CorpusFixtures.Iemocap();
        var index = CorpusReader.Read("iemocap", root);
        var byId = index.Entries.ToDictionary(e => e.Id);
        Assert.Equal(8, index.Entries.Count);
        var f000 = byId["Ses01F_impro05a_F000"];
        Assert.Equal(Emotion.Neutral, f000.Label);
        Assert.Equal("Ses01F", f000.Speaker);
        Assert.Equal("Excuse me.", f000.Transcript);
        Assert.Equal(6.2901, f000.Start);
        Assert.Equal(8.2357, f000.End);
        Assert.EndsWith(Path.Combine("Session1", "sentences", "wav", "Ses01F_impro05a", "Ses01F_impro05a_F000.wav"), f000.AudioPath);
        Assert.EndsWith(Path.Combine("Session1", "dialog", "avi", "DivX", "Ses01F_impro05a.avi"), f000.VideoPath);
        Assert.Equal(Emotion.Happy, byId["Ses01F_impro05a_M000"].Label); // exc -> happy
        Assert.Equal("Ses01M", byId["Ses01F_impro05a_M000"].Speaker);
        Assert.Equal(Emotion.Angry, byId["Ses05F_script03_1_F000"].Label);
        Assert.Equal("Ses05F", byId["Ses05F_script03_1_F000"].Speaker);
        Assert.Equal("Ses03M", byId["Ses03M_script01_1b_M000"].Speaker);
        Assert.Equal(Emotion.Happy, byId["Ses03M_script01_1b_M000"].Label);
    }

    [Fact]
    public void Counts_excluded_labels_missing_inputs_and_reports_bad_lines_with_file_and_line()
    {
        var root = CorpusFixtures.Iemocap();
        var index = CorpusReader.Read("iemocap", root);
        Assert.Equal(new Dictionary<string, int> { ["fru"] = 1, ["xxx"] = 1 }, index.Excluded);
        // Complete: F000 (neu), M000 (exc), Ses05F F000 (ang). Ses05F M000 has a broken transcript line,
        // Ses03M dialog has no transcript file and no video, and its F000 has no wav: all six count, whatever they have.
        Assert.Equal(
            ["Ses01F_impro05a_F000", "Ses01F_impro05a_M000", "Ses03M_script01_1b_F000", "Ses03M_script01_1b_M000", "Ses05F_script03_1_F000", "Ses05F_script03_1_M000"],
            index.Utterances.Select(u => u.Id).Order().ToArray());
        Assert.Equal(["Ses01F_impro05a_F000", "Ses01F_impro05a_M000", "Ses05F_script03_1_F000"], index.Having(CorpusIndex.AllInputs).Select(u => u.Id).Order().ToArray());
        Assert.Equal(["Ses01F_impro05a_F000", "Ses01F_impro05a_M000", "Ses03M_script01_1b_M000", "Ses05F_script03_1_F000", "Ses05F_script03_1_M000"],
            index.Having(Modality.Audio).Select(u => u.Id).Order().ToArray());
        Assert.Equal(new MissingCounts(Audio: 1, Video: 2, Transcript: 3), index.Missing);
        Assert.Equal(new ModalityCounts(Audio: 5, Video: 4, Text: 3), index.Modalities);
        Assert.Equal(new Dictionary<string, int> { ["angry"] = 1, ["happy"] = 2, ["sad"] = 1, ["neutral"] = 2 }, index.ByLabel);
        Assert.Equal(2, index.Problems.Count);
        var labelProblem = index.Problems.Single(p => p.File.EndsWith("Ses01F_impro05a.txt", StringComparison.Ordinal) && p.File.Contains("EmoEvaluation", StringComparison.Ordinal));
        Assert.Equal(15, labelProblem.Line);
        var transcriptProblem = index.Problems.Single(p => p.File.Contains("transcriptions", StringComparison.Ordinal));
        Assert.Equal(2, transcriptProblem.Line);
        Assert.EndsWith("Ses05F_script03_1.txt", transcriptProblem.File);
    }

    [Fact]
    public void A_root_that_is_not_iemocap_is_refused()
    {
        var e = Assert.Throws<BadInputException>(() => CorpusReader.Read("iemocap", CorpusFixtures.MspImprov()));
        Assert.Contains("not an IEMOCAP_full_release root", e.Message);
        Assert.Throws<BadInputException>(() => CorpusReader.Read("timit", TestFolders.Create()));
    }
}

public class MspImprovReaderTests
{
    [Theory]
    [InlineData("Evaluation.txt")]
    [InlineData("Evalution.txt")]
    public void Reads_consensus_lines_skips_rater_lines_and_finds_media_by_stem(string labelFile)
    {
        var index = CorpusReader.Read("msp-improv", CorpusFixtures.MspImprov(labelFile));
        Assert.Equal(5, index.Entries.Count);
        var a = index.Entries[0];
        Assert.Equal("MSP-IMPROV-S01A-F01-P-FM01", a.Id);
        Assert.Equal(Emotion.Angry, a.Label);
        Assert.Equal("F01", a.Speaker);
        Assert.EndsWith("MSP-IMPROV-S01A-F01-P-FM01.wav", a.AudioPath);
        Assert.EndsWith("MSP-IMPROV-S01A-F01-P-FM01.avi", a.VideoPath);
        Assert.Equal("Some words here.", a.Transcript);
        Assert.Equal(["MSP-IMPROV-S01A-F01-P-FM01", "MSP-IMPROV-S02H-M01-R-MF02", "MSP-IMPROV-S06N-M02-P-MF06"], index.Utterances.Select(u => u.Id).ToArray());
        Assert.Equal(["MSP-IMPROV-S01A-F01-P-FM01", "MSP-IMPROV-S02H-M01-R-MF02"], index.Having(CorpusIndex.AllInputs).Select(u => u.Id).ToArray());
        Assert.Equal(new ModalityCounts(Audio: 3, Video: 2, Text: 3), index.Modalities);
        Assert.Equal(new Dictionary<string, int> { ["O"] = 1, ["X"] = 1 }, index.Excluded);
        Assert.Equal(new MissingCounts(Audio: 0, Video: 1, Transcript: 0), index.Missing);
        var problem = Assert.Single(index.Problems);
        Assert.Equal(11, problem.Line);
    }

    [Fact]
    public void A_root_without_an_evaluation_file_is_refused()
    {
        var e = Assert.Throws<BadInputException>(() => CorpusReader.Read("msp-improv", CorpusFixtures.Iemocap()));
        Assert.Contains("not an MSP-IMPROV root", e.Message);
    }
}

public class TranscriptFileTests
{
    [Fact]
    public void A_user_transcript_file_supplies_the_words_of_an_msp_improv_release_without_them()
    {
        var root = CorpusFixtures.MspImprov();
        foreach (var f in Directory.GetFiles(root, "MSP-IMPROV-*.txt", SearchOption.AllDirectories))
        {
            File.Delete(f);
        }
        var bare = CorpusReader.Read("msp-improv", root);
        Assert.Equal(new ModalityCounts(Audio: 3, Video: 2, Text: 0), bare.Modalities);

        var file = Path.Combine(TestFolders.Create(), "words.tsv");
        File.WriteAllText(file,
            "# id<TAB>text\n" +
            "MSP-IMPROV-S01A-F01-P-FM01\tGet out of here.\n" +
            "UTD-IMPROV-S02H-M01-R-MF02.avi\tThat is wonderful news!\n" +
            "no tab on this line\n" +
            "MSP-IMPROV-S01A-F01-P-FM01\tsaid twice\n" +
            "MSP-IMPROV-S77N-F09-P-FM77\tnot in the corpus\n");
        var index = CorpusReader.Read("msp-improv", root, file);
        Assert.Equal(new ModalityCounts(Audio: 3, Video: 2, Text: 2), index.Modalities);
        var byId = index.Utterances.ToDictionary(u => u.Id);
        Assert.Equal("Get out of here.", byId["MSP-IMPROV-S01A-F01-P-FM01"].Transcript);
        Assert.Equal("That is wonderful news!", byId["MSP-IMPROV-S02H-M01-R-MF02"].Transcript);
        Assert.Null(byId["MSP-IMPROV-S06N-M02-P-MF06"].Transcript);
        var fileProblems = index.Problems.Where(p => p.File == file).Select(p => (p.Line, p.Message)).ToList();
        Assert.Equal(
        [
            (4, "transcript line does not parse: expected \"utterance-id<TAB>text\""),
            (5, "utterance MSP-IMPROV-S01A-F01-P-FM01 has a second transcript line; the first is kept"),
            (6, "utterance MSP-IMPROV-S77N-F09-P-FM77 is not labelled in the corpus; its transcript is not used"),
        ], fileProblems);
        // The label file's own problem stays.
        Assert.Single(index.Problems, p => p.File != file);

        var missing = Assert.Throws<BadInputException>(() => CorpusReader.Read("msp-improv", root, Path.Combine(root, "none.tsv")));
        Assert.Contains("none.tsv' does not exist", missing.Message);
    }
}
