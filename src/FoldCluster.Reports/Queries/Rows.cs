namespace FoldCluster.Reports.Queries;

/// <summary>Filters of `results query`; null means "any".</summary>
public sealed record ResultFilter
{
    public string? Dataset { get; init; }
    public string? Split { get; init; }
    public string? Method { get; init; }
    public string? Modalities { get; init; }
    public bool? Pretrained { get; init; }
    public string? Extractor { get; init; }
    public string? Profile { get; init; }
    public int? Fold { get; init; }
    public string? State { get; init; }

    public static readonly ResultFilter None = new();

    public bool IsEmpty => this == None;
}

/// <summary>One job with its result (metrics null while it has none). Metrics are fractions in [0, 1].</summary>
public sealed record JobResultRow
{
    public long JobId { get; init; }
    public string Dataset { get; init; } = "";
    public string Split { get; init; } = "";
    public int Fold { get; init; }
    public string Method { get; init; } = "";
    public string Modalities { get; init; } = "";
    public bool Pretrained { get; init; }
    public string Extractor { get; init; } = "";
    public int Seed { get; init; }
    public string Profile { get; init; } = "";
    public string State { get; init; } = "";
    public int Attempts { get; init; }

    /// <summary>Attempts that failed in the work (counted against max_attempts).</summary>
    public int Failures { get; init; }

    /// <summary>Attempts lost to events around the job (lease lost, node downed, outage; counted against max_losses).</summary>
    public int Losses { get; init; }
    public double? Ua { get; init; }
    public double? Wa { get; init; }
    public double? MacroF1 { get; init; }
    public double? WeightedF1 { get; init; }
    public int? BestEpoch { get; init; }
    public double? Seconds { get; init; }
    public string? Error { get; init; }

    // Provenance of the result (null without a result, or for results stored before provenance was recorded).
    public string? CodeVersion { get; init; }
    public string? TorchSharpVersion { get; init; }
    public string? LibtorchVersion { get; init; }
    public string? Device { get; init; }
    public string? DeviceName { get; init; }
    public string? CpuModel { get; init; }
    public string? CpuIsa { get; init; }
    public int? Threads { get; init; }
    public string? WorkerHost { get; init; }
    public string? FeatureCacheKey { get; init; }
    public string? UtteranceModalities { get; init; }
    public int? Utterances { get; init; }

    /// <summary>JSON object: utterances of the dataset not trained on, by reason.</summary>
    public string? LeftOut { get; init; }
}

/// <summary>
/// One table cell: a (dataset, split, method, modalities, pre-training, extractor, profile) combination, aggregated
/// in SQL over its test folds. Several seeds of one fold are averaged first, so each fold counts once.
/// Std is the sample standard deviation over folds (n - 1), null with fewer than two folds. Fractions in [0, 1].
/// </summary>
public sealed record CellAggregate
{
    public string Dataset { get; init; } = "";
    public string Split { get; init; } = "";
    public string Method { get; init; } = "";
    public string Modalities { get; init; } = "";
    public bool Pretrained { get; init; }
    public string Extractor { get; init; } = "";
    public string Profile { get; init; } = "";
    public int Folds { get; init; }
    public int Runs { get; init; }
    public double UaMean { get; init; }
    public double? UaStd { get; init; }
    public double WaMean { get; init; }
    public double? WaStd { get; init; }
    public double MacroF1Mean { get; init; }
    public double? MacroF1Std { get; init; }
    public double WeightedF1Mean { get; init; }
    public double? WeightedF1Std { get; init; }

    /// <summary>Different runtimes (device, device name, CPU instruction sets) among the cell's results with provenance.</summary>
    public int Machines { get; init; }

    /// <summary>Different builds (code version, TorchSharp, libtorch) among the cell's results with provenance.</summary>
    public int Versions { get; init; }
}

/// <summary>Identifies one table cell (used to pick confusion matrices and comparisons).</summary>
public sealed record CellKey(
    string Dataset,
    string Split,
    string Method,
    string Modalities,
    bool Pretrained,
    string Extractor,
    string Profile);

/// <summary>One fold's metric of one cell (averaged over seeds).</summary>
public sealed record FoldValue
{
    public int Fold { get; init; }
    public double Value { get; init; }
}

/// <summary>One epoch of one stage, for training curves.</summary>
public sealed record EpochRow
{
    public int Stage { get; init; }
    public int Epoch { get; init; }
    public double TrainLoss { get; init; }
    public double? ValLoss { get; init; }
    public double? ValUa { get; init; }
}

/// <summary>A job's identity as a figure caption needs it.</summary>
public sealed record JobSummary
{
    public long JobId { get; init; }
    public long SweepId { get; init; }
    public string JobKey { get; init; } = "";
    public string Dataset { get; init; } = "";
    public int Fold { get; init; }
    public string Method { get; init; } = "";
    public string Modalities { get; init; } = "";
    public bool Pretrained { get; init; }
    public string Extractor { get; init; } = "";
    public string State { get; init; } = "";
    public int Attempt { get; init; }
}
