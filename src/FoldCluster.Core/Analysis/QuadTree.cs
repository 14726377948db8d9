namespace FoldCluster.Core.Analysis;

/// <summary>
/// The Barnes-Hut quadtree over a 2-d embedding, rebuilt every iteration into reused arrays: each cell keeps its
/// centre of mass, point count, squared width and up to four children; leaves keep a range of point indices.
/// </summary>
internal sealed class QuadTree
{
    // Coincident points would split forever; below this depth they stay together in one leaf.
    private const int MaxDepth = 40;

    private readonly int[] _order;
    private readonly int[] _scratch;
    private int[] _child;
    private double[] _comX = [];
    private double[] _comY = [];
    private double[] _width2 = [];
    private int[] _count = [];
    private int[] _start = [];
    private int _nodes;
    private double[] _y = [];
    private int[] _stack = new int[256];

    public QuadTree(int points)
    {
        _order = new int[points];
        _scratch = new int[points];
        _child = [];
        Grow(Math.Max(16, 2 * points));
    }

    public void Build(double[] y)
    {
        _y = y;
        var n = _order.Length;
        double minX = double.PositiveInfinity, minY = double.PositiveInfinity, maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
        for (var i = 0; i < n; i++)
        {
            _order[i] = i;
            minX = Math.Min(minX, y[2 * i]);
            maxX = Math.Max(maxX, y[2 * i]);
            minY = Math.Min(minY, y[2 * i + 1]);
            maxY = Math.Max(maxY, y[2 * i + 1]);
        }
        var half = Math.Max(maxX - minX, maxY - minY) / 2 * (1 + 1e-9) + 1e-12;
        _nodes = 0;
        BuildCell(0, n, (minX + maxX) / 2, (minY + maxY) / 2, half, 0);
    }

    /// <summary>Sum over other points j of q_ij^2 Z^2 (y_i - y_j) and of q_ij Z, with far cells summarised.</summary>
    public (double Fx, double Fy, double SumQ) Repulsion(int point, double x, double y, double theta2)
    {
        double fx = 0, fy = 0, sumQ = 0;
        var top = 0;
        _stack[top++] = 0;
        while (top > 0)
        {
            var c = _stack[--top];
            var dx = x - _comX[c];
            var dy = y - _comY[c];
            var d2 = dx * dx + dy * dy;
            var first = _child[4 * c];
            if (first == -2)
            {
                // Leaf: each point on its own, skipping the point itself.
                for (var k = _start[c]; k < _start[c] + _count[c]; k++)
                {
                    var j = _order[k];
                    if (j == point)
                    {
                        continue;
                    }
                    var ex = x - _y[2 * j];
                    var ey = y - _y[2 * j + 1];
                    var q = 1.0 / (1.0 + ex * ex + ey * ey);
                    sumQ += q;
                    fx += q * q * ex;
                    fy += q * q * ey;
                }
            }
            else if (_width2[c] < theta2 * d2)
            {
                var q = 1.0 / (1.0 + d2);
                var m = _count[c];
                sumQ += m * q;
                fx += m * q * q * dx;
                fy += m * q * q * dy;
            }
            else
            {
                if (top + 4 > _stack.Length)
                {
                    Array.Resize(ref _stack, _stack.Length * 2);
                }
                for (var q = 0; q < 4; q++)
                {
                    var child = _child[4 * c + q];
                    if (child >= 0)
                    {
                        _stack[top++] = child;
                    }
                }
            }
        }
        return (fx, fy, sumQ);
    }

    private int BuildCell(int start, int end, double cx, double cy, double half, int depth)
    {
        if (_nodes == _count.Length)
        {
            Grow(_count.Length * 2);
        }
        var node = _nodes++;
        var count = end - start;
        double sx = 0, sy = 0;
        for (var k = start; k < end; k++)
        {
            sx += _y[2 * _order[k]];
            sy += _y[2 * _order[k] + 1];
        }
        _comX[node] = sx / count;
        _comY[node] = sy / count;
        _count[node] = count;
        _start[node] = start;
        _width2[node] = 4 * half * half;
        if (count == 1 || depth >= MaxDepth)
        {
            _child[4 * node] = -2;
            return node;
        }
        // Partition [start, end) by quadrant: 0 = (x < cx, y < cy), 1 = (x >= cx, y < cy), 2 = (x < cx, y >= cy), 3.
        Span<int> sizes = stackalloc int[4];
        for (var k = start; k < end; k++)
        {
            sizes[Quadrant(_order[k], cx, cy)]++;
        }
        Span<int> offsets = stackalloc int[4];
        offsets[0] = start;
        for (var q = 1; q < 4; q++)
        {
            offsets[q] = offsets[q - 1] + sizes[q - 1];
        }
        Span<int> cursor = stackalloc int[4];
        offsets.CopyTo(cursor);
        for (var k = start; k < end; k++)
        {
            var i = _order[k];
            _scratch[cursor[Quadrant(i, cx, cy)]++] = i;
        }
        Array.Copy(_scratch, start, _order, start, count);
        var h = half / 2;
        for (var q = 0; q < 4; q++)
        {
            _child[4 * node + q] = -1;
        }
        for (var q = 0; q < 4; q++)
        {
            if (sizes[q] == 0)
            {
                continue;
            }
            var childX = (q & 1) == 0 ? cx - h : cx + h;
            var childY = (q & 2) == 0 ? cy - h : cy + h;
            var child = BuildCell(offsets[q], offsets[q] + sizes[q], childX, childY, h, depth + 1);
            _child[4 * node + q] = child;
        }
        return node;
    }

    private int Quadrant(int i, double cx, double cy) => (_y[2 * i] >= cx ? 1 : 0) | (_y[2 * i + 1] >= cy ? 2 : 0);

    private void Grow(int capacity)
    {
        Array.Resize(ref _comX, capacity);
        Array.Resize(ref _comY, capacity);
        Array.Resize(ref _width2, capacity);
        Array.Resize(ref _count, capacity);
        Array.Resize(ref _start, capacity);
        Array.Resize(ref _child, 4 * capacity);
    }
}
