using FoldCluster.Core;

namespace FoldCluster.Cli.Commands.Features;

internal static class FeatureCliSupport
{
    public static void Require(string? value, string option)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new BadInputException($"missing {option}");
        }
    }
}
