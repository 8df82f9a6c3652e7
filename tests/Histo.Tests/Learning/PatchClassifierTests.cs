using Histo.Imaging;
using Histo.Learning;
using Histo.Learning.Models;
using Histo.Models;

namespace Histo.Tests.Learning;

public sealed class PatchClassifierTests
{
    private static ModelCard Card(int classes) => new()
    {
        Classes = [.. Enumerable.Range(0, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))],
        PatchSizePixels = 50,
        InputSizePixels = 48,
        Mpp = 4.0,
    };

    private static List<RgbaImage> IdcPatches(int count) =>
        [.. Directory.EnumerateFiles(TestPaths.Shared("idc"), "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(count).Select(ImageIO.Load)];

    [Fact]
    public void SavedModelLoadsAndPredictsTheSameProbabilities()
    {
        string directory = TestPaths.NewTempDirectory();
        List<RgbaImage> patches = IdcPatches(5);
        float[][] before;
        using (var classifier = new PatchClassifier(new ResNet18Variant(2), Card(2)))
        {
            classifier.Network.eval();
            before = classifier.Predict(patches);
            classifier.Save(directory);
        }

        using PatchClassifier loaded = PatchClassifier.Load(directory);
        float[][] after = loaded.Predict(patches);
        Assert.Equal(5, after.Length);
        for (int i = 0; i < after.Length; i++)
        {
            Assert.Equal(1.0, after[i].Sum(), 4);
            Assert.Equal(before[i][0], after[i][0], 5);
        }

        float[][] features = loaded.Embed(patches);
        Assert.Equal(ResNet18Variant.FeatureCount, features[0].Length);
        Assert.Equal(["0", "1"], loaded.Card.Classes);
    }

    [Fact]
    public void SavingOverAStainNormalisedModelRemovesItsStainTarget()
    {
        string directory = TestPaths.NewTempDirectory();
        RgbaImage target = IdcPatches(1)[0];
        ModelCard stainedCard = Card(2);
        stainedCard.StainNormalization = "macenko";
        using (var stained = new PatchClassifier(new ResNet18Variant(2), stainedCard, target))
        {
            stained.Save(directory);
        }

        Assert.True(File.Exists(Path.Combine(directory, PatchClassifier.StainTargetFileName)));
        using (var plain = new PatchClassifier(new ResNet18Variant(2), Card(2)))
        {
            plain.Save(directory);
        }

        // a leftover target would be hashed into the id of a model that does not use it
        Assert.False(File.Exists(Path.Combine(directory, PatchClassifier.StainTargetFileName)));
        using PatchClassifier loaded = PatchClassifier.Load(directory);
        Assert.Equal("none", loaded.Card.StainNormalization);
    }

    [Fact]
    public void MissingWeightsAndMismatchedHeadsAreModelErrors()
    {
        string directory = TestPaths.NewTempDirectory();
        Card(3).Save(directory);
        var missing = Assert.Throws<HistoModelException>(() => PatchClassifier.Load(directory));
        Assert.Contains("weights.bin", missing.Message, StringComparison.Ordinal);

        using (var two = new ResNet18Variant(2))
        {
            PatchClassifier.SaveWeights(two, Path.Combine(directory, PatchClassifier.WeightsFileName));
        }

        Assert.Throws<HistoModelException>(() => PatchClassifier.Load(directory));
        Assert.Throws<HistoModelException>(() => new PatchClassifier(new ResNet18Variant(2), Card(3)));
    }
}
