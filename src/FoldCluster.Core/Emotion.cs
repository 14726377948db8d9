namespace FoldCluster.Core;

/// <summary>The paper's four emotion classes, in the fixed order used by labels, confusion matrices and the database.</summary>
public enum Emotion
{
    Angry = 0,
    Happy = 1,
    Sad = 2,
    Neutral = 3,
}

public static class Emotions
{
    public const int Count = 4;

    public static readonly IReadOnlyList<Emotion> All = [Emotion.Angry, Emotion.Happy, Emotion.Sad, Emotion.Neutral];

    /// <summary>Lower-case name used in JSON, tables and reports: angry, happy, sad, neutral.</summary>
    public static string Name(this Emotion emotion) => emotion switch
    {
        Emotion.Angry => "angry",
        Emotion.Happy => "happy",
        Emotion.Sad => "sad",
        Emotion.Neutral => "neutral",
        _ => throw new ArgumentOutOfRangeException(nameof(emotion), emotion, "not one of the four classes"),
    };
}
