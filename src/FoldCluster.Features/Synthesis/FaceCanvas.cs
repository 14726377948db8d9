namespace FoldCluster.Features.Synthesis;

/// <summary>An rgb24 image with the few drawing primitives the generated faces need.</summary>
internal sealed class FaceCanvas(int width, int height)
{
    public int Width { get; } = width;
    public int Height { get; } = height;
    public byte[] Pixels { get; } = new byte[width * height * 3];

    public void Fill(byte r, byte g, byte b, int x0 = 0, int x1 = int.MaxValue)
    {
        x1 = Math.Min(x1, Width);
        for (int y = 0; y < Height; y++)
        {
            for (int x = x0; x < x1; x++)
            {
                Set(x, y, r, g, b);
            }
        }
    }

    public void Set(int x, int y, byte r, byte g, byte b)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
        {
            return;
        }
        int i = (y * Width + x) * 3;
        Pixels[i] = r;
        Pixels[i + 1] = g;
        Pixels[i + 2] = b;
    }

    public void Ellipse(double cx, double cy, double rx, double ry, byte r, byte g, byte b)
    {
        for (int y = (int)(cy - ry) - 1; y <= (int)(cy + ry) + 1; y++)
        {
            for (int x = (int)(cx - rx) - 1; x <= (int)(cx + rx) + 1; x++)
            {
                double dx = (x - cx) / rx, dy = (y - cy) / ry;
                if (dx * dx + dy * dy <= 1)
                {
                    Set(x, y, r, g, b);
                }
            }
        }
    }

    /// <summary>A thick stroke from (x0, y0) to (x1, y1), stamped as discs.</summary>
    public void Line(double x0, double y0, double x1, double y1, double thickness, byte r, byte g, byte b)
    {
        int steps = (int)Math.Ceiling(Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0)) * 2) + 1;
        for (int s = 0; s <= steps; s++)
        {
            double t = (double)s / steps;
            Ellipse(x0 + t * (x1 - x0), y0 + t * (y1 - y0), thickness / 2, thickness / 2, r, g, b);
        }
    }

    /// <summary>A parabola y = cy + curvature * ((x - cx) / halfWidth)^2 for |x - cx| &lt;= halfWidth.</summary>
    public void Curve(double cx, double cy, double halfWidth, double curvature, double thickness, byte r, byte g, byte b)
    {
        double px = cx - halfWidth, py = cy + curvature;
        for (int i = 1; i <= 24; i++)
        {
            double x = cx - halfWidth + 2 * halfWidth * i / 24;
            double u = (x - cx) / halfWidth;
            double y = cy + curvature * u * u;
            Line(px, py, x, y, thickness, r, g, b);
            px = x;
            py = y;
        }
    }
}
