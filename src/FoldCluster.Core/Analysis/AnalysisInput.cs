namespace FoldCluster.Core.Analysis;

/// <summary>Checks shared by the analyses: rectangular, finite, paired matrices.</summary>
public static class AnalysisInput
{
    public static void CheckMatrix(IReadOnlyList<double[]> rows, string name)
    {
        if (rows.Count == 0)
        {
            throw new BadInputException($"{name} has no rows: expected one sample per row");
        }
        var width = rows[0].Length;
        if (width == 0)
        {
            throw new BadInputException($"{name} has rows without values: expected at least one column");
        }
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != width)
            {
                throw new BadInputException($"{name} row {i + 1} has {rows[i].Length} values: expected {width} like the first row");
            }
            foreach (var v in rows[i])
            {
                if (!double.IsFinite(v))
                {
                    throw new BadInputException($"{name} row {i + 1} holds {v}: expected finite numbers");
                }
            }
        }
    }

    public static void CheckPaired(IReadOnlyList<double[]> x, IReadOnlyList<double[]> y, string xName, string yName)
    {
        CheckMatrix(x, xName);
        CheckMatrix(y, yName);
        if (x.Count != y.Count)
        {
            throw new BadInputException($"{xName} has {x.Count} rows and {yName} {y.Count}: expected the same samples in both, one per row");
        }
    }
}
