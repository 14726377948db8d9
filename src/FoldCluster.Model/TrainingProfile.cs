using FoldCluster.Core;

namespace FoldCluster.Model;

/// <summary>
/// Sizes and optimisation settings of one training run. <c>paper</c> holds the paper's numbers
/// (Section IV-C: latent 32 x 300, batch 64, Adam lr 1e-3, L2 1e-4, dropout 0.5, up to 200 epochs per stage);
/// <c>tiny</c> keeps the input shapes but shrinks widths and epochs so a job takes seconds on one core
/// (tests and the local demo). The profile name is part of the job key.
/// </summary>
public sealed record TrainingProfile
{
    public static readonly IReadOnlyList<string> Names = ["paper", "tiny"];

    /// <summary>Keys accepted by <see cref="WithOverrides"/> (and `--set key=value`).</summary>
    public static readonly IReadOnlyList<string> OverrideKeys =
    [
        "epochs_stage1", "epochs_stage2", "batch_size", "lr", "weight_decay", "dropout", "latent", "heads",
        "patience", "audio_channels", "classifier_hidden", "tfn_audio_hidden", "tfn_video_hidden", "tfn_text_hidden",
        "tfn_text_out", "tfn_post", "tfn_dropout", "tfn_post_dropout", "mult_layers", "mult_heads", "mult_dropout",
        "mult_embed_dropout", "mult_attn_dropout_audio", "mult_attn_dropout_video", "mult_out_dropout",
    ];

    public required string Name { get; init; }

    /// <summary>Channel width C of every latent code [32 x C] (paper: 300).</summary>
    public required int Latent { get; init; }

    /// <summary>Heads of every encoder and CMHA attention layer (DESIGN.md section 5: 6).</summary>
    public required int Heads { get; init; }

    public required int BatchSize { get; init; }
    public required double LearningRate { get; init; }
    public required double WeightDecay { get; init; }
    public required double Dropout { get; init; }
    public required int EpochsStage1 { get; init; }
    public required int EpochsStage2 { get; init; }

    /// <summary>Stop a stage after this many epochs without a better validation score; 0 runs every epoch (the paper).</summary>
    public required int Patience { get; init; }

    /// <summary>Output channels of the audio encoder's five residual blocks (each a multiple of <see cref="Heads"/>).</summary>
    public required IReadOnlyList<int> AudioChannels { get; init; }

    public required int ClassifierHidden { get; init; }

    /// <summary>TFN: hidden width of the audio subnetwork (MMSA's mosi config: 32).</summary>
    public required int TfnAudioHidden { get; init; }

    /// <summary>TFN: hidden width of the video subnetwork (MMSA's mosi config: 128).</summary>
    public required int TfnVideoHidden { get; init; }

    /// <summary>TFN: LSTM width of the text subnetwork (MMSA's mosi config: 128).</summary>
    public required int TfnTextHidden { get; init; }

    /// <summary>TFN: output width of the text subnetwork (MMSA's <c>text_out</c>, mosi: 32).</summary>
    public required int TfnTextOut { get; init; }

    /// <summary>TFN: width of the post-fusion layers (MMSA's <c>post_fusion_dim</c>, mosi: 64).</summary>
    public required int TfnPost { get; init; }

    /// <summary>TFN: dropout of the audio and video subnetworks (mosi: 0.3).</summary>
    public required double TfnDropout { get; init; }

    /// <summary>TFN: dropout on the fusion tensor (mosi: 0.5).</summary>
    public required double TfnPostDropout { get; init; }

    /// <summary>MulT: layers per cross-modal transformer (reference <c>--nlevels</c> 5); memory transformers take max(layers, 3).</summary>
    public required int MultLayers { get; init; }

    /// <summary>MulT: heads (reference default 5).</summary>
    public required int MultHeads { get; init; }

    /// <summary>MulT: attention dropout (text sources and memory), ReLU and residual dropout (reference 0.1 each).</summary>
    public required double MultDropout { get; init; }

    /// <summary>MulT: embedding dropout (reference 0.25).</summary>
    public required double MultEmbedDropout { get; init; }

    /// <summary>MulT: attention dropout of cross-modal transformers whose source is audio (reference <c>attn_dropout_a</c> 0).</summary>
    public required double MultAttnDropoutAudio { get; init; }

    /// <summary>MulT: attention dropout of cross-modal transformers whose source is video (reference <c>attn_dropout_v</c> 0).</summary>
    public required double MultAttnDropoutVideo { get; init; }

    /// <summary>MulT: dropout inside the output residual block (reference <c>out_dropout</c> 0).</summary>
    public required double MultOutDropout { get; init; }

    public static TrainingProfile Paper { get; } = new()
    {
        Name = "paper",
        Latent = 300,
        Heads = 6,
        BatchSize = 64,
        LearningRate = 1e-3,
        WeightDecay = 1e-4,
        Dropout = 0.5,
        EpochsStage1 = 200,
        EpochsStage2 = 200,
        Patience = 0,
        AudioChannels = [24, 48, 96, 96, 96],
        ClassifierHidden = 300,
        TfnAudioHidden = 32,
        TfnVideoHidden = 128,
        TfnTextHidden = 128,
        TfnTextOut = 32,
        TfnPost = 64,
        TfnDropout = 0.3,
        TfnPostDropout = 0.5,
        MultLayers = 5,
        MultHeads = 5,
        MultDropout = 0.1,
        MultEmbedDropout = 0.25,
        MultAttnDropoutAudio = 0,
        MultAttnDropoutVideo = 0,
        MultOutDropout = 0,
    };

    public static TrainingProfile Tiny { get; } = new()
    {
        Name = "tiny",
        Latent = 16,
        Heads = 2,
        BatchSize = 32,
        LearningRate = 2e-3,
        WeightDecay = 1e-4,
        Dropout = 0.3,
        EpochsStage1 = 2,
        // Measured on the demo's generated corpus (A+V, A+V+T; folds 0-2; 40 epochs, no early stop): CMHA's best
        // validation UA comes at epochs 13-35 and Concat's at 9-19 with lr 2e-3, while lr 5e-3 makes CMHA collapse to
        // one class; 30 epochs with patience 10 let both converge within the demo's time budget.
        EpochsStage2 = 30,
        Patience = 10,
        AudioChannels = [2, 2, 4, 4, 4],
        ClassifierHidden = 16,
        // Three stacked ReLU layers of width 4 can start dead for a whole batch; 8 and more keep every path alive.
        TfnAudioHidden = 8,
        TfnVideoHidden = 16,
        TfnTextHidden = 16,
        TfnTextOut = 8,
        TfnPost = 32,
        TfnDropout = 0.3,
        TfnPostDropout = 0.5,
        MultLayers = 1,
        MultHeads = 2,
        MultDropout = 0.1,
        MultEmbedDropout = 0.25,
        MultAttnDropoutAudio = 0,
        MultAttnDropoutVideo = 0,
        MultOutDropout = 0,
    };

    public static TrainingProfile Get(string name) => (name ?? "").Trim().ToLowerInvariant() switch
    {
        "paper" => Paper,
        "tiny" => Tiny,
        _ => throw new BadInputException($"training profile '{name}' is not known: expected one of {string.Join(", ", Names)}"),
    };

    /// <summary>A copy with the given settings replaced; unknown keys and out-of-range values are bad input.</summary>
    public TrainingProfile WithOverrides(IReadOnlyDictionary<string, string>? overrides)
    {
        if (overrides is null || overrides.Count == 0)
        {
            return this;
        }
        var p = this;
        foreach (var (rawKey, value) in overrides.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var key = rawKey.Trim().ToLowerInvariant();
            p = key switch
            {
                "epochs_stage1" => p with { EpochsStage1 = SettingValues.Int(Setting(key), value, 0) },
                "epochs_stage2" => p with { EpochsStage2 = SettingValues.Int(Setting(key), value, 1) },
                "batch_size" => p with { BatchSize = SettingValues.Int(Setting(key), value, 2) },
                "lr" => p with { LearningRate = SettingValues.Real(Setting(key), value, 1e-9, 10) },
                "weight_decay" => p with { WeightDecay = SettingValues.Real(Setting(key), value, 0, 1) },
                "dropout" => p with { Dropout = SettingValues.Real(Setting(key), value, 0, 0.95) },
                "latent" => p with { Latent = SettingValues.Int(Setting(key), value, 2) },
                "heads" => p with { Heads = SettingValues.Int(Setting(key), value, 1) },
                "patience" => p with { Patience = SettingValues.Int(Setting(key), value, 0) },
                "audio_channels" => p with { AudioChannels = SettingValues.IntList(Setting(key), value, 5, min: 1) },
                "classifier_hidden" => p with { ClassifierHidden = SettingValues.Int(Setting(key), value, 1) },
                "tfn_audio_hidden" => p with { TfnAudioHidden = SettingValues.Int(Setting(key), value, 1) },
                "tfn_video_hidden" => p with { TfnVideoHidden = SettingValues.Int(Setting(key), value, 1) },
                "tfn_text_hidden" => p with { TfnTextHidden = SettingValues.Int(Setting(key), value, 1) },
                "tfn_text_out" => p with { TfnTextOut = SettingValues.Int(Setting(key), value, 1) },
                "tfn_post" => p with { TfnPost = SettingValues.Int(Setting(key), value, 1) },
                "tfn_dropout" => p with { TfnDropout = SettingValues.Real(Setting(key), value, 0, 0.95) },
                "tfn_post_dropout" => p with { TfnPostDropout = SettingValues.Real(Setting(key), value, 0, 0.95) },
                "mult_layers" => p with { MultLayers = SettingValues.Int(Setting(key), value, 1) },
                "mult_heads" => p with { MultHeads = SettingValues.Int(Setting(key), value, 1) },
                "mult_dropout" => p with { MultDropout = SettingValues.Real(Setting(key), value, 0, 0.95) },
                "mult_embed_dropout" => p with { MultEmbedDropout = SettingValues.Real(Setting(key), value, 0, 0.95) },
                "mult_attn_dropout_audio" => p with { MultAttnDropoutAudio = SettingValues.Real(Setting(key), value, 0, 0.95) },
                "mult_attn_dropout_video" => p with { MultAttnDropoutVideo = SettingValues.Real(Setting(key), value, 0, 0.95) },
                "mult_out_dropout" => p with { MultOutDropout = SettingValues.Real(Setting(key), value, 0, 0.95) },
                _ => throw new BadInputException(
                    $"training setting '{rawKey}' is not known: expected one of {string.Join(", ", OverrideKeys)}"),
            };
        }
        p.Validate();
        return p;
    }

    /// <summary>Checks that widths divide into heads; throws <see cref="BadInputException"/> naming the setting.</summary>
    public void Validate()
    {
        if (Latent % Heads != 0)
        {
            throw new BadInputException($"latent width {Latent} is not divisible by heads {Heads}: attention splits the channels evenly");
        }
        if (Latent % MultHeads != 0)
        {
            throw new BadInputException($"latent width {Latent} is not divisible by mult_heads {MultHeads}");
        }
        foreach (var c in AudioChannels)
        {
            if (c % Heads != 0)
            {
                throw new BadInputException(
                    $"audio_channels {string.Join(",", AudioChannels)}: each must be divisible by heads {Heads} (self-attention over each block's channels)");
            }
        }
    }

    private static string Setting(string key) => $"training setting {key}";
}
