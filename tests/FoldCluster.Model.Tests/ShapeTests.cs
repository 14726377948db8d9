using FoldCluster.Core;
using FoldCluster.Model.Decoders;
using FoldCluster.Model.Encoders;
using FoldCluster.Model.Fusion;
using TorchSharp;
using static TorchSharp.torch;

namespace FoldCluster.Model.Tests;

public class ShapeTests
{
    private const int Batch = 3;
    private static readonly TrainingProfile Tiny = TrainingProfile.Tiny;

    public static TheoryData<string, string> MethodsAndSets()
    {
        var data = new TheoryData<string, string>();
        foreach (var set in new[] { "AV", "AT", "VT", "AVT" })
        {
            foreach (var method in FusionModule.Methods)
            {
                data.Add(method, set);
            }
        }
        foreach (var single in new[] { "A", "V", "T" })
        {
            data.Add("none", single);
        }
        return data;
    }

    [Theory]
    [InlineData(2048)]
    [InlineData(4096)]
    public void Every_encoder_outputs_a_32_by_latent_code(int videoWidth)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1, CPU);
        Assert.Equal(new long[] { Batch, 32, Tiny.Latent }, new AudioEncoder(Tiny, g).forward(randn(Batch, 3, 64, 128)).shape);
        Assert.Equal(new long[] { Batch, 32, Tiny.Latent }, new VideoEncoder(Tiny, videoWidth, g).forward(randn(Batch, 32, videoWidth)).shape);
        Assert.Equal(new long[] { Batch, 32, Tiny.Latent }, new TextEncoder(Tiny, g).forward(randn(Batch, 32, 300)).shape);
    }

    [Fact]
    public void Every_decoder_rebuilds_its_input_shape()
    {
        using var scope = NewDisposeScope();
        var fused = randn(Batch, 32, Tiny.Latent);
        Assert.Equal(new long[] { Batch, 3, 64, 128 }, new AudioDecoder(Tiny).forward(fused).shape);
        Assert.Equal(new long[] { Batch, 32, 2048 }, new SequenceDecoder(Tiny.Latent, 2048).forward(fused).shape);
        Assert.Equal(new long[] { Batch, 32, 300 }, new SequenceDecoder(Tiny.Latent, 300).forward(fused).shape);
    }

    [Theory]
    [MemberData(nameof(MethodsAndSets))]
    public void Fusion_decoders_and_classifier_have_the_paper_shapes_for_every_modality_set(string method, string modalities)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1, CPU);
        var set = ModalitySet.Parse(modalities);
        using var model = new EmotionModel(set, method, 2048, Tiny, g);
        var inputs = new ModelInputs(
            set.HasAudio ? randn(Batch, 3, 64, 128) : null,
            set.HasVideo ? randn(Batch, 32, 2048) : null,
            set.HasText ? randn(Batch, 32, 300) : null);
        var fused = model.Fuse(inputs);
        Assert.Equal(new long[] { Batch, 32, Tiny.Latent }, fused.shape);
        var rebuilt = model.Reconstruct(fused);
        Assert.Equal(set.HasAudio ? new long[] { Batch, 3, 64, 128 } : null, rebuilt.Audio?.shape);
        Assert.Equal(set.HasVideo ? new long[] { Batch, 32, 2048 } : null, rebuilt.Video?.shape);
        Assert.Equal(set.HasText ? new long[] { Batch, 32, 300 } : null, rebuilt.Text?.shape);
        Assert.Equal(new long[] { Batch, 4 }, model.forward(inputs).shape);
        Assert.Equal(set.Count > 1, model.FusionPart is not null);
    }

    [Fact]
    public void Paper_profile_cmha_has_300_by_300_projections_and_a_32_by_300_fused_code()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1, CPU);
        var paper = TrainingProfile.Paper;
        using var model = new EmotionModel(ModalitySet.Parse("AVT"), "cmha", 2048, paper, g);
        var projections = model.FusionPart!.named_parameters()
            .Where(p => p.name.Contains("query", StringComparison.Ordinal) && p.name.EndsWith("weight", StringComparison.Ordinal))
            .Select(p => p.parameter.shape)
            .ToList();
        Assert.Equal(12, projections.Count);   // 3 orders x 2 stages x 2 attention modules
        Assert.All(projections, s => Assert.Equal(new long[] { 300, 300 }, s));
        var mixes = model.FusionPart.named_parameters()
            .Where(p => p.name.Contains("mix", StringComparison.Ordinal) && p.name.EndsWith("weight", StringComparison.Ordinal))
            .Select(p => p.parameter.shape)
            .ToList();
        Assert.Contains(new long[] { 300, 600 }, mixes);   // eq. (5): 1 x 1 convolution 600 -> 300
        Assert.Contains(new long[] { 300, 900 }, mixes);   // the three orders: 900 -> 300
        model.eval();
        using var noGrad = no_grad();
        var fused = model.Fuse(new ModelInputs(randn(2, 3, 64, 128), randn(2, 32, 2048), randn(2, 32, 300)));
        Assert.Equal(new long[] { 2, 32, 300 }, fused.shape);
    }
}
