using System.Text.Json;
using Histo.Annotations;
using Histo.Bach;
using Histo.Imaging;
using Histo.Maps;
using Histo.Tests.Cli;
using static Histo.Tests.Annotations.AnnotationTestData;

namespace Histo.Tests.Scoring;

public class ScoreCommandTests
{
    private const int Size = 313; // the 5000 px A01 window at about 1/16

    /// <summary>The A01 truth sampled at the centres of a Size x Size grid, written independently of the library.</summary>
    private static byte[] DownsampledTruth()
    {
        var (pixels, width, height) = ImageIO.LoadGray(TestPaths.A01Labels);
        var result = new byte[Size * Size];
        for (int y = 0; y < Size; y++)
        {
            int sy = (int)Math.Floor((y + 0.5) * height / Size);
            for (int x = 0; x < Size; x++)
            {
                result[(y * Size) + x] = pixels[(sy * width) + (int)Math.Floor((x + 0.5) * width / Size)];
            }
        }

        return result;
    }

    /// <summary>A slide output directory with bach.png and geometry.json over the A01 window (origin x 10000, y 0).</summary>
    private static string SlideDir(byte[] bach, int size = Size)
    {
        string dir = TestPaths.NewTempDirectory();
        ImageIO.SaveGray(Path.Combine(dir, "bach.png"), bach, size, size);
        new MapGeometry(10000, 0, 5000, 5000, size, size, BachClasses.Names).Save(Path.Combine(dir, MapGeometry.FileName));
        return dir;
    }

    private static JsonElement Json(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.StdErr);
        return JsonDocument.Parse(r.StdOut).RootElement;
    }

    [Fact]
    public void Prediction_made_from_the_truth_scores_one()
    {
        var truth = DownsampledTruth();
        Assert.Contains(truth, v => v == 1);
        var root = Json(CliRunner.Run("score", SlideDir(truth), TestPaths.A01Labels, "--json"));
        Assert.Equal(1.0, root.GetProperty("score").GetDouble());
        Assert.Equal("mask", root.GetProperty("truth_kind").GetString());
        var benign = root.GetProperty("classes")[1];
        Assert.Equal(1.0, benign.GetProperty("dice").GetDouble());
        Assert.Equal(truth.Count(v => v == 1), benign.GetProperty("truth_pixels").GetInt64());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("classes")[3].GetProperty("dice").ValueKind);
        Assert.Contains(root.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("resized", StringComparison.Ordinal));
    }

    [Fact]
    public void Constant_normal_prediction_scores_what_the_formula_gives()
    {
        var truth = DownsampledTruth();
        long errors = 0, weights = 0;
        foreach (byte g in truth)
        {
            errors += g; // |0 - g|
            if (g > 0)
            {
                weights += Math.Max(g, 3 - g);
            }
        }

        var r = CliRunner.Run("score", Path.Combine(SlideDir(new byte[Size * Size]), "bach.png"), TestPaths.A01Labels, "--json");
        var root = Json(r);
        Assert.Equal(1 - ((double)errors / weights), root.GetProperty("score").GetDouble(), 12);
        Assert.Equal(errors, root.GetProperty("error_sum").GetInt64());
        Assert.Equal(weights, root.GetProperty("weight_sum").GetInt64());
        Assert.Equal(0.0, root.GetProperty("classes")[1].GetProperty("dice").GetDouble());
    }

    [Fact]
    public void Geojson_truth_from_the_full_resolution_mask_scores_one()
    {
        // Pixel-edge polygons of the 5000 px mask, rasterised at the 313 px grid's pixel centres, are exactly the
        // mask sampled at those centres: the same as the downsampled prediction.
        var (pixels, width, height) = ImageIO.LoadGray(TestPaths.A01Labels);
        var polygons = MapVectorizer.Vectorize(new RasterMask(width, height, 1, 1, pixels, 10000, 0), BachClasses.Names,
            new VectorizeOptions { ToleranceMaskPixels = 0 });
        string dir = SlideDir(DownsampledTruth());
        string truth = Path.Combine(TestPaths.NewTempDirectory(), "truth.geojson");
        AnnotationWriter.SaveGeoJson(truth, polygons);
        var root = Json(CliRunner.Run("score", dir, truth, "--json"));
        Assert.Equal(1.0, root.GetProperty("score").GetDouble());
        Assert.Equal(DownsampledTruth().Count(v => v == 1), root.GetProperty("classes")[1].GetProperty("both_pixels").GetInt64());
    }

    [Fact]
    public void Annotation_truth_is_rasterised_onto_the_prediction_grid()
    {
        // A Benign rectangle (label held in the region attributes, as in BACH's A01.xml) and an unknown region.
        double ppx = 5000.0 / Size;
        var bach = new byte[Size * Size];
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                double cx = 10000 + ((x + 0.5) * ppx), cy = (y + 0.5) * ppx;
                if (cx is >= 11003 and <= 12007 && cy is >= 503 and <= 1507)
                {
                    bach[(y * Size) + x] = 1;
                }
            }
        }

        string dir = SlideDir(bach);
        string truth = Path.Combine(dir, "truth.xml");
        File.WriteAllText(truth, Aperio(
            ("1", "", Rect(11003, 503, 12007, 1507), "", "<Attributes><Attribute Name=\"1\" Id=\"0\" Value=\"Benign\"/></Attributes>"),
            ("2", "Stroma", Rect(13000, 3000, 13500, 3500), "", "")));
        var root = Json(CliRunner.Run("score", dir, truth, "--json"));
        Assert.Equal(1.0, root.GetProperty("score").GetDouble());
        Assert.Equal("annotations", root.GetProperty("truth_kind").GetString());
        Assert.Equal(bach.Count(v => v == 1), root.GetProperty("classes")[1].GetProperty("truth_pixels").GetInt64());
        var unknown = Assert.Single(root.GetProperty("unknown_labels").EnumerateArray());
        Assert.Equal(("Stroma", 1), (unknown.GetProperty("label").GetString(), unknown.GetProperty("count").GetInt32()));

        // With a label map the Stroma region counts as Invasive and lowers the score; the text output shows it.
        var mapped = Json(CliRunner.Run("score", dir, truth, "--label-map", "Stroma=Invasive,Benign=Benign", "--json"));
        Assert.True(mapped.GetProperty("score").GetDouble() < 1.0);
        Assert.True(mapped.GetProperty("classes")[3].GetProperty("truth_pixels").GetInt64() > 900);
        var text = CliRunner.Run("score", dir, truth);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("BACH Part B score 1.0000", text.StdOut, StringComparison.Ordinal);
        // Redirected, the score line is its plain text: one line, no markup.
        string scoreLine = text.StdOut.Split('\n').Single(l => l.StartsWith("BACH Part B score", StringComparison.Ordinal));
        Assert.Contains("px, accuracy ", scoreLine, StringComparison.Ordinal);
        Assert.DoesNotContain("[bold]", scoreLine, StringComparison.Ordinal);
        Assert.Contains("warning: unknown label 'Stroma'", text.StdErr, StringComparison.Ordinal);
        const string Problem = "unknown label 'Stroma' on 1 region(s): not painted (BACH substrings ('ormal', 'nign', 'situ', 'vasive'))";
        Assert.Contains($"warning: {Problem}; use --label-map", text.StdErr, StringComparison.Ordinal);
        Assert.Contains($"{Problem}; give a label map that names it", root.GetProperty("warnings").EnumerateArray().Select(w => w.GetString())); // files record the library's sentence
    }

    [Fact]
    public void Bad_inputs_give_one_error_line()
    {
        string dir = SlideDir(new byte[Size * Size]);
        CliRunner.AssertOneLineError(CliRunner.Run("score", "/no/such/dir", TestPaths.A01Labels), "not found");
        CliRunner.AssertOneLineError(CliRunner.Run("score", dir, "/no/such/truth.xml"), "not found");

        string other = TestPaths.NewTempDirectory();
        ImageIO.SaveGray(Path.Combine(other, "wide.png"), new byte[400 * 100], 400, 100);
        CliRunner.AssertOneLineError(CliRunner.Run("score", dir, Path.Combine(other, "wide.png")), "aspect ratio");

        var seven = new byte[Size * Size];
        seven[(5 * Size) + 3] = 7;
        CliRunner.AssertOneLineError(CliRunner.Run("score", SlideDir(seven), TestPaths.A01Labels), "(3, 5) holds 7");

        File.WriteAllText(Path.Combine(other, "broken.xml"), "<Annotations><Annotation>");
        CliRunner.AssertOneLineError(CliRunner.Run("score", dir, Path.Combine(other, "broken.xml")), "not well-formed");
        var unmapped = CliRunner.Run("score", dir, Camelyon);
        CliRunner.AssertOneLineError(unmapped, "--label-map");
        CliRunner.AssertOneLineError(unmapped, "; pass --label-map, e.g. --label-map \"Tumor=Invasive\"");
        CliRunner.AssertOneLineError(CliRunner.Run("score", dir, Histo.Tests.Annotations.AnnotationTestData.Bach("A10")), "outside the prediction's area"); // A10's regions start at y 9816

        ImageIO.SaveGray(Path.Combine(other, "bach.png"), new byte[Size * Size], Size, Size);
        var placeless = CliRunner.Run("score", Path.Combine(other, "bach.png"), Histo.Tests.Annotations.AnnotationTestData.Bach("A04"));
        CliRunner.AssertOneLineError(placeless, "geometry");
        CliRunner.AssertOneLineError(placeless, "beside it (give the slide output directory, or --geometry)");

        var badMap = CliRunner.Run("score", dir, Camelyon, "--label-map", "Tumor=Cancer");
        CliRunner.AssertOneLineError(badMap, "unknown class 'Cancer'");
        Assert.Equal(2, badMap.ExitCode);
        Assert.Equal(["bach.png", MapGeometry.FileName], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Both_all_normal_reports_null()
    {
        string other = TestPaths.NewTempDirectory();
        string truth = Path.Combine(other, "truth.png");
        ImageIO.SaveGray(truth, new byte[Size * 2 * Size * 2], Size * 2, Size * 2);
        var root = Json(CliRunner.Run("score", SlideDir(new byte[Size * Size]), truth, "--json"));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("score").ValueKind);
        var text = CliRunner.Run("score", SlideDir(new byte[Size * Size]), truth);
        Assert.Contains("undefined", text.StdOut, StringComparison.Ordinal);
    }
}
