namespace FoldCluster.Core.Tests;

public class SettingValuesTests
{
    [Theory]
    [InlineData("64", 64)]
    [InlineData(" 7 ", 7)]
    [InlineData("-3", -3)]
    public void Integers_parse_in_the_invariant_culture(string text, int expected) =>
        Assert.Equal(expected, SettingValues.Int("training setting batch_size", text));

    [Theory]
    [InlineData("abc", 2, int.MaxValue, "training setting batch_size=abc is not valid: expected an integer >= 2")]
    [InlineData("1", 2, int.MaxValue, "training setting batch_size=1 is not valid: expected an integer >= 2")]
    [InlineData("5", 0, 3, "training setting batch_size=5 is not valid: expected an integer from 0 to 3")]
    [InlineData("1.5", int.MinValue, int.MaxValue, "training setting batch_size=1.5 is not valid: expected an integer")]
    public void Bad_integers_name_the_setting_the_value_and_the_range(string text, int min, int max, string message)
    {
        var error = Assert.Throws<BadInputException>(() => SettingValues.Int("training setting batch_size", text, min, max));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Numbers_accept_exponents_and_reject_non_finite_and_out_of_range_values()
    {
        Assert.Equal(1e-3, SettingValues.Real("training setting lr", "1e-3", 1e-9, 10));
        Assert.Equal(2.5, SettingValues.Real("dataset option video_fps", "2.5"));
        Assert.Equal("dataset option video_fps=NaN is not valid: expected a number",
            Assert.Throws<BadInputException>(() => SettingValues.Real("dataset option video_fps", "NaN")).Message);
        Assert.Equal("training setting dropout=0.99 is not valid: expected a number in [0, 0.95]",
            Assert.Throws<BadInputException>(() => SettingValues.Real("training setting dropout", "0.99", 0, 0.95)).Message);
        Assert.Throws<BadInputException>(() => SettingValues.Real("training setting lr", "1,5"));
    }

    [Fact]
    public void Booleans_are_true_yes_false_or_no()
    {
        Assert.True(SettingValues.Bool("x", "True"));
        Assert.True(SettingValues.Bool("x", "yes"));
        Assert.False(SettingValues.Bool("x", " false "));
        Assert.False(SettingValues.Bool("x", "NO"));
        Assert.Equal("x=1 is not valid: expected true or false", Assert.Throws<BadInputException>(() => SettingValues.Bool("x", "1")).Message);
    }

    [Fact]
    public void Integer_lists_need_the_count_and_check_each_element()
    {
        Assert.Equal([8, 16, 32], SettingValues.IntList("training setting audio_channels", "8, 16,32", 3, min: 1));
        Assert.Equal("training setting audio_channels=8,16 is not valid: expected 3 comma-separated integers",
            Assert.Throws<BadInputException>(() => SettingValues.IntList("training setting audio_channels", "8,16", 3, min: 1)).Message);
        Assert.Equal("training setting audio_channels=0 is not valid: expected an integer >= 1",
            Assert.Throws<BadInputException>(() => SettingValues.IntList("training setting audio_channels", "8,0,4", 3, min: 1)).Message);
    }
}
