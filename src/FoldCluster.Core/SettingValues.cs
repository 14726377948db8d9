using System.Globalization;

namespace FoldCluster.Core;

/// <summary>
/// The one parser of setting values given as text: training overrides (`--set key=value`, a sweep's `overrides:`),
/// a dataset's extraction `options:` and the simulated trainer's overrides. Numbers are read in the invariant
/// culture; a value that does not parse or is out of range is bad input naming the setting, the value and what was
/// expected: "training setting lr=abc is not valid: expected a number in [1E-09, 10]".
/// </summary>
public static class SettingValues
{
    /// <summary>An integer from <paramref name="min"/> to <paramref name="max"/>; <paramref name="setting"/> names it in the message ("training setting batch_size").</summary>
    public static int Int(string setting, string value, int min = int.MinValue, int max = int.MaxValue)
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
        {
            throw Invalid(setting, value, (min, max) switch
            {
                (int.MinValue, int.MaxValue) => "an integer",
                (_, int.MaxValue) => $"an integer >= {min}",
                (int.MinValue, _) => $"an integer <= {max}",
                _ => $"an integer from {min} to {max}",
            });
        }
        return v;
    }

    /// <summary>A finite number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static double Real(string setting, string value, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || v < min || v > max)
        {
            throw Invalid(setting, value, double.IsInfinity(min) && double.IsInfinity(max) ? "a number" : $"a number in [{min}, {max}]");
        }
        return v;
    }

    /// <summary>true/yes or false/no (any case).</summary>
    public static bool Bool(string setting, string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" => true,
        "false" or "no" => false,
        _ => throw Invalid(setting, value, "true or false"),
    };

    /// <summary>Exactly <paramref name="count"/> comma-separated integers, each at least <paramref name="min"/>.</summary>
    public static int[] IntList(string setting, string value, int count, int min = int.MinValue)
    {
        var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != count)
        {
            throw Invalid(setting, value, $"{count} comma-separated integers");
        }
        return parts.Select(part => Int(setting, part, min)).ToArray();
    }

    private static BadInputException Invalid(string setting, string value, string expected) =>
        new($"{setting}={value} is not valid: expected {expected}");
}
