using static TorchSharp.torch;

namespace FoldCluster.Model.Analysis;

/// <summary>Row matrices to and from tensors, and per-column standardisation, for the TorchSharp analyses.</summary>
internal static class AnalysisTensors
{
    /// <summary>Each column to mean 0 and standard deviation 1 (a constant column becomes 0).</summary>
    public static double[][] Standardise(IReadOnlyList<double[]> rows, IReadOnlyList<double[]>? statisticsFrom = null)
    {
        var source = statisticsFrom ?? rows;
        var d = source[0].Length;
        var mean = new double[d];
        var std = new double[d];
        foreach (var r in source)
        {
            for (var f = 0; f < d; f++)
            {
                mean[f] += r[f];
            }
        }
        for (var f = 0; f < d; f++)
        {
            mean[f] /= source.Count;
        }
        foreach (var r in source)
        {
            for (var f = 0; f < d; f++)
            {
                std[f] += (r[f] - mean[f]) * (r[f] - mean[f]);
            }
        }
        for (var f = 0; f < d; f++)
        {
            std[f] = Math.Sqrt(std[f] / Math.Max(1, source.Count - 1));
        }
        return rows.Select(r => r.Select((v, f) => std[f] > 1e-12 ? (v - mean[f]) / std[f] : 0.0).ToArray()).ToArray();
    }

    public static Tensor ToTensor(IReadOnlyList<double[]> rows, IReadOnlyList<int>? select = null)
    {
        var indices = select ?? Enumerable.Range(0, rows.Count).ToArray();
        var d = rows[0].Length;
        var data = new float[indices.Count * d];
        for (var i = 0; i < indices.Count; i++)
        {
            var r = rows[indices[i]];
            for (var f = 0; f < d; f++)
            {
                data[i * d + f] = (float)r[f];
            }
        }
        return tensor(data, [indices.Count, d]);
    }

    public static double[][] ToRows(Tensor t)
    {
        var n = (int)t.shape[0];
        var d = (int)t.shape[1];
        var data = t.to_type(ScalarType.Float32).cpu().data<float>().ToArray();
        var rows = new double[n][];
        for (var i = 0; i < n; i++)
        {
            rows[i] = new double[d];
            for (var f = 0; f < d; f++)
            {
                rows[i][f] = data[i * d + f];
            }
        }
        return rows;
    }
}
