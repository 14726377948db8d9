using System.Text.Json;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Cli.Tests;

public class ModelDescribeTests
{
    [Theory]
    [InlineData("mult", "yaohungt/Multimodal-Transformer")]
    [InlineData("tfn", "thuiar/MMSA")]
    [InlineData("cmha", "")]
    public async Task Describe_prints_the_paper_profile_card_as_json(string method, string repository)
    {
        var result = await CliProcess.RunAsync(["model", "describe", "--method", method, "--modalities", "AVT", "--profile", "paper", "--json"],
            timeout: TimeSpan.FromMinutes(4));
        Assert.True(result.ExitCode == 0, result.StandardError);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var root = json.RootElement;
        Assert.Equal(method, root.GetProperty("method").GetString());

        var optimizer = root.GetProperty("optimizer");
        Assert.Equal("adam", optimizer.GetProperty("name").GetString());
        Assert.Equal(1e-3, optimizer.GetProperty("lr").GetDouble());
        Assert.Equal([0.9, 0.999], optimizer.GetProperty("betas").EnumerateArray().Select(b => b.GetDouble()));
        Assert.Equal(1e-8, optimizer.GetProperty("eps").GetDouble());
        Assert.Equal(1e-4, optimizer.GetProperty("weight_decay").GetDouble());

        var parts = root.GetProperty("parts").EnumerateArray().ToList();
        Assert.Equal(["audioEncoder", "videoEncoder", "textEncoder", "fusion", "audioDecoder", "videoDecoder", "textDecoder", "classifier"],
            parts.Select(p => p.GetProperty("name").GetString()));
        Assert.All(parts, p => Assert.True(p.GetProperty("parameters").GetInt64() > 0));
        Assert.All(parts, p => Assert.True(p.GetProperty("flops").GetInt64() > 0));
        Assert.Equal(root.GetProperty("parameters").GetInt64(), parts.Sum(p => p.GetProperty("parameters").GetInt64()));
        // Stage 2's path: encoders, fusion and classifier.
        var stage2 = parts.Where(p => p.GetProperty("name").GetString() is not ("audioDecoder" or "videoDecoder" or "textDecoder"))
            .Sum(p => p.GetProperty("flops").GetInt64());
        Assert.Equal(root.GetProperty("forward_flops").GetInt64(), stage2);

        var fusion = parts.Single(p => p.GetProperty("name").GetString() == "fusion");
        Assert.Equal(repository, fusion.GetProperty("reference").GetProperty("repository").GetString());
        Assert.NotEmpty(fusion.GetProperty("differences").EnumerateArray());
        Assert.NotEmpty(root.GetProperty("initialization").EnumerateArray());
        Assert.All(parts.Where(p => p.GetProperty("name").GetString() != "fusion"), p => Assert.False(p.TryGetProperty("reference", out _)));
    }

    [Fact]
    public async Task Describe_refuses_a_method_that_cannot_take_the_modalities_with_exit_code_2()
    {
        var result = await CliProcess.RunAsync(["model", "describe", "--method", "tfn", "--modalities", "A"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("single modality", result.StandardError);
    }
}
