using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using FoldCluster.Features;
using FoldCluster.Features.Audio;
using FoldCluster.Features.Video;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Features;

public sealed class BenchFeaturesSettings : CommandSettings
{
    [CommandOption("--json")]
    [Description("Last stdout line: {\"logmel_realtime_factor\", \"resnet50_fps_224\", \"resnet50_fps_112\"}")]
    public bool Json { get; init; }

    [CommandOption("--seconds <S>")]
    [Description("Minimum seconds spent on each measurement (default 3)")]
    public double Seconds { get; init; } = 3;
}

/// <summary>
/// `foldcluster bench features`: the log-Mel + deltas real-time factor (seconds of 16 kHz audio per CPU second of the
/// one thread that computes it) and ResNet-50 (random weights: speed does not depend on them) frames per
/// second at 224 and 112 pixels, batches of 16, with libtorch's default intra-op threads.
/// </summary>
public sealed class BenchFeaturesCommand : Command<BenchFeaturesSettings>
{
    public override int Execute(CommandContext context, BenchFeaturesSettings settings, CancellationToken cancellationToken)
    {
        var rng = new Random(1);
        var audio = new float[60 * LogMelExtractor.SampleRate];
        for (int i = 0; i < audio.Length; i++)
        {
            audio[i] = (float)(0.3 * Math.Sin(2 * Math.PI * 220 * i / 16000.0) + 0.05 * (rng.NextDouble() - 0.5));
        }
        LogMelExtractor.Compute(audio.AsSpan(0, 16000)); // warm-up (JIT, tables)
        // One thread does all the work, so the process's CPU time is that core's time: the factor stays meaningful
        // on a shared machine where wall-clock time also counts other processes' turns.
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        double audioSeconds = 0;
        while (clock.Elapsed.TotalSeconds < settings.Seconds)
        {
            cancellationToken.ThrowIfCancellationRequested();
            LogMelExtractor.Compute(audio);
            audioSeconds += 60;
        }
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        double wall = clock.Elapsed.TotalSeconds;
        double rtf = audioSeconds / Math.Max(cpu, 1e-9);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"log-Mel + deltas: {rtf:F0} x real time per CPU second ({audioSeconds:F0} s of audio in {cpu:F2} CPU s, {wall:F2} wall s: {audioSeconds / wall:F0} x wall-clock)"));

        using var network = FrameFeatureExtractor.Create(FrameNetworkSpec.From(FrameNetworkSpec.ResNet50, null, allowRandomWeights: true));
        double Fps(int size)
        {
            var frames = Enumerable.Range(0, 16).Select(i =>
            {
                var f = new byte[size * size * 3];
                rng.NextBytes(f);
                return f;
            }).ToList();
            network.Extract(frames, size); // warm-up
            var c = Stopwatch.StartNew();
            int n = 0;
            while (c.Elapsed.TotalSeconds < settings.Seconds || n == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                network.Extract(frames, size);
                n += frames.Count;
            }
            double fps = n / c.Elapsed.TotalSeconds;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ResNet-50 at {size} px: {fps:F1} frames/s ({TorchSharp.torch.get_num_threads()} threads, batches of 16)"));
            return fps;
        }
        double fps224 = Fps(224);
        double fps112 = Fps(112);
        if (settings.Json)
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"logmel_realtime_factor\": {rtf:F1}, \"resnet50_fps_224\": {fps224:F2}, \"resnet50_fps_112\": {fps112:F2}}}"));
        }
        return 0;
    }
}
