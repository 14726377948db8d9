using FoldCluster.Tests.Shared;

namespace FoldCluster.Cli.Tests;

/// <summary>`node start --prefetch N`: assignments each slot holds besides its running job.</summary>
public sealed class NodePrefetchOptionTests
{
    [Theory]
    [InlineData("-1")]
    [InlineData("9")]
    public async Task A_prefetch_depth_out_of_range_is_refused_with_the_allowed_range_and_exit_code_2(string depth)
    {
        var result = await CliProcess.RunAsync(["node", "start", "--prefetch", depth, "--print-config"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"--prefetch {depth} is out of range (expected 0-8", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("8")]
    public async Task A_prefetch_depth_in_range_is_accepted(string depth)
    {
        var result = await CliProcess.RunAsync(["node", "start", "--prefetch", depth, "--print-config"]);

        Assert.Equal(0, result.ExitCode);
    }
}
