using System.Globalization;
using System.Text.Json;
using Histo.Annotations;
using Histo.Inference;
using Histo.Maps;
using Histo.Outputs;
using Histo.Tests.Annotations;

namespace Histo.Tests.Inference;

/// <summary>
/// <c>prediction.geojson</c> of real slides as QuPath takes it: every polygon valid for JTS (checked by
/// NetTopologySuite), an id per feature, and QuPath measurements (area µm², mean class probabilities).
/// </summary>
public sealed class PredictionGeoJsonTests
{
    /// <summary>
    /// The demo's map of CMU-1-Small-Region has a 25-px stride (11 x 15 cells of about 100 µm). Classified with the
    /// thresholds 0.2086 / 0.2701 on the test model's intensity, its class map has corners shared by two diagonal cells
    /// of one class and two cells of others, where outlines used to pass twice (the issue saw one at (807.273, 1978) with
    /// a trained IDC model), which JTS rejects as a ring self-intersection.
    /// </summary>
    private static readonly double[] PinchingThresholds = [0, 0.2086, 0.2701, 0.99];

    private static (SlideInferenceResult Result, string Directory) Predict(string slidePath, int? stridePixels, bool thresholds = false)
    {
        using var model = SlideTestModel.Load();
        var result = new SlideInference(model, new SlideInferenceOptions
        {
            ReaderThreads = 2,
            StridePixels = stridePixels,
            Rule = thresholds ? ClassMapRule.WithThresholds(PinchingThresholds) : null,
        }).Run(slidePath);
        string outRoot = TestPaths.NewTempDirectory();
        SlideOutputs.Write(outRoot, result, new SlideProvenance("bach-test-model"));
        return (result, SlideOutputs.DirectoryFor(outRoot, slidePath));
    }

    /// <summary>Corners of the class map where two diagonal cells have one class and the other two cells do not.</summary>
    private static List<(int X, int Y)> PinchCorners(SlideInferenceResult result)
    {
        var g = result.Geometry;
        int At(int x, int y) => result.ClassMap[(y * g.Width) + x];
        var corners = new List<(int X, int Y)>();
        for (int y = 1; y < g.Height; y++)
        {
            for (int x = 1; x < g.Width; x++)
            {
                int nw = At(x - 1, y - 1), ne = At(x, y - 1), sw = At(x - 1, y), se = At(x, y);
                if ((nw == se && nw != SlideInferenceResult.NoTissue && ne != nw && sw != nw) || (ne == sw && ne != SlideInferenceResult.NoTissue && nw != ne && se != ne))
                {
                    corners.Add((x, y));
                }
            }
        }

        return corners;
    }

    public static TheoryData<string, int?, bool> Slides => new()
    {
        { "cmu", 25, true },
        { "cmu", 25, false },
        { "cmu", null, false },
        { "a01", 25, true },
    };

    [Theory]
    [MemberData(nameof(Slides))]
    public void Every_polygon_is_valid_for_jts_and_every_feature_has_an_id_and_measurements(string slide, int? stridePixels, bool thresholds)
    {
        var (result, dir) = Predict(slide == "cmu" ? TestPaths.CmuSmall : TestPaths.A01Window, stridePixels, thresholds);
        string path = Path.Combine(dir, SlideOutputs.Prediction);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var features = doc.RootElement.GetProperty("features").EnumerateArray().ToList();
        Assert.NotEmpty(features);
        var names = result.Card.DisplayClassNames;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        double mpp2 = result.Level0MppX!.Value * result.Level0MppY!.Value;
        var back = AnnotationReader.Read(path);
        Assert.Empty(back.Warnings);
        Assert.Equal(features.Count, back.Annotations.Count);
        for (int i = 0; i < features.Count; i++)
        {
            var feature = features[i];
            var geometry = JtsGeometry.FromGeoJson(feature.GetProperty("geometry"));
            string? problem = JtsGeometry.Problem(geometry);
            Assert.True(problem is null, $"feature {i}: {problem}");

            string id = feature.GetProperty("id").GetString()!;
            Assert.True(Guid.TryParse(id, out _), $"feature {i}: id '{id}' is not a UUID");
            Assert.True(ids.Add(id), $"feature {i}: id {id} repeated");

            var properties = feature.GetProperty("properties");
            string className = properties.GetProperty("classification").GetProperty("name").GetString()!;
            var measurements = properties.GetProperty("measurements");
            Assert.Equal(geometry.Area * mpp2, measurements.GetProperty("Area µm^2").GetDouble(), geometry.Area * mpp2 * 1e-4); // coordinates are written to 3 decimals

            // The mean class probabilities are those of the map cells the polygon covers, found here by rasterising it.
            var alone = result.Geometry.CreateMask();
            AnnotationRasterizer.Paint(alone, [back.Annotations[i] with { ClassCode = 1 }]);
            var cells = Enumerable.Range(0, alone.Pixels.Length).Where(c => alone.Pixels[c] == 1).ToList();
            Assert.All(cells, c => Assert.Equal(names[result.ClassMap[c]], className));
            for (int k = 0; k < names.Count; k++)
            {
                double mean = measurements.GetProperty("Mean probability: " + names[k]).GetDouble();
                Assert.Equal(cells.Average(c => result.ProbabilityMaps[k][c]), mean, 2e-6);
            }

            Assert.Equal(1.0, names.Sum(n => measurements.GetProperty("Mean probability: " + n).GetDouble()), 4);
            Assert.Equal(measurements.EnumerateObject().Select(m => (m.Name, m.Value.GetDouble())),
                back.Annotations[i].Measurements.Select(m => (m.Name, m.Value)));
        }

        // Histo's reader reads it back to the class map.
        var redrawn = result.Geometry.CreateMask(Enumerable.Repeat((byte)255, result.ClassMap.Length).ToArray());
        AnnotationRasterizer.Paint(redrawn, back.Annotations);
        Assert.Equal(result.ClassMap, redrawn.Pixels);
    }

    [Fact]
    public void Corners_where_cmu_outlines_met_themselves_are_never_passed_twice_by_one_ring()
    {
        var (result, dir) = Predict(TestPaths.CmuSmall, 25, thresholds: true);
        var g = result.Geometry;
        Assert.Equal((11, 15), (g.Width, g.Height));
        // The thresholds were chosen on this model's intensities: each cell must lie well clear of them, or float
        // rounding on another CPU (about 1e-6 here) could move it across one and the fixture would hold another map.
        double margin = result.Intensity.Where(v => !double.IsNaN(v)).Min(v => PinchingThresholds.Skip(1).Min(t => Math.Abs(v - t)));
        Assert.True(margin > 1e-4, string.Create(CultureInfo.InvariantCulture, $"a cell's intensity lies {margin:G3} from a threshold"));
        var pinches = PinchCorners(result);
        Assert.True(pinches.Count >= 3, $"{pinches.Count} pinch corners: the fixture no longer exercises them");
        var points = pinches.Select(c => (Math.Round(c.X * g.Level0PerPixelX, 3), Math.Round(c.Y * g.Level0PerPixelY, 3))).ToHashSet();

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, SlideOutputs.Prediction)));
        var ringsAt = points.ToDictionary(p => p, _ => 0);
        foreach (var feature in doc.RootElement.GetProperty("features").EnumerateArray())
        {
            var geometry = feature.GetProperty("geometry");
            List<JsonElement> polygons = geometry.GetProperty("type").GetString() == "Polygon"
                ? [geometry.GetProperty("coordinates")]
                : geometry.GetProperty("coordinates").EnumerateArray().ToList();
            foreach (var ring in polygons.SelectMany(p => p.EnumerateArray()))
            {
                var open = ring.EnumerateArray().SkipLast(1).Select(p => (p[0].GetDouble(), p[1].GetDouble())).ToList();
                foreach (var p in points)
                {
                    int here = open.Count(q => q == p);
                    Assert.True(here <= 1, string.Create(CultureInfo.InvariantCulture, $"a ring passes {p} twice"));
                    ringsAt[p] += here;
                }
            }
        }

        // Each pinch corner is a vertex of the rings on both sides of it: two rings of the diagonal class at least.
        Assert.All(ringsAt, r => Assert.True(r.Value >= 2, $"{r.Key} is a vertex of {r.Value} rings"));
    }
}
