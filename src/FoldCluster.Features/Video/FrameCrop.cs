using FoldCluster.Features.Corpus;

namespace FoldCluster.Features.Video;

/// <summary>One actor's half of a side-by-side dialog frame (rgb24), or both halves squeezed into one square.</summary>
internal static class FrameCrop
{
    public static byte[] Crop(byte[] frame, FrameRegion region, int size, bool sideBySide)
    {
        if (!sideBySide)
        {
            return frame;
        }
        if (region == FrameRegion.Full)
        {
            // Both halves squeezed into one square: average horizontally adjacent pixel pairs.
            var full = new byte[size * size * 3];
            for (int y = 0; y < size; y++)
            {
                for (int x = 0; x < size; x++)
                {
                    for (int c = 0; c < 3; c++)
                    {
                        int a = frame[(y * 2 * size + 2 * x) * 3 + c], b = frame[(y * 2 * size + 2 * x + 1) * 3 + c];
                        full[(y * size + x) * 3 + c] = (byte)((a + b + 1) / 2);
                    }
                }
            }
            return full;
        }
        var half = new byte[size * size * 3];
        int offset = region == FrameRegion.Left ? 0 : size;
        for (int y = 0; y < size; y++)
        {
            Buffer.BlockCopy(frame, (y * 2 * size + offset) * 3, half, y * size * 3, size * 3);
        }
        return half;
    }
}
