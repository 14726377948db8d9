using System.Text;
using System.Text.RegularExpressions;

namespace FoldCluster.Features.Text;

/// <summary>
/// DESIGN.md 4.2 tokens: IEMOCAP bracket markers ([LAUGHTER], [BREATHING], [GARBAGE] ...) are dropped, text is
/// lower-cased, apostrophes are removed inside words ("don't" -> "dont") and every other punctuation
/// character separates words ("well-known" -> "well", "known").
/// </summary>
public static partial class Tokenizer
{
    public static IReadOnlyList<string> Tokenize(string text)
    {
        var withoutMarkers = BracketMarker().Replace(text, " ");
        var sb = new StringBuilder(withoutMarkers.Length);
        foreach (var ch in withoutMarkers.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(ch))
            {
                sb.Append(ch);
            }
            else if (ch is '\'' or '\u2019')
            {
                // removed: keeps contractions as one word
            }
            else
            {
                sb.Append(' ');
            }
        }
        return sb.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex BracketMarker();
}
