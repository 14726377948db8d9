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
    private Node[] _node = [];
    private int _nodes;
    private double[] _y = [];
    private int[] _stack = new int[256];

    public QuadTree(int points)
    {
        _order = new int[points];
        _scratch = new int[points];
        Array.Resize(ref _node, Math.Max(16, 2 * points));
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

    /// <summary>The points in tree order (neighbours in the plane are neighbours here), after <see cref="Build"/>.</summary>
    public ReadOnlySpan<int> PointsInTreeOrder => _order;

    /// <summary>Sum over other points j of q_ij^2 Z^2 (y_i - y_j) and of q_ij Z, with far cells summarised.</summary>
    public (double Fx, double Fy, double SumQ) Repulsion(int point, double x, double y, double theta2)
    {
        double fx = 0, fy = 0, sumQ = 0;
        var top = 0;
        _stack[top++] = 0;
        while (top > 0)
        {
            ref readonly var node = ref _node[_stack[--top]];
            var dx = x - node.ComX;
            var dy = y - node.ComY;
            var d2 = dx * dx + dy * dy;
            if (node.Child0 == -2)
            {
                // Leaf: each point on its own, skipping the point itself.
                for (var k = node.Start; k < node.Start + node.Count; k++)
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
            else if (node.Width2 < theta2 * d2)
            {
                var q = 1.0 / (1.0 + d2);
                var mq = node.Count * q;
                sumQ += mq;
                fx += mq * q * dx;
                fy += mq * q * dy;
            }
            else
            {
                if (top + 4 > _stack.Length)
                {
                    Array.Resize(ref _stack, _stack.Length * 2);
                }
                if (node.Child0 >= 0)
                {
                    _stack[top++] = node.Child0;
                }
                if (node.Child1 >= 0)
                {
                    _stack[top++] = node.Child1;
                }
                if (node.Child2 >= 0)
                {
                    _stack[top++] = node.Child2;
                }
                if (node.Child3 >= 0)
                {
                    _stack[top++] = node.Child3;
                }
            }
        }
        return (fx, fy, sumQ);
    }

    private int BuildCell(int start, int end, double cx, double cy, double half, int depth)
    {
        if (_nodes == _node.Length)
        {
            Array.Resize(ref _node, _node.Length * 2);
        }
        var index = _nodes++;
        var count = end - start;
        double sx = 0, sy = 0;
        for (var k = start; k < end; k++)
        {
            sx += _y[2 * _order[k]];
            sy += _y[2 * _order[k] + 1];
        }
        var node = new Node
        {
            ComX = sx / count,
            ComY = sy / count,
            Count = count,
            Start = start,
            Width2 = 4 * half * half,
            Child0 = -2,
        };
        if (count == 1 || depth >= MaxDepth)
        {
            _node[index] = node;
            return index;
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
        Span<int> children = stackalloc int[4];
        for (var q = 0; q < 4; q++)
        {
            children[q] = sizes[q] == 0
                ? -1
                : BuildCell(offsets[q], offsets[q] + sizes[q], (q & 1) == 0 ? cx - h : cx + h, (q & 2) == 0 ? cy - h : cy + h, h, depth + 1);
        }
        node.Child0 = children[0];
        node.Child1 = children[1];
        node.Child2 = children[2];
        node.Child3 = children[3];
        _node[index] = node;
        return index;
    }

    private int Quadrant(int i, double cx, double cy) => (_y[2 * i] >= cx ? 1 : 0) | (_y[2 * i + 1] >= cy ? 2 : 0);

    /// <summary>One cell in one cache line: a traversal reads one of these per visit.</summary>
    private struct Node
    {
        public double ComX;
        public double ComY;
        public double Width2;
        public int Count;
        public int Start;

        // Children by quadrant; -1 empty; Child0 == -2 marks a leaf.
        public int Child0;
        public int Child1;
        public int Child2;
        public int Child3;
    }
}
