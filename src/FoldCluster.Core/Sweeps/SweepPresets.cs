using System.Text;

namespace FoldCluster.Core.Sweeps;

/// <summary>The built-in sweeps (embedded YAML, the same schema a user writes): paper-table2, paper-table3, smoke.</summary>
public static class SweepPresets
{
    public static IReadOnlyList<string> Names { get; } = [.. Resources().Keys.Order(StringComparer.Ordinal)];

    public static string Yaml(string name)
    {
        if (!Resources().TryGetValue(name, out var resource))
        {
            throw new BadInputException($"unknown preset '{name}'; allowed values: {string.Join(", ", Names)}");
        }
        using var stream = typeof(SweepPresets).Assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public static SweepSpec Load(string name) => SweepSpecParser.Parse(Yaml(name), $"preset {name}");

    private static Dictionary<string, string> Resources() =>
        typeof(SweepPresets).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("presets/", StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
            .ToDictionary(n => n["presets/".Length..^".yaml".Length], StringComparer.Ordinal);
}
