using System.Numerics;

namespace FoldCluster.Core.Analysis;

/// <summary>
/// t-SNE to two dimensions (van der Maaten and Hinton 2008, the paper's [62]; Barnes-Hut: van der Maaten 2014),
/// with scikit-learn's optimiser: gradient descent with momentum 0.5 then 0.8, per-coordinate gains (+0.2 / x0.8,
/// at least 0.01), early exaggeration of P. Single-threaded and deterministic for a seed.
/// </summary>
public static class Tsne
{
    private const double MinGain = 0.01;
    private const double MachineEpsilon = 2.220446049250313e-16;

    /// <summary>Embeds the rows of <paramref name="x"/> (n rows of equal width) into 2-d; returns n rows of 2.</summary>
    public static double[][] Embed(IReadOnlyList<double[]> x, TsneOptions? options = null)
    {
        options ??= new TsneOptions();
        AnalysisInput.CheckMatrix(x, "t-SNE input");
        var n = x.Count;
        options.Validate(n);
        var exact = options.Method == TsneMethod.Exact || (options.Method == TsneMethod.Auto && n <= TsneOptions.ExactLimit);
        var y = options.Init == TsneInit.Pca ? PcaInit(x) : RandomInit(n, options.Seed);
        var rate = options.LearningRate ?? Math.Max(n / options.EarlyExaggeration / 4, 50);
        if (exact)
        {
            var p = ExactAffinities(x, options.Perplexity);
            Optimise(y, options, rate, (exaggeration, grad) => ExactGradient(p, y, exaggeration, grad));
        }
        else
        {
            var p = SparseAffinities(x, options.Perplexity);
            var tree = new QuadTree(n);
            Optimise(y, options, rate, (exaggeration, grad) => BarnesHutGradient(p, y, tree, options.Theta, exaggeration, grad));
        }
        var result = new double[n][];
        for (var i = 0; i < n; i++)
        {
            result[i] = [y[2 * i], y[2 * i + 1]];
        }
        return result;
    }

    private static void Optimise(double[] y, TsneOptions options, double rate, Action<double, double[]> gradient)
    {
        var grad = new double[y.Length];
        var update = new double[y.Length];
        var gains = new double[y.Length];
        Array.Fill(gains, 1.0);
        for (var it = 0; it < options.Iterations; it++)
        {
            var early = it < options.ExaggerationIterations;
            gradient(early ? options.EarlyExaggeration : 1.0, grad);
            var momentum = early ? 0.5 : 0.8;
            for (var k = 0; k < y.Length; k++)
            {
                gains[k] = update[k] * grad[k] < 0 ? gains[k] + 0.2 : Math.Max(gains[k] * 0.8, MinGain);
                update[k] = momentum * update[k] - rate * gains[k] * grad[k];
                y[k] += update[k];
            }
        }
    }

    // ---- affinities -------------------------------------------------------------------------------------------

    /// <summary>Symmetric joint probabilities over all pairs: p_ij = (p_j|i + p_i|j) / sum, from squared distances.</summary>
    private static double[] ExactAffinities(IReadOnlyList<double[]> x, double perplexity)
    {
        var n = x.Count;
        var distances = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var s = SquaredDistance(x[i], x[j]);
                distances[i * n + j] = s;
                distances[j * n + i] = s;
            }
        }
        var conditional = new double[n * n];
        var row = new double[n - 1];
        var probabilities = new double[n - 1];
        for (var i = 0; i < n; i++)
        {
            for (int j = 0, k = 0; j < n; j++)
            {
                if (j != i)
                {
                    row[k++] = distances[i * n + j];
                }
            }
            ConditionalRow(row, perplexity, probabilities);
            for (int j = 0, k = 0; j < n; j++)
            {
                if (j != i)
                {
                    conditional[i * n + j] = probabilities[k++];
                }
            }
        }
        var p = new double[n * n];
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                p[i * n + j] = conditional[i * n + j] + conditional[j * n + i];
                sum += p[i * n + j];
            }
        }
        sum = Math.Max(sum, MachineEpsilon);
        for (var k = 0; k < p.Length; k++)
        {
            p[k] = Math.Max(p[k] / sum, MachineEpsilon);
        }
        for (var i = 0; i < n; i++)
        {
            p[i * n + i] = 0;
        }
        return p;
    }

    /// <summary>Sparse symmetric P over each point's k = 3 x perplexity nearest neighbours (CSR).</summary>
    private static SparseRows SparseAffinities(IReadOnlyList<double[]> x, double perplexity)
    {
        var n = x.Count;
        var k = Math.Min(n - 1, (int)(3 * perplexity + 1));
        var (neighbours, distances) = NearestNeighbours(x, k);
        var conditional = new double[n * k];
        var probabilities = new double[k];
        var row = new double[k];
        for (var i = 0; i < n; i++)
        {
            Array.Copy(distances, i * k, row, 0, k);
            ConditionalRow(row, perplexity, probabilities);
            Array.Copy(probabilities, 0, conditional, i * k, k);
        }
        // P + P^T: gather every (i, j) and (j, i) entry, then merge duplicates row by row.
        var entries = new List<(int Col, double Value)>[n];
        for (var i = 0; i < n; i++)
        {
            entries[i] = new List<(int, double)>(2 * k);
        }
        for (var i = 0; i < n; i++)
        {
            for (var a = 0; a < k; a++)
            {
                var j = neighbours[i * k + a];
                var v = conditional[i * k + a];
                entries[i].Add((j, v));
                entries[j].Add((i, v));
            }
        }
        var rowStart = new int[n + 1];
        var cols = new List<int>(2 * n * k);
        var values = new List<double>(2 * n * k);
        var total = 0.0;
        for (var i = 0; i < n; i++)
        {
            rowStart[i] = cols.Count;
            entries[i].Sort((l, r) => l.Col.CompareTo(r.Col));
            for (var e = 0; e < entries[i].Count;)
            {
                var col = entries[i][e].Col;
                var v = 0.0;
                while (e < entries[i].Count && entries[i][e].Col == col)
                {
                    v += entries[i][e++].Value;
                }
                cols.Add(col);
                values.Add(v);
                total += v;
            }
        }
        rowStart[n] = cols.Count;
        total = Math.Max(total, MachineEpsilon);
        var scaled = values.Select(v => v / total).ToArray();
        return new SparseRows(rowStart, cols.ToArray(), scaled);
    }

    private sealed record SparseRows(int[] RowStart, int[] Columns, double[] Values);

    /// <summary>
    /// p_j|i = exp(-beta d_ij) / sum, with beta found by bisection so that the entropy (nats) equals ln(perplexity).
    /// </summary>
    private static void ConditionalRow(double[] squaredDistances, double perplexity, double[] probabilities)
    {
        var target = Math.Log(perplexity);
        double beta = 1, lo = double.NegativeInfinity, hi = double.PositiveInfinity;
        for (var step = 0; step < 100; step++)
        {
            var sum = 0.0;
            for (var j = 0; j < squaredDistances.Length; j++)
            {
                probabilities[j] = Math.Exp(-squaredDistances[j] * beta);
                sum += probabilities[j];
            }
            if (sum == 0)
            {
                sum = MachineEpsilon;
            }
            var weighted = 0.0;
            for (var j = 0; j < squaredDistances.Length; j++)
            {
                probabilities[j] /= sum;
                weighted += squaredDistances[j] * probabilities[j];
            }
            var entropy = Math.Log(sum) + beta * weighted;
            var diff = entropy - target;
            if (Math.Abs(diff) <= 1e-5)
            {
                break;
            }
            if (diff > 0)
            {
                lo = beta;
                beta = double.IsPositiveInfinity(hi) ? beta * 2 : (beta + hi) / 2;
            }
            else
            {
                hi = beta;
                beta = double.IsNegativeInfinity(lo) ? beta / 2 : (beta + lo) / 2;
            }
        }
    }

    /// <summary>Exact k nearest neighbours by squared Euclidean distance (float dot products, blocked for the cache).</summary>
    private static (int[] Neighbours, double[] Distances) NearestNeighbours(IReadOnlyList<double[]> x, int k)
    {
        var n = x.Count;
        var d = x[0].Length;
        var stride = (d + Vector<float>.Count - 1) / Vector<float>.Count * Vector<float>.Count;
        var data = new float[n * stride];
        var norms = new float[n];
        for (var i = 0; i < n; i++)
        {
            var s = 0.0;
            for (var c = 0; c < d; c++)
            {
                data[i * stride + c] = (float)x[i][c];
                s += x[i][c] * x[i][c];
            }
            norms[i] = (float)s;
        }
        var heaps = new NeighbourHeap[n];
        for (var i = 0; i < n; i++)
        {
            heaps[i] = new NeighbourHeap(k);
        }
        const int block = 64;
        var span = data.AsSpan();
        for (var bi = 0; bi < n; bi += block)
        {
            var iEnd = Math.Min(n, bi + block);
            for (var bj = bi; bj < n; bj += block)
            {
                var jEnd = Math.Min(n, bj + block);
                for (var i = bi; i < iEnd; i++)
                {
                    var xi = span.Slice(i * stride, stride);
                    for (var j = Math.Max(bj, i + 1); j < jEnd; j++)
                    {
                        var dist = Math.Max(0f, norms[i] + norms[j] - 2 * Dot(xi, span.Slice(j * stride, stride)));
                        heaps[i].Offer(j, dist);
                        heaps[j].Offer(i, dist);
                    }
                }
            }
        }
        var neighbours = new int[n * k];
        var distances = new double[n * k];
        for (var i = 0; i < n; i++)
        {
            heaps[i].CopySorted(neighbours.AsSpan(i * k, k), distances.AsSpan(i * k, k));
        }
        return (neighbours, distances);
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var acc = Vector<float>.Zero;
        var va = System.Runtime.InteropServices.MemoryMarshal.Cast<float, Vector<float>>(a);
        var vb = System.Runtime.InteropServices.MemoryMarshal.Cast<float, Vector<float>>(b);
        for (var v = 0; v < va.Length; v++)
        {
            acc += va[v] * vb[v];
        }
        return Vector.Sum(acc);
    }

    /// <summary>The k smallest distances seen, as a max-heap (ties broken by index so the result is deterministic).</summary>
    private sealed class NeighbourHeap(int capacity)
    {
        private readonly int[] _index = new int[capacity];
        private readonly float[] _distance = new float[capacity];
        private int _count;

        public void Offer(int index, float distance)
        {
            if (_count < capacity)
            {
                var c = _count++;
                _index[c] = index;
                _distance[c] = distance;
                while (c > 0)
                {
                    var parent = (c - 1) / 2;
                    if (!Greater(c, parent))
                    {
                        break;
                    }
                    Swap(c, parent);
                    c = parent;
                }
                return;
            }
            if (distance > _distance[0] || (distance == _distance[0] && index > _index[0]))
            {
                return;
            }
            _index[0] = index;
            _distance[0] = distance;
            var i = 0;
            while (true)
            {
                int l = 2 * i + 1, r = l + 1, largest = i;
                if (l < _count && Greater(l, largest))
                {
                    largest = l;
                }
                if (r < _count && Greater(r, largest))
                {
                    largest = r;
                }
                if (largest == i)
                {
                    break;
                }
                Swap(i, largest);
                i = largest;
            }
        }

        public void CopySorted(Span<int> indices, Span<double> distances)
        {
            var order = Enumerable.Range(0, _count).OrderBy(a => _distance[a]).ThenBy(a => _index[a]).ToArray();
            for (var a = 0; a < order.Length; a++)
            {
                indices[a] = _index[order[a]];
                distances[a] = _distance[order[a]];
            }
        }

        private bool Greater(int a, int b) => _distance[a] > _distance[b] || (_distance[a] == _distance[b] && _index[a] > _index[b]);

        private void Swap(int a, int b)
        {
            (_index[a], _index[b]) = (_index[b], _index[a]);
            (_distance[a], _distance[b]) = (_distance[b], _distance[a]);
        }
    }

    // ---- gradients --------------------------------------------------------------------------------------------

    /// <summary>dC/dy_i = 4 sum_j (p_ij - q_ij) (1 + |y_i - y_j|^2)^-1 (y_i - y_j).</summary>
    private static void ExactGradient(double[] p, double[] y, double exaggeration, double[] grad)
    {
        var n = y.Length / 2;
        var num = new double[n * n];
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var dx = y[2 * i] - y[2 * j];
                var dy = y[2 * i + 1] - y[2 * j + 1];
                var q = 1.0 / (1.0 + dx * dx + dy * dy);
                num[i * n + j] = q;
                num[j * n + i] = q;
                sum += 2 * q;
            }
        }
        sum = Math.Max(sum, MachineEpsilon);
        for (var i = 0; i < n; i++)
        {
            double gx = 0, gy = 0;
            for (var j = 0; j < n; j++)
            {
                if (j == i)
                {
                    continue;
                }
                var q = num[i * n + j];
                var w = (exaggeration * p[i * n + j] - Math.Max(q / sum, MachineEpsilon)) * q;
                gx += w * (y[2 * i] - y[2 * j]);
                gy += w * (y[2 * i + 1] - y[2 * j + 1]);
            }
            grad[2 * i] = 4 * gx;
            grad[2 * i + 1] = 4 * gy;
        }
    }

    /// <summary>Attraction over the sparse P exactly; repulsion summarised by the quadtree (cells with width / distance below theta).</summary>
    private static void BarnesHutGradient(SparseRows p, double[] y, QuadTree tree, double theta, double exaggeration, double[] grad)
    {
        var n = y.Length / 2;
        tree.Build(y);
        var sumQ = 0.0;
        var theta2 = theta * theta;
        // Visiting points in tree order keeps consecutive traversals on the same cells (cache); the sum is
        // accumulated in that order too, which is fixed for a given embedding, so runs stay deterministic.
        foreach (var i in tree.PointsInTreeOrder)
        {
            var (fx, fy, q) = tree.Repulsion(i, y[2 * i], y[2 * i + 1], theta2);
            grad[2 * i] = fx;
            grad[2 * i + 1] = fy;
            sumQ += q;
        }
        sumQ = Math.Max(sumQ, MachineEpsilon);
        for (var i = 0; i < n; i++)
        {
            double ax = 0, ay = 0;
            for (var e = p.RowStart[i]; e < p.RowStart[i + 1]; e++)
            {
                var j = p.Columns[e];
                var dx = y[2 * i] - y[2 * j];
                var dy = y[2 * i + 1] - y[2 * j + 1];
                var w = exaggeration * p.Values[e] / (1.0 + dx * dx + dy * dy);
                ax += w * dx;
                ay += w * dy;
            }
            grad[2 * i] = 4 * (ax - grad[2 * i] / sumQ);
            grad[2 * i + 1] = 4 * (ay - grad[2 * i + 1] / sumQ);
        }
    }

    private static double SquaredDistance(double[] a, double[] b)
    {
        var s = 0.0;
        for (var c = 0; c < a.Length; c++)
        {
            var diff = a[c] - b[c];
            s += diff * diff;
        }
        return s;
    }

    // ---- initialisation ---------------------------------------------------------------------------------------

    private static double[] RandomInit(int n, int seed)
    {
        var random = new Random(seed);
        var y = new double[2 * n];
        for (var k = 0; k < y.Length; k++)
        {
            // Box-Muller: System.Random has no Gaussian of its own.
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            y[k] = 1e-4 * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        return y;
    }

    /// <summary>Projection on the first two principal components, scaled so the first has standard deviation 1e-4.</summary>
    private static double[] PcaInit(IReadOnlyList<double[]> x)
    {
        var n = x.Count;
        var components = PrincipalComponents.Top(x, 2);
        var mean = PrincipalComponents.Mean(x);
        var y = new double[2 * n];
        for (var i = 0; i < n; i++)
        {
            for (var c = 0; c < 2; c++)
            {
                var s = 0.0;
                for (var f = 0; f < mean.Length; f++)
                {
                    s += (x[i][f] - mean[f]) * components[c][f];
                }
                y[2 * i + c] = s;
            }
        }
        var m = 0.0;
        for (var i = 0; i < n; i++)
        {
            m += y[2 * i];
        }
        m /= n;
        var variance = 0.0;
        for (var i = 0; i < n; i++)
        {
            variance += (y[2 * i] - m) * (y[2 * i] - m);
        }
        var std = Math.Sqrt(variance / n);
        var scale = std > 0 ? 1e-4 / std : 1.0;
        for (var k = 0; k < y.Length; k++)
        {
            y[k] *= scale;
        }
        return y;
    }
}
