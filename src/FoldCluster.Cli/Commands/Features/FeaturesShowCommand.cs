using System.ComponentModel;
using System.Text.Json;
using FoldCluster.Features;
using FoldCluster.Features.Audio;
using Spectre.Console.Cli;

namespace FoldCluster.Cli.Commands.Features;

public sealed class FeaturesShowSettings : CommandSettings
{
    [CommandOption("--wav <FILE>")]
    [Description("WAV file (PCM 8/16/24/32-bit or float32; any rate, resampled to 16 kHz)")]
    public string Wav { get; init; } = "";

    [CommandOption("--json")]
    [Description("Print {\"sample_rate\", \"frames\", \"logmel\": [3][64][T], \"ltpp\": [3][64][128]} on stdout")]
    public bool Json { get; init; }
}

/// <summary>`foldcluster features show`: the DESIGN.md 4.1 log-Mel and its 4.4 LTPP for one file.</summary>
public sealed class FeaturesShowCommand : Command<FeaturesShowSettings>
{
    public override int Execute(CommandContext context, FeaturesShowSettings settings, CancellationToken cancellationToken)
    {
        FeatureCliSupport.Require(settings.Wav, "--wav");
        var signal = WavReader.ReadAt16k(settings.Wav);
        var logMel = LogMelExtractor.Compute(signal.Samples);
        var pooled = Ltpp.PoolLogMel(logMel);
        if (!settings.Json)
        {
            Console.Error.WriteLine($"{settings.Wav}: {signal.Seconds:F3} s at {signal.SampleRate} Hz, {logMel.Frames} frames");
            for (int c = 0; c < 3; c++)
            {
                var plane = logMel.Values.AsSpan(c * LogMelExtractor.Bands * logMel.Frames, LogMelExtractor.Bands * logMel.Frames);
                Console.Error.WriteLine($"  {(c == 0 ? "static" : c == 1 ? "delta" : "delta-delta"),-12} min {Min(plane):F4} max {Max(plane):F4}");
            }
            Console.Error.WriteLine("use --json for the numbers");
            return 0;
        }
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout))
        {
            writer.WriteStartObject();
            writer.WriteNumber("sample_rate", signal.SampleRate);
            writer.WriteNumber("frames", logMel.Frames);
            writer.WritePropertyName("logmel");
            WriteCube(writer, logMel.Values, logMel.Frames);
            writer.WritePropertyName("ltpp");
            WriteCube(writer, pooled, Ltpp.OutputLength(Ltpp.AudioLevels));
            writer.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
        return 0;
    }

    private static void WriteCube(Utf8JsonWriter writer, float[] values, int frames)
    {
        writer.WriteStartArray();
        for (int c = 0; c < 3; c++)
        {
            writer.WriteStartArray();
            for (int b = 0; b < LogMelExtractor.Bands; b++)
            {
                writer.WriteStartArray();
                int offset = (c * LogMelExtractor.Bands + b) * frames;
                for (int t = 0; t < frames; t++)
                {
                    writer.WriteNumberValue(values[offset + t]);
                }
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
    }

    private static float Min(ReadOnlySpan<float> x)
    {
        float m = float.PositiveInfinity;
        foreach (var v in x)
        {
            m = Math.Min(m, v);
        }
        return m;
    }

    private static float Max(ReadOnlySpan<float> x)
    {
        float m = float.NegativeInfinity;
        foreach (var v in x)
        {
            m = Math.Max(m, v);
        }
        return m;
    }
}
