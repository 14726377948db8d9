using FoldCluster.Core;

namespace FoldCluster.Reports;

/// <summary>
/// How stored names (lower-case keys in the jobs table) read in the tables, and in which order they appear.
/// Datasets, methods and extractors the paper does not know keep their stored name and sort after the paper's.
/// </summary>
public static class ReportNames
{
    /// <summary>Table II / III column groups, in the paper's order: A+V, A+T, V+T, A+V+T (NP), A+V+T.</summary>
    public static readonly IReadOnlyList<(string Modalities, bool Pretrained, string Header)> ModalityColumns =
    [
        ("AV", true, "A+V"),
        ("AT", true, "A+T"),
        ("VT", true, "V+T"),
        ("AVT", false, "A+V+T (NP)"),
        ("AVT", true, "A+V+T"),
    ];

    private static readonly string[] MethodOrder = ["concat", "tfn", "mult", "cmha"];

    /// <summary>Paper spelling of a fusion method: Concat, TFN, MulT, CMHA.</summary>
    public static string Method(string method) => method.ToLowerInvariant() switch
    {
        "concat" => "Concat",
        "tfn" => "TFN",
        "mult" => "MulT",
        "cmha" => "CMHA",
        _ => method,
    };

    public static int MethodRank(string method)
    {
        var index = Array.IndexOf(MethodOrder, method.ToLowerInvariant());
        return index < 0 ? MethodOrder.Length : index;
    }

    /// <summary>Key that ignores case and punctuation, so `msp-improv`, `msp_improv` and `MSP-IMPROV` are one dataset.</summary>
    public static string DatasetKey(string dataset) =>
        new string(dataset.Where(char.IsLetterOrDigit).Select(char.ToUpperInvariant).ToArray());

    /// <summary>Paper spelling of a dataset: IEMOCAP, MSP-IMPROV; others as stored.</summary>
    public static string Dataset(string dataset) => DatasetKey(dataset) switch
    {
        "IEMOCAP" => "IEMOCAP",
        "MSPIMPROV" => "MSP-IMPROV",
        _ => dataset,
    };

    public static int DatasetRank(string dataset) => DatasetKey(dataset) switch
    {
        "IEMOCAP" => 0,
        "MSPIMPROV" => 1,
        _ => 2,
    };

    /// <summary>The paper's two video extractors: `resnet` (ResNet, ImageNet weights) and `vggface` (VGG-Face).</summary>
    public static string? ExtractorFamily(string extractor)
    {
        var name = extractor.ToLowerInvariant();
        if (name.StartsWith("resnet", StringComparison.Ordinal))
        {
            return "resnet";
        }
        return name.StartsWith("vgg", StringComparison.Ordinal) ? "vggface" : null;
    }

    /// <summary>`-random` extractors ran with randomly initialised weights (no weight file was supplied).</summary>
    public static bool HasRandomWeights(string extractor) =>
        extractor.EndsWith("-random", StringComparison.OrdinalIgnoreCase);

    /// <summary>Table III row label: ResNet-50, VGG-Face, with "(random weights)" where they were random.</summary>
    public static string Extractor(string extractor)
    {
        var name = extractor.ToLowerInvariant();
        var random = HasRandomWeights(name);
        var stem = random ? name[..^"-random".Length] : name;
        var label = stem switch
        {
            _ when stem.StartsWith("resnet", StringComparison.Ordinal) && stem.Length > 6 => "ResNet-" + stem[6..],
            "resnet" => "ResNet",
            "vggface" or "vgg-face" or "vgg_face" => "VGG-Face",
            _ => stem,
        };
        return random ? label + " (random weights)" : label;
    }

    /// <summary>
    /// Order of extractors: the paper's ResNet first (real weights before random), then VGG-Face, then the rest.
    /// Table II uses the first extractor of this order that has results (the paper's Table II is ResNet).
    /// </summary>
    public static int ExtractorRank(string extractor)
    {
        var family = ExtractorFamily(extractor) switch
        {
            "resnet" => 0,
            "vggface" => 2,
            _ => 4,
        };
        return family + (HasRandomWeights(extractor) ? 1 : 0);
    }

    public static string Split(string split) => split switch
    {
        "utterance" => "utterance split (stratified by label, paper Section IV-D)",
        "speaker" => "speaker split (speaker-independent folds)",
        _ => $"{split} split",
    };

    /// <summary>Canonical modality text (AV, AT, VT, AVT, ...) from user input such as `A+V+T`.</summary>
    public static string ParseModalities(string text) => ModalitySet.Parse(text).ToString();
}
