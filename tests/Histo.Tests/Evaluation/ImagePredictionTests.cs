using Histo.Datasets;
using Histo.Evaluation;
using Histo.Imaging;
using Histo.IO;
using Histo.Learning.Evaluation;
using Histo.Learning.Models;
using Histo.Patches;

namespace Histo.Tests.Evaluation;

public sealed class ImagePredictionTests
{
    private static string BachInvasive => TestPaths.Shared("microscopy", "bach", "Invasive", "invasive.png");

    [Theory]
    [InlineData(1024, 748, 49.5, new[] { 0, 50, 99, 149, 198, 248, 276 })] // BACH field width at 0.84 µm/px: the seed's 7 columns
    [InlineData(768, 748, 49.5, new[] { 0, 20 })] // ... and 2 rows: 14 crops
    [InlineData(2048, 1495, 99, new[] { 0, 99, 198, 297, 396, 495, 553 })] // the seed's own 0.42 µm/px fields
    [InlineData(748, 748, 49.5, new[] { 0 })]
    [InlineData(700, 748, 49.5, new[] { 0 })]
    [InlineData(848, 748, 50, new[] { 0, 50, 100 })] // the stride lands on the edge: no extra crop
    public void SlidingWindowEndsAlignedToTheFarEdge(int length, int patch, double stride, int[] expected)
    {
        Assert.Equal(expected, ImageTiling.SlidingOrigins(length, patch, stride));
    }

    [Fact]
    public void CutWithAStrideGivesTheSlidingWindowCrops()
    {
        var image = new RgbaImage(1024, 768);
        for (int y = 0; y < 768; y++)
        {
            for (int x = 0; x < 1024; x++)
            {
                image.Pixels[((y * 1024) + x) * 4] = (byte)(x % 251);
                image.Pixels[((y * 1024) + x) * 4 + 1] = (byte)(y % 241);
            }
        }

        List<RgbaImage> crops = ImageTiling.Cut(image, 748, strideSizePixels: 49.5);
        Assert.Equal(14, crops.Count);
        Assert.All(crops, c => Assert.Equal((748, 748), (c.Width, c.Height)));
        RgbaImage last = crops[^1]; // x 276, y 20
        Assert.Equal((byte)(276 % 251), last.Pixels[0]);
        Assert.Equal((byte)(20 % 241), last.Pixels[1]);
        Assert.Equal(4, ImageTiling.Cut(image, 748).Count); // without a stride: the edge-to-edge grid
    }

    [Theory]
    [InlineData(50, 50, new[] { 0 })]
    [InlineData(100, 50, new[] { 0, 50 })]
    [InlineData(584, 50, new[] { 0, 49, 97, 146, 194, 243, 291, 340, 388, 437, 485, 534 })]
    [InlineData(438, 50, new[] { 0, 49, 97, 146, 194, 243, 291, 340, 388 })]
    public void TilesCoverTheSideEdgeToEdge(int length, int patch, int[] expected)
    {
        int[] origins = ImageTiling.Origins(length, patch);
        Assert.Equal(expected, origins);
        Assert.Equal(length - patch, origins[^1]);
        Assert.All(origins.Zip(origins.Skip(1)), pair => Assert.InRange(pair.Second - pair.First, 1, patch));
    }

    [Fact]
    public void ImagesAreScaledToTheModelMppAndSmallOnesResizedToOnePatch()
    {
        var image = new RgbaImage(400, 300);
        Assert.Equal(48, ImageTiling.Cut(image, 50).Count); // native: 8 x 6
        Assert.Equal(12, ImageTiling.Cut(image, 50, imageMpp: 1.0, modelMpp: 2.0).Count); // halved to 200x150: 4 x 3
        var small = ImageTiling.Cut(new RgbaImage(50, 35), 50);
        Assert.Single(small);
        Assert.Equal((50, 50), (small[0].Width, small[0].Height));
        Assert.Equal(1.0, ImageTiling.ScaleFor(null, 4.0));
        Assert.Equal(1.0, ImageTiling.ScaleFor(4.01, 4.0));
        Assert.Equal(0.105, ImageTiling.ScaleFor(0.42, 4.0), 6);
    }

    [Fact]
    public void TtaAveragesTheEightDihedralViewsAndDiffersFromThePlainPrediction()
    {
        using var classifier = PatchClassifier.Load(EvaluationModel.ModelDirectory);
        List<string> files = [.. EvaluationModel.TestFiles().Take(6)];
        ImageInput[] inputs = [.. files.Select(f => new ImageInput(f))];
        float[][] plain = new ImagePredictor(classifier).Predict(inputs);
        float[][] tta = new ImagePredictor(classifier, new ImagePredictionOptions { TestTimeAugmentation = true, BatchSize = 5 }).Predict(inputs);
        double largest = 0;
        for (int i = 0; i < files.Count; i++)
        {
            Assert.Equal(1.0, plain[i].Sum(), 1e-4);
            Assert.Equal(1.0, tta[i].Sum(), 1e-4);
            RgbaImage image = ImageIO.Load(files[i]);
            float[][] views = classifier.Predict([.. Dihedral.All.Select(t => Dihedral.Apply(image, t))]);
            Assert.Equal(plain[i][1], views[0][1], 1e-4);
            Assert.Equal(views.Average(v => v[1]), tta[i][1], 1e-4);
            largest = Math.Max(largest, Math.Abs(tta[i][1] - plain[i][1]));
        }

        Assert.True(largest > 1e-4, $"TTA changed no probability (largest difference {largest})");
    }

    [Fact]
    public void ALargeImageIsTheMeanOfItsTiles()
    {
        using var classifier = PatchClassifier.Load(EvaluationModel.ModelDirectory);
        RgbaImage image = ImageIO.Load(BachInvasive);
        List<RgbaImage> tiles = ImageTiling.Cut(image, 50, null, 4.0);
        Assert.Equal(12 * 9, tiles.Count); // 584 x 438 at native scale (no recorded µm/px)
        float[][] perTile = classifier.Predict(tiles);
        float[] whole = new ImagePredictor(classifier, new ImagePredictionOptions { BatchSize = 7 }).Predict([new ImageInput(BachInvasive)])[0];
        Assert.Equal(perTile.Average(p => p[0]), whole[0], 1e-4);
        Assert.Equal(perTile.Average(p => p[1]), whole[1], 1e-4);
    }

    [Fact]
    public void EvaluatorMatchesMetricsComputedFromItsPredictions()
    {
        using var classifier = PatchClassifier.Load(EvaluationModel.ModelDirectory);
        Dataset dataset = DatasetLoader.Load(EvaluationModel.TestDataset);
        EvaluationResult result = Evaluator.Evaluate(classifier, dataset);
        Assert.Equal(dataset.Items.Count, result.Predictions.Count);
        int[] truth = [.. result.Predictions.Select(p => EvaluationModel.ClassOf(p.Path))];
        Assert.Equal(truth, result.Predictions.Select(p => p.TruthIndex));
        var again = ClassificationMetrics.Compute(["0", "1"], truth, [.. result.Predictions.Select(p => p.Probabilities)], [0, 3]);
        Assert.Equal(again.BalancedAccuracy, result.Metrics.BalancedAccuracy, 9);
        Assert.InRange(result.BalancedAccuracyInterval.Low, 0, result.Metrics.BalancedAccuracy);
        Assert.InRange(result.BalancedAccuracyInterval.High, result.Metrics.BalancedAccuracy, 1);
        Assert.InRange(result.MacroF1Interval.Low, 0, result.Metrics.MacroF1);
        // The fitted head must have learnt something real about held-out patients (chance is 0.5; 50 px ImageNet
        // features with a linear head reach about 0.7 here).
        Assert.True(result.Metrics.BalancedAccuracy > 0.6, $"balanced accuracy {result.Metrics.BalancedAccuracy}");
    }

    [Fact]
    public void NpyRoundTripsAndHasTheDocumentedHeader()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "x.npy");
        float[][] rows = [[1f, -2.5f, 3f], [float.Epsilon, 0f, 1e20f]];
        AtomicFile.Write(path, s => NpyFile.WriteFloat32(s, rows, 3));
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(0, (bytes[8] | bytes[9] << 8) + 10 & 63);
        Assert.StartsWith("\u0093NUMPY", System.Text.Encoding.Latin1.GetString(bytes, 0, 6), StringComparison.Ordinal);
        Assert.Equal(rows, NpyFile.ReadFloat32(path));
    }
}
