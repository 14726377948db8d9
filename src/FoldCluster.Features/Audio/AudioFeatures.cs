namespace FoldCluster.Features.Audio;

/// <summary>The audio input of an utterance: log-Mel with deltas of its WAV at 16 kHz, LTPP-pooled to [3][64][128] (DESIGN.md 4.1, 4.4).</summary>
internal static class AudioFeatures
{
    public static float[] Compute(string wavPath) => Ltpp.PoolLogMel(LogMelExtractor.Compute(WavReader.ReadAt16k(wavPath).Samples));
}
