using System.Diagnostics;
using System.Globalization;
using System.Text;
using CsCheck;
using FoldCluster.Core;
using Xunit.Abstractions;

namespace FoldCluster.Features.Tests.Fuzz;

/// <summary>
/// Runs a parser over generated inputs (random, and valid seeds mutated): every input must give a result or a
/// <see cref="BadInputException"/>, nothing else, within a per-case bound of time and allocated memory.
/// The test run's budget is a few thousand cases per parser; scripts/fuzz.sh raises it with
/// FOLDCLUSTER_FUZZ_ITER (cases) or FOLDCLUSTER_FUZZ_SECONDS (time), and collects the report lines from
/// FOLDCLUSTER_FUZZ_REPORT.
/// </summary>
public static class Fuzzing
{
    public const string IterVariable = "FOLDCLUSTER_FUZZ_ITER";
    public const string SecondsVariable = "FOLDCLUSTER_FUZZ_SECONDS";
    public const string ReportVariable = "FOLDCLUSTER_FUZZ_REPORT";

    /// <summary>No case may take longer (generous: the machine may be loaded; a hang or a runaway loop is far longer).</summary>
    public static readonly TimeSpan CaseTimeLimit = TimeSpan.FromSeconds(10);

    /// <summary>No case may allocate more (inputs are at most a few kilobytes).</summary>
    public const long CaseMemoryLimit = 256L * 1024 * 1024;

    public sealed record Report(string Parser, long Cases, long Results, long BadInput, long Crashes, double Seconds)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"fuzz {Parser}: {Cases} cases ({Results} parsed, {BadInput} bad input), {Crashes} crashes, {Seconds:F1} s");
    }

    public static Report Run<T>(string parser, Gen<T> gen, Action<T> parse, ITestOutputHelper output, Func<T, string> print, long ciCases = 3000)
    {
        var (iter, time) = Budget(ciCases);
        long cases = 0, results = 0, bad = 0, crashes = 0;
        string? firstCrash = null;
        var kinds = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        gen.Sample(input =>
        {
            Interlocked.Increment(ref cases);
            var caseClock = Stopwatch.StartNew();
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            string? crash = null;
            try
            {
                parse(input);
                Interlocked.Increment(ref results);
            }
            catch (BadInputException e) when (!string.IsNullOrWhiteSpace(e.Message))
            {
                Interlocked.Increment(ref bad);
            }
            catch (Exception e)
            {
                crash = $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}";
                var frame = e.StackTrace?.Split('\n').FirstOrDefault()?.Trim() ?? "";
                kinds.AddOrUpdate($"{e.GetType().Name} {frame}", 1, (_, n) => n + 1);
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            if (crash is null && caseClock.Elapsed > CaseTimeLimit)
            {
                crash = $"took {caseClock.Elapsed.TotalSeconds:F1} s (limit {CaseTimeLimit.TotalSeconds} s)";
            }
            if (crash is null && allocated > CaseMemoryLimit)
            {
                crash = $"allocated {allocated:N0} bytes (limit {CaseMemoryLimit:N0})";
            }
            if (crash is not null)
            {
                Interlocked.Increment(ref crashes);
                Interlocked.CompareExchange(ref firstCrash, $"{crash}\ninput: {print(input)}", null);
            }
        }, iter: iter, time: time);
        var report = new Report(parser, cases, results, bad, crashes, clock.Elapsed.TotalSeconds);
        output.WriteLine(report.ToString());
        var reportFile = Environment.GetEnvironmentVariable(ReportVariable);
        if (!string.IsNullOrWhiteSpace(reportFile))
        {
            lock (typeof(Fuzzing))
            {
                File.AppendAllText(reportFile, report + "\n");
            }
        }
        foreach (var (kind, count) in kinds)
        {
            output.WriteLine($"  {count} x {kind}");
        }
        Assert.True(crashes == 0, $"{report}; kinds: {string.Join(" | ", kinds.Select(k => $"{k.Value} x {k.Key}"))}; first: {firstCrash}");
        Assert.True(cases > 0);
        return report;
    }

    private static (long Iter, int Time) Budget(long ciCases)
    {
        var seconds = Environment.GetEnvironmentVariable(SecondsVariable);
        if (!string.IsNullOrWhiteSpace(seconds))
        {
            return (-1, int.Parse(seconds, CultureInfo.InvariantCulture));
        }
        var iter = Environment.GetEnvironmentVariable(IterVariable);
        return (string.IsNullOrWhiteSpace(iter) ? ciCases : long.Parse(iter, CultureInfo.InvariantCulture), -1);
    }

    // ---- inputs ----

    private static readonly uint[] InterestingWords =
        [0, 1, 2, 7, 8, 16, 40, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF, 999, 1000, 16000, 44100, 384000, 384001,
         0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF];

    /// <summary>Random bytes, or one of the seeds with 1 to 12 mutations (bit flips, interesting values, cuts, copies).</summary>
    public static Gen<byte[]> Bytes(params byte[][] seeds) => Gen.OneOf(
        Gen.Byte.Array[0, 2048],
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int, Gen.Int[1, 12], (i, seed, n) => MutateBytes(seeds[i], new Random(seed), n)),
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int, Gen.Int[1, 3], (i, seed, n) => MutateBytes(seeds[i], new Random(seed), n)));

    public static byte[] MutateBytes(byte[] seed, Random random, int mutations)
    {
        var bytes = new List<byte>(seed);
        for (int m = 0; m < mutations; m++)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2 when bytes.Count >= 4:
                    // An interesting little-endian 16- or 32-bit value, mostly at header offsets.
                    var pos = random.Next(2) == 0 ? Math.Min(bytes.Count - 4, random.Next(48)) : Math.Min(at, bytes.Count - 4);
                    var word = InterestingWords[random.Next(InterestingWords.Length)];
                    var width = random.Next(2) == 0 ? 2 : 4;
                    for (int b = 0; b < width; b++)
                    {
                        bytes[pos + b] = (byte)(word >> (8 * b));
                    }
                    break;
                case 3:
                    bytes.InsertRange(at, Enumerable.Range(0, random.Next(1, 16)).Select(_ => (byte)random.Next(256)));
                    break;
                case 4 when bytes.Count > 0:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 64)));
                    break;
                case 5 when bytes.Count > 0:
                    var length = Math.Min(bytes.Count - at, random.Next(1, 64));
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
                case 6 when bytes.Count > 0:
                    bytes.RemoveRange(at, bytes.Count - at); // truncation
                    break;
            }
        }
        return [.. bytes];
    }

    private static readonly string[] InterestingTokens =
        ["\n", "\r\n", "\t", " ", "[", "]", "-", ":", ";", ",", ".", "_", "%", "#", "{", "}", "&a", "*a", "!!str", "|", ">", "'", "\"", "---", "...",
         "0", "-1", "1e400", "-1e400", "NaN", "Infinity", "99999999999999999999999999", "2147483648", "4294967296", "0.0000001",
         "neu", "ang", "hap", "exc", "sad", "xxx", "A", "H", "S", "N", "O", "X", "_F000", "_M000", "UTD-IMPROV-", "MSP-IMPROV-",
         "Ses01F_impro01", "seeds: ", "max_jobs: ", "folds: ", "null", "~", "\u0000", "\u00e9", "\ud83d\ude00", "\uFFFD"];

    /// <summary>Random text, or one of the seeds with 1 to 12 mutations (tokens the formats care about, cuts, copied lines).</summary>
    public static Gen<string> Text(params string[] seeds) => Gen.OneOf(
        Gen.String[Gen.Char, 0, 512],
        Gen.String[Gen.Char["[]-:;\t\n .0123456789_ABFHMNOSXaehnsuvx"], 0, 512],
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int, Gen.Int[1, 12], (i, seed, n) => MutateText(seeds[i], new Random(seed), n)),
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int, Gen.Int[1, 3], (i, seed, n) => MutateText(seeds[i], new Random(seed), n)));

    public static string MutateText(string seed, Random random, int mutations)
    {
        var text = new StringBuilder(seed);
        for (int m = 0; m < mutations; m++)
        {
            var at = text.Length == 0 ? 0 : random.Next(text.Length);
            switch (random.Next(6))
            {
                case 0:
                    text.Insert(at, InterestingTokens[random.Next(InterestingTokens.Length)]);
                    break;
                case 1 when text.Length > 0:
                    text.Remove(at, Math.Min(text.Length - at, random.Next(1, 24)));
                    break;
                case 2 when text.Length > 0:
                    // Replace a run of digits with an interesting number.
                    var digit = Enumerable.Range(at, text.Length - at).FirstOrDefault(k => char.IsAsciiDigit(text[k]), -1);
                    if (digit >= 0)
                    {
                        var end = digit;
                        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == '.'))
                        {
                            end++;
                        }
                        text.Remove(digit, end - digit).Insert(digit, InterestingTokens[random.Next(25, 35)]);
                    }
                    break;
                case 3 when text.Length > 0:
                    var length = Math.Min(text.Length - at, random.Next(1, 200));
                    text.Insert(random.Next(text.Length), text.ToString(at, length));
                    break;
                case 4:
                    text.Insert(at, (char)random.Next(0, 0x3000));
                    break;
                case 5 when text.Length > 0:
                    text.Length = at; // truncation
                    break;
            }
        }
        return text.ToString();
    }

    public static IEnumerable<string> Lines(string text)
    {
        using var reader = new StringReader(text);
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }

    public static string Show(byte[] bytes) =>
        $"{bytes.Length} bytes: {Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 256)))}{(bytes.Length > 256 ? "..." : "")}";

    public static string Show(string text) =>
        $"{text.Length} chars: \"{(text.Length > 400 ? text[..400] + "..." : text).Replace("\n", "\\n", StringComparison.Ordinal)}\"";
}
