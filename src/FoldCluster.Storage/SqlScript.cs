namespace FoldCluster.Storage;

public sealed record SqlStatement(int Offset, string Text);

/// <summary>
/// Splits a SQL script into statements at top-level semicolons, skipping those inside quotes, quoted identifiers,
/// dollar-quoted bodies and comments. Offsets point into the original text.
/// </summary>
public static class SqlScript
{
    public static IReadOnlyList<SqlStatement> Split(string sql)
    {
        var statements = new List<SqlStatement>();
        var start = 0;
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c == '-' && Next(sql, i) == '-')
            {
                i = SkipTo(sql, i, "\n");
            }
            else if (c == '/' && Next(sql, i) == '*')
            {
                i = SkipTo(sql, i + 2, "*/");
            }
            else if (c == '\'' || c == '"')
            {
                i = SkipQuoted(sql, i, c);
            }
            else if (c == '$' && DollarTag(sql, i) is { } tag)
            {
                i = SkipTo(sql, i + tag.Length, tag);
            }
            else if (c == ';')
            {
                Add(statements, sql, start, i);
                start = i + 1;
                i++;
            }
            else
            {
                i++;
            }
        }
        Add(statements, sql, start, sql.Length);
        return statements;
    }

    public static (int Line, int Column) LineAndColumn(string text, int offset)
    {
        offset = Math.Clamp(offset, 0, text.Length);
        var line = 1;
        var column = 1;
        for (var i = 0; i < offset; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }
        return (line, column);
    }

    private static void Add(List<SqlStatement> statements, string sql, int start, int end)
    {
        var text = sql[start..end];
        if (IsBlank(text))
        {
            return;
        }
        // Keep the offset of the first significant character so positions line up.
        var lead = 0;
        while (lead < text.Length && char.IsWhiteSpace(text[lead]))
        {
            lead++;
        }
        statements.Add(new SqlStatement(start + lead, text[lead..]));
    }

    private static bool IsBlank(string text)
    {
        foreach (var s in Split0(text))
        {
            if (!string.IsNullOrWhiteSpace(s))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The text with comments removed (only to decide whether a piece holds a statement at all).</summary>
    private static IEnumerable<string> Split0(string text)
    {
        var i = 0;
        var start = 0;
        while (i < text.Length)
        {
            if (text[i] == '-' && Next(text, i) == '-')
            {
                yield return text[start..i];
                i = SkipTo(text, i, "\n");
                start = i;
            }
            else if (text[i] == '/' && Next(text, i) == '*')
            {
                yield return text[start..i];
                i = SkipTo(text, i + 2, "*/");
                start = i;
            }
            else
            {
                i++;
            }
        }
        yield return text[start..];
    }

    private static char Next(string s, int i) => i + 1 < s.Length ? s[i + 1] : '\0';

    private static int SkipTo(string s, int from, string terminator)
    {
        var found = s.IndexOf(terminator, from, StringComparison.Ordinal);
        return found < 0 ? s.Length : found + terminator.Length;
    }

    private static int SkipQuoted(string s, int i, char quote)
    {
        i++;
        while (i < s.Length)
        {
            if (s[i] == quote)
            {
                if (Next(s, i) == quote)
                {
                    i += 2; // doubled quote inside the literal
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        return s.Length;
    }

    private static string? DollarTag(string s, int i)
    {
        var j = i + 1;
        while (j < s.Length && (char.IsLetterOrDigit(s[j]) || s[j] == '_'))
        {
            j++;
        }
        if (j < s.Length && s[j] == '$' && (j == i + 1 || !char.IsDigit(s[i + 1])))
        {
            return s[i..(j + 1)];
        }
        return null;
    }
}
