using System.Text.Json;
using Histo.Datasets;
using Histo.Slides;
using Histo.Tests.Cli;
using OpenCvSharp;

namespace Histo.Tests.Datasets;

/// <summary>The dataset's µm/px: read from the TIFF resolution tags, checked for missing, different and mixed scales, overridden.</summary>
public sealed class DatasetScaleTests
{
    private static string BachPartA => TestPaths.Shared("bach-parta", "Photos");

    /// <summary>Writes a small TIFF whose resolution tags say <paramref name="mpp"/> µm/px (pixels per centimetre, as slide scanners write them).</summary>
    internal static void WriteTiff(string path, double mpp, int side = 40)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var image = new Mat(side, side, MatType.CV_8UC3, new Scalar(200, 120, 180));
        int pixelsPerCm = (int)Math.Round(1e4 / mpp);
        Assert.True(Cv2.ImWrite(path, image,
            [new ImageEncodingParam(ImwriteFlags.TiffResUnit, 3), new ImageEncodingParam(ImwriteFlags.TiffXDpi, pixelsPerCm), new ImageEncodingParam(ImwriteFlags.TiffYDpi, pixelsPerCm)]));
    }

    /// <summary>Writes a small PNG (no µm/px).</summary>
    internal static void WritePng(string path, int side = 40)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        DatasetTestData.WriteImage(path, side, side, (x, y) => ((byte)(x * 5), 90, (byte)(y * 5)));
    }

    [Fact]
    public void FixtureTiffsCarryTheirScale()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "a.tif");
        WriteTiff(path, 0.42);
        Assert.Equal(0.42, ImageFileResolution.TryReadMpp(path)!.Value, 4);
    }

    [Fact]
    public void BachPartAScaleIsReadFromTheTiffTags()
    {
        Dataset ds = DatasetLoader.Load(BachPartA);
        Assert.Equal(300, ds.Items.Count);
        Assert.Equal(DatasetMppSource.ImageFiles, ds.MppSource);
        Assert.Equal(0.84, ds.Mpp!.Value, 6);
        Assert.All(ds.Items, item => Assert.Equal(0.84, item.Mpp!.Value, 4));
        Assert.DoesNotContain(ds.Problems, p => p.Kind is DatasetProblemKind.MissingMpp or DatasetProblemKind.DifferentMpp);
        Assert.Null(ds.MppWarning);
        Assert.Equal(300, DatasetSummary.Of(ds).ImagesWithMpp);
    }

    [Fact]
    public void PngsWithoutScaleHaveNone()
    {
        Dataset ds = DatasetLoader.Load(DatasetTestData.BachRoot);
        Assert.Null(ds.Mpp);
        Assert.Equal(DatasetMppSource.Unknown, ds.MppSource);
        Assert.Null(ds.MppWarning);
        Assert.DoesNotContain(ds.Problems, p => p.Kind == DatasetProblemKind.MissingMpp);
    }

    [Fact]
    public void ImagesWithoutScaleAmongOthersAreWarnedByName()
    {
        string root = TestPaths.NewTempDirectory();
        WriteTiff(Path.Combine(root, "Normal", "n1.tif"), 0.84);
        WriteTiff(Path.Combine(root, "Normal", "n2.tif"), 0.84);
        WriteTiff(Path.Combine(root, "Invasive", "iv1.tif"), 0.84);
        WritePng(Path.Combine(root, "Invasive", "iv2.png"));
        WritePng(Path.Combine(root, "Normal", "n3.png"));

        Dataset ds = DatasetLoader.Load(root);
        Assert.Equal(0.84, ds.Mpp!.Value, 4);
        Assert.Equal(DatasetMppSource.ImageFiles, ds.MppSource);
        var missing = ds.Problems.Where(p => p.Kind == DatasetProblemKind.MissingMpp).Select(p => Path.GetFileName(p.Path)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["iv2.png", "n3.png"], missing);
        var scale = Assert.IsType<HistoWarning>(ds.MppWarning);
        Assert.Equal(WarningCode.DatasetScale, scale.Code);
        string warning = scale.Message;
        Assert.Contains("2 of 5 images record no µm/px", warning, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("Invasive", "iv2.png"), warning, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("Normal", "n3.png"), warning, StringComparison.Ordinal);
        Assert.Contains("0.84 µm/px assumed", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void ScalesWithinTenPercentMakeOneScaleAndTheOddOneIsNoted()
    {
        string root = TestPaths.NewTempDirectory();
        WriteTiff(Path.Combine(root, "Normal", "n1.tif"), 0.84);
        WriteTiff(Path.Combine(root, "Normal", "n2.tif"), 0.84);
        WriteTiff(Path.Combine(root, "Benign", "b1.tif"), 0.84);
        WriteTiff(Path.Combine(root, "Benign", "b2.tif"), 0.9); // 7 % off

        Dataset ds = DatasetLoader.Load(root);
        Assert.Equal(0.84, ds.Mpp!.Value, 4);
        DatasetProblem odd = Assert.Single(ds.Problems, p => p.Kind == DatasetProblemKind.DifferentMpp);
        Assert.Equal("b2.tif", Path.GetFileName(odd.Path));
        Assert.Contains("1 images record a µm/px more than 1 % off", ds.MppWarning?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScalesMoreThanTenPercentApartAreRefusedUnlessOverriddenOrAllowed()
    {
        string root = TestPaths.NewTempDirectory();
        WriteTiff(Path.Combine(root, "Normal", "n1.tif"), 0.84);
        WriteTiff(Path.Combine(root, "Normal", "n2.tif"), 0.84);
        WriteTiff(Path.Combine(root, "Benign", "b1.tif"), 0.42);
        WritePng(Path.Combine(root, "Benign", "b2.png"));

        var refused = Assert.Throws<MixedScaleDatasetException>(() => DatasetLoader.Load(root));
        Assert.Equal(0.42, refused.MinMpp, 4);
        Assert.Equal(0.84, refused.MaxMpp, 4);
        Assert.DoesNotContain('\n', refused.Message);
        Assert.Contains("b1.tif", refused.Message, StringComparison.Ordinal);
        Assert.Contains("0.42 µm/px (1 images", refused.Message, StringComparison.Ordinal);
        Assert.Contains("0.84 µm/px (2 images", refused.Message, StringComparison.Ordinal);
        Assert.Equal(HistoParameter.DatasetMpp, refused.Parameter); // histo names --image-mpp (DatasetCommandShowsTheScaleAndRefusesMixedScales)
        Assert.Equal($"{refused.Problem}; use images of one scale, or give their µm/px to override the recorded ones", refused.Message);
        Assert.IsAssignableFrom<HistoException>(refused);

        Dataset given = DatasetLoader.Load(root, new DatasetLoadOptions { MppOverride = 0.5 });
        Assert.Equal(0.5, given.Mpp);
        Assert.Equal(DatasetMppSource.Override, given.MppSource);
        Assert.Null(given.MppWarning);
        Assert.DoesNotContain(given.Problems, p => p.Kind is DatasetProblemKind.MissingMpp or DatasetProblemKind.DifferentMpp);
        Assert.Equal(0.42, given.Items.Single(i => i.Path.EndsWith("b1.tif", StringComparison.Ordinal)).Mpp!.Value, 4);

        Dataset mixed = DatasetLoader.Load(root, new DatasetLoadOptions { AllowMixedScales = true });
        Assert.Null(mixed.Mpp);
        Assert.Equal(DatasetMppSource.Mixed, mixed.MppSource);

        Assert.Throws<InvalidParameterException>(() => DatasetLoader.Load(root, new DatasetLoadOptions { MppOverride = -1 }));
    }

    [Fact]
    public void DatasetCommandShowsTheScaleAndRefusesMixedScales()
    {
        var bach = CliRunner.Run("dataset", BachPartA);
        Assert.True(bach.ExitCode == 0, bach.StdErr);
        Assert.Contains("scale: 0.84 µm/px (recorded by all 300 images)", bach.StdOut, StringComparison.Ordinal);

        var json = CliRunner.Run("dataset", BachPartA, "--json");
        using (var doc = JsonDocument.Parse(json.StdOut))
        {
            JsonElement scale = doc.RootElement.GetProperty("scale");
            Assert.Equal(0.84, scale.GetProperty("mpp").GetDouble(), 6);
            Assert.Equal("image_files", scale.GetProperty("source").GetString());
            Assert.Equal(300, scale.GetProperty("images_with_mpp").GetInt32());
        }

        string root = TestPaths.NewTempDirectory();
        WriteTiff(Path.Combine(root, "Normal", "n1.tif"), 0.84);
        WriteTiff(Path.Combine(root, "Benign", "b1.tif"), 0.42);
        var mixed = CliRunner.Run("dataset", root);
        CliRunner.AssertOneLineError(mixed, "different scales");
        Assert.EndsWith("; use images of one scale, or give their µm/px (--image-mpp) to override", mixed.StdErr.TrimEnd(), StringComparison.Ordinal);

        var given = CliRunner.Run("dataset", root, "--image-mpp", "0.5");
        Assert.True(given.ExitCode == 0, given.StdErr);
        Assert.Contains("scale: 0.5 µm/px (given", given.StdOut, StringComparison.Ordinal);
        Assert.Equal(2, CliRunner.Run("dataset", root, "--image-mpp", "0").ExitCode);

        WritePng(Path.Combine(root, "Benign", "b2.png"));
        File.Delete(Path.Combine(root, "Benign", "b1.tif"));
        var missing = CliRunner.Run("dataset", root);
        Assert.True(missing.ExitCode == 0, missing.StdErr);
        Assert.Contains("scale: 0.84 µm/px (median of the 1 of 2 images that record one", missing.StdOut, StringComparison.Ordinal);
        Assert.Contains("1 images without a recorded µm/px", missing.StdOut, StringComparison.Ordinal);
        Assert.Contains("b2.png: records no µm/px", missing.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownScaleIsSaidSo()
    {
        var r = CliRunner.Run("dataset", DatasetTestData.BachRoot);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("scale: unknown", r.StdOut, StringComparison.Ordinal);
    }
}
