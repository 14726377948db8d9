using FoldCluster.Core;

namespace FoldCluster.Features.Text;

/// <summary>The text input of an utterance: its transcript's Word2Vec rows, pooled (DESIGN.md 4.2, 4.4).</summary>
internal static class TextFeatures
{
    /// <summary>Word2Vec rows of the tokens (OOV: zeros), pooled over words with L = 4 -> [32][300]. No words: one zero row.</summary>
    public static (float[] Features, int Oov) Pool(IReadOnlyList<string> tokens, WordVectors vectors)
    {
        int dim = vectors.Dimension;
        int n = Math.Max(1, tokens.Count);
        var rows = new float[n * dim];
        int oov = 0;
        for (int i = 0; i < tokens.Count; i++)
        {
            if (vectors.Vectors.TryGetValue(tokens[i], out var v))
            {
                v.CopyTo(rows, i * dim);
            }
            else
            {
                oov++;
            }
        }
        return (Ltpp.PoolSequence(rows, n, dim, Ltpp.SequenceLevels), oov);
    }

    /// <summary>
    /// The Word2Vec file of a dataset: <see cref="DatasetSource.Word2VecPath"/>, else &lt;root&gt;/word2vec.bin when present.
    /// </summary>
    public static string ResolveWord2Vec(DatasetSource source)
    {
        if (!string.IsNullOrWhiteSpace(source.Word2VecPath))
        {
            if (!File.Exists(source.Word2VecPath))
            {
                throw new BadInputException($"{source.Word2VecPath}: Word2Vec file not found");
            }
            return Path.GetFullPath(source.Word2VecPath);
        }
        var beside = Path.Combine(source.Root, FeatureStore.DefaultWord2VecFile);
        if (File.Exists(beside))
        {
            return Path.GetFullPath(beside);
        }
        throw new BadInputException(
            $"no Word2Vec file for dataset '{source.Name}': pass --word2vec FILE (GoogleNews-vectors-negative300.bin or a text-format file), or place it at {beside}");
    }
}
