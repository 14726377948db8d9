using System.Globalization;

namespace FoldCluster.Core;

/// <summary>
/// The identity of one experiment run (DESIGN.md section 8): unique within a sweep.
/// Method names: concat, tfn, mult, cmha (and "none" for a single-modality baseline).
/// Split: utterance (the paper's) or speaker. Profile: paper or tiny (or a custom profile name).
/// </summary>
public sealed record JobKey(
    string Dataset,
    string Split,
    int Fold,
    string Method,
    string Modalities,
    bool Pretrained,
    string Extractor,
    int Seed,
    string Profile)
{
    /// <summary>Canonical, stable text form; stored in the database as the unique key within a sweep.</summary>
    public string Canonical => string.Join('|',
        Dataset, Split, Fold.ToString(CultureInfo.InvariantCulture), Method, Modalities,
        Pretrained ? "pre" : "np", Extractor, Seed.ToString(CultureInfo.InvariantCulture), Profile);

    public override string ToString() => Canonical;
}
