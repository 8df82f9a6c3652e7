using System.Numerics;
using Histo.Color;
using Histo.Imaging;
using OpenCvSharp;

namespace Histo.Tests.Color;

public class StainNormalizationTests
{
    private static readonly Lazy<RgbaImage> TargetImage = new(() => ImageIO.Load(TestPaths.Shared("tissue-tiles", "tiatoolbox", "target_image.png")));

    private static RgbaImage Tile(string name) => ImageIO.Load(TestPaths.Shared("tissue-tiles", "histolab", name));

    private static float Cos(Vector3 a, Vector3 b) => Vector3.Dot(a, b) / (a.Length() * b.Length());

    [Fact]
    public void Macenko_fit_on_the_tiatoolbox_target_finds_haematoxylin_and_eosin()
    {
        var target = MacenkoNormalizer.Fit(TargetImage.Value).Target;
        var (h, e) = (target.Matrix.Hematoxylin, target.Matrix.Eosin);
        Assert.Equal(1f, h.Length(), 4);
        Assert.Equal(1f, e.Length(), 4);
        Assert.True(h.X > e.X, "haematoxylin absorbs more red than eosin");
        Assert.True(Cos(h, StainMatrix.Ruifrok.Hematoxylin) > 0.95, $"H {target.Matrix}");
        Assert.True(Cos(e, StainMatrix.Ruifrok.Eosin) > 0.85, $"E {target.Matrix}");
        Assert.True(Cos(h, e) < 0.95);
        Assert.True(target.MaxHematoxylin > target.MaxEosin && target.MaxEosin > 0.3);
        Assert.True(target.TissuePixelCount > 500_000);
    }

    [Theory]
    [InlineData("tissue-level0-4302-10273-4814-10785.png")]
    [InlineData("tissue-level2-1784-6289-5880-10386.png")]
    [InlineData("liver-level2-10907-7808-11707-8608.png")]
    public void Macenko_moves_a_tile_stains_onto_the_target(string name)
    {
        var normalizer = MacenkoNormalizer.Fit(TargetImage.Value);
        var tile = Tile(name);
        var before = MacenkoEstimator.TryEstimate(tile, out _)!;
        var result = normalizer.Normalize(tile);
        Assert.True(result.Applied, result.SkipReason);
        var after = MacenkoEstimator.TryEstimate(result.Image, out _)!;
        var target = normalizer.Target;
        Assert.True(Cos(after.Matrix.Eosin, target.Matrix.Eosin) >= Cos(before.Matrix.Eosin, target.Matrix.Eosin) - 1e-4);
        Assert.True(Cos(after.Matrix.Hematoxylin, target.Matrix.Hematoxylin) > 0.995, $"after {after.Matrix} target {target.Matrix}");
        Assert.True(Cos(after.Matrix.Eosin, target.Matrix.Eosin) > 0.99, $"after {after.Matrix} target {target.Matrix}");
        Assert.InRange(after.MaxHematoxylin / target.MaxHematoxylin, 0.8, 1.25);
        Assert.InRange(after.MaxEosin / target.MaxEosin, 0.8, 1.25);
        AssertSameShapeAndAlpha(tile, result.Image);
    }

    [Fact]
    public void Macenko_normalising_the_target_itself_changes_little()
    {
        var target = TargetImage.Value.Crop(0, 0, 400, 400);
        var result = MacenkoNormalizer.Fit(TargetImage.Value).Normalize(target);
        Assert.True(result.Applied);
        double diff = 0;
        for (int i = 0; i < target.Pixels.Length; i++)
        {
            diff += Math.Abs(target.Pixels[i] - result.Image.Pixels[i]);
        }

        Assert.True(diff / target.Pixels.Length < 6, $"mean absolute change {diff / target.Pixels.Length:0.00}");
    }

    [Theory]
    [InlineData("tissue-level0-4302-10273-4814-10785.png")]
    [InlineData("tcga-red-pen.png")]
    public void Reinhard_matches_the_target_lab_statistics_on_tissue_and_keeps_glass(string name)
    {
        var normalizer = ReinhardNormalizer.Fit(TargetImage.Value);
        var tile = Tile(name);
        var result = normalizer.Normalize(tile);
        Assert.True(result.Applied, result.SkipReason);
        // Statistics over the pixels that were tissue in the source (fully transformed there).
        var (mean, sd) = LabStats(result.Image, i => Math.Min(tile.Pixels[i], Math.Min(tile.Pixels[i + 1], tile.Pixels[i + 2])) < ReinhardNormalizer.TissueMaxChannel);
        var t = normalizer.Target;
        Assert.True(Vector3.Distance(mean, t.Mean) < 3, $"mean {mean} target {t.Mean}");
        Assert.True(Math.Abs(sd.X / t.StdDev.X - 1) < 0.15 && Math.Abs(sd.Y / t.StdDev.Y - 1) < 0.15, $"sd {sd} target {t.StdDev}");
        for (int i = 0; i < tile.Pixels.Length; i += 4)
        {
            if (tile.Pixels[i] >= 230 && tile.Pixels[i + 1] >= 230 && tile.Pixels[i + 2] >= 230)
            {
                Assert.Equal(tile.Pixels.AsSpan(i, 4).ToArray(), result.Image.Pixels.AsSpan(i, 4).ToArray());
            }
        }
    }

    public static TheoryData<string> Hopeless => new() { "almost-white-1.png", "almost-white-ihc.png", "no-tissue.png", "1x1", "2x2", "black", "pink", "transparent" };

    /// <summary>White, tiny and single-colour images: a sane image back (the input unchanged when skipped), never NaN or an exception.</summary>
    [Theory]
    [MemberData(nameof(Hopeless))]
    public void Hopeless_images_come_back_sane(string which)
    {
        var image = which switch
        {
            "1x1" => new RgbaImage(1, 1, [120, 60, 140, 255]),
            "2x2" => new RgbaImage(2, 2, [120, 60, 140, 255, 200, 100, 180, 255, 90, 40, 120, 255, 255, 255, 255, 255]),
            "black" => Filled(64, 64, 0, 0, 0),
            "pink" => Filled(64, 64, 220, 120, 180),
            "transparent" => new RgbaImage(32, 32),
            _ => Tile(which),
        };
        foreach (var method in new[] { StainMethod.Macenko, StainMethod.Reinhard })
        {
            var result = StainNormalizer.Fit(method, TargetImage.Value).Normalize(image);
            AssertSameShapeAndAlpha(image, result.Image);
            if (!result.Applied)
            {
                Assert.False(string.IsNullOrEmpty(result.SkipReason));
                Assert.Equal(image.Pixels, result.Image.Pixels);
            }
        }

        Assert.Null(MacenkoEstimator.TryEstimate(image, out string? reason));
        Assert.NotNull(reason);
    }

    [Fact]
    public void A_target_without_tissue_cannot_be_fitted()
    {
        var white = Filled(100, 100, 250, 250, 250);
        Assert.Throws<InvalidParameterException>(() => MacenkoNormalizer.Fit(white));
        Assert.Throws<InvalidParameterException>(() => ReinhardNormalizer.Fit(white));
        Assert.Throws<InvalidParameterException>(() => StainNormalizer.ParseMethod("vahadane"));
        Assert.Equal(StainMethod.Reinhard, StainNormalizer.ParseMethod("Reinhard"));
    }

    [Fact]
    public void Percentile_selection_matches_numpy_linear_interpolation()
    {
        var random = new Random(3);
        foreach (int n in new[] { 1, 2, 3, 10, 1001, 65536 })
        {
            var values = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 10 - 2)).ToArray();
            if (n > 10)
            {
                values[5] = values[6] = values[7]; // ties
            }

            var sorted = values.Order().ToArray();
            foreach (double p in new[] { 0.0, 1, 50, 99, 100 })
            {
                double rank = p / 100 * (n - 1);
                int k = (int)Math.Floor(rank);
                double expected = k + 1 < n ? sorted[k] + (rank - k) * (sorted[k + 1] - sorted[k]) : sorted[k];
                Assert.Equal(expected, Percentiles.Of((float[])values.Clone(), p), 5);
            }
        }
    }

    private static RgbaImage Filled(int width, int height, byte r, byte g, byte b)
    {
        var image = new RgbaImage(width, height);
        for (int i = 0; i < image.Pixels.Length; i += 4)
        {
            (image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2], image.Pixels[i + 3]) = (r, g, b, 255);
        }

        return image;
    }

    private static void AssertSameShapeAndAlpha(RgbaImage source, RgbaImage result)
    {
        Assert.Equal((source.Width, source.Height), (result.Width, result.Height));
        for (int i = 3; i < source.Pixels.Length; i += 4)
        {
            Assert.Equal(source.Pixels[i], result.Pixels[i]);
        }
    }

    /// <summary>CIELAB mean and standard deviation (OpenCV float conversion) over the pixels <paramref name="include"/> accepts.</summary>
    private static (Vector3 Mean, Vector3 StdDev) LabStats(RgbaImage image, Func<int, bool> include)
    {
        using var rgba = Mat.FromPixelData(image.Height, image.Width, MatType.CV_8UC4, image.Pixels);
        using var rgb8 = new Mat();
        Cv2.CvtColor(rgba, rgb8, ColorConversionCodes.RGBA2RGB);
        using var rgb = new Mat();
        rgb8.ConvertTo(rgb, MatType.CV_32FC3, 1.0 / 255);
        using var lab = new Mat();
        Cv2.CvtColor(rgb, lab, ColorConversionCodes.RGB2Lab);
        var sum = Vector3.Zero;
        var squares = Vector3.Zero;
        int n = 0;
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                if (!include((y * image.Width + x) * 4))
                {
                    continue;
                }

                var v = lab.At<Vec3f>(y, x);
                var lv = new Vector3(v.Item0, v.Item1, v.Item2);
                sum += lv;
                squares += lv * lv;
                n++;
            }
        }

        var mean = sum / n;
        return (mean, Vector3.SquareRoot(squares / n - mean * mean));
    }
}
