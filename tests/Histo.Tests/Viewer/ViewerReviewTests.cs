using System.Globalization;
using System.Net;
using System.Text.Json;
using Histo.Imaging;
using Histo.Inference;
using Histo.Outputs;
using Histo.Viewer;
using Xunit.Abstractions;

namespace Histo.Tests.Viewer;

/// <summary>
/// A01-window.tif served beside its real label mask (A01-window-labels.png, BACH codes), with the pipeline's own
/// prediction folder for it (written by <see cref="SlideOutputs.Write(string, SlideInferenceResult, SlideProvenance, int, CancellationToken)"/>
/// from an IDC model's probabilities that change sharply from cell to cell: 50 x 50 cells of 100 level-0 pixels).
/// </summary>
public sealed class ReviewFixture : IAsyncLifetime
{
    public string Root { get; } = TestPaths.NewTempDirectory();

    public SlideInferenceResult Result { get; private set; } = null!;

    public ViewerServer Server { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>The label mask (one code per level-0 pixel of the 5000 x 5000 window).</summary>
    public (byte[] Pixels, int Width, int Height) Labels { get; private set; }

    public async Task InitializeAsync()
    {
        string served = Path.Combine(Root, "served"), predictions = Path.Combine(Root, "predictions");
        Directory.CreateDirectory(served);
        string slide = Path.Combine(served, "A01-window.tif");
        File.Copy(TestPaths.A01Window, slide);
        File.Copy(TestPaths.A01Labels, Path.Combine(served, "A01-window-labels.png"));
        Result = Histo.Tests.Inference.PipelineMaps.Checkered(slide);
        SlideOutputs.Write(predictions, Result, new SlideProvenance("checkered"));
        Labels = ImageIO.LoadGray(TestPaths.A01Labels);
        Server = await ViewerServer.StartAsync(new ViewerOptions { SlidesFolder = served, PredictionsFolder = predictions, Port = 0 });
        Http = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>The centre of map cell (x, y), level-0 pixels.</summary>
    public double[] CellCentre(int x, int y) => [(x + 0.5) * Result.Geometry.Level0PerPixelX, (y + 0.5) * Result.Geometry.Level0PerPixelY];

    /// <summary>The cell nearest the map's centre with class <paramref name="value"/>.</summary>
    public (int X, int Y) CellOfClass(byte value)
    {
        var g = Result.Geometry;
        return (from y in Enumerable.Range(2, g.Height - 4)
                from x in Enumerable.Range(2, g.Width - 4)
                where Result.ClassMap[y * g.Width + x] == value
                orderby Math.Abs(x - g.Width / 2) + Math.Abs(y - g.Height / 2), y, x
                select (x, y)).First();
    }

    /// <summary>A level-0 point of the label mask whose 81 x 81 neighbourhood all holds <paramref name="code"/>, nearest the window's centre.</summary>
    public double[] TruthPointOf(byte code)
    {
        var (pixels, width, height) = Labels;
        bool Uniform(int cx, int cy)
        {
            for (int y = cy - 40; y <= cy + 40; y += 4)
            {
                for (int x = cx - 40; x <= cx + 40; x += 4)
                {
                    if (pixels[y * width + x] != code)
                    {
                        return false;
                    }
                }
            }

            return true;
        }

        var found = from y in Enumerable.Range(1, height / 50 - 2).Select(i => i * 50)
                    from x in Enumerable.Range(1, width / 50 - 2).Select(i => i * 50)
                    where Uniform(x, y)
                    orderby Math.Abs(x - width / 2) + Math.Abs(y - height / 2), y, x
                    select new double[] { x, y };
        return found.First();
    }
}

/// <summary>
/// What a reviewer needs next to the prediction: a ground-truth layer (the label mask or annotation file beside the
/// slide), per-class toggles, the class probabilities under the pointer and a link that reopens the same view.
/// </summary>
[Collection(ViewerCollection.Name)]
public class ViewerReviewTests(ReviewFixture fx, ViewerFixture viewer, ITestOutputHelper output) : IClassFixture<ReviewFixture>
{
    [Fact]
    public async Task Probabilities_at_a_level0_point_are_those_of_the_map_cell_holding_it()
    {
        using var described = JsonDocument.Parse(await fx.Http.GetStringAsync("/api/slides/A01-window.tif"));
        Assert.Equal("/api/probabilities/A01-window.tif", described.RootElement.GetProperty("prediction").GetProperty("probabilities").GetString());

        var g = fx.Result.Geometry;
        foreach (var (cx, cy) in new[] { (0, 0), (3, 4), (20, 31), (g.Width - 1, g.Height - 1) })
        {
            // A point off the cell's centre: the cell holding it answers.
            double x = (cx + 0.9) * g.Level0PerPixelX, y = (cy + 0.2) * g.Level0PerPixelY;
            using var doc = JsonDocument.Parse(await fx.Http.GetStringAsync(string.Create(CultureInfo.InvariantCulture, $"/api/probabilities/A01-window.tif?x={x}&y={y}")));
            var r = doc.RootElement;
            Assert.Equal(cx, r.GetProperty("column").GetInt32());
            Assert.Equal(cy, r.GetProperty("row").GetInt32());
            Assert.True(r.GetProperty("tissue").GetBoolean());
            var classes = r.GetProperty("classes").EnumerateArray().ToList();
            Assert.Equal(g.Classes, classes.Select(c => c.GetProperty("name").GetString()!).ToArray());
            for (int k = 0; k < classes.Count; k++)
            {
                double expected = fx.Result.ProbabilityMaps[k][cy * g.Width + cx];
                Assert.Equal(expected, classes[k].GetProperty("probability").GetDouble(), 5);
            }

            // The checkered model: the IDC probability is ((7x + 13y) mod 10) / 9.
            Assert.Equal(((7 * cx + 13 * cy) % 10) / 9.0, classes[1].GetProperty("probability").GetDouble(), 5);
        }

        using (var outside = JsonDocument.Parse(await fx.Http.GetStringAsync("/api/probabilities/A01-window.tif?x=-10&y=20")))
        {
            Assert.Equal(JsonValueKind.Null, outside.RootElement.GetProperty("column").ValueKind);
            Assert.False(outside.RootElement.GetProperty("tissue").GetBoolean());
            Assert.Empty(outside.RootElement.GetProperty("classes").EnumerateArray());
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Http.GetAsync("/api/probabilities/A01-window.tif?x=10")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Http.GetAsync("/api/probabilities/A01-window.tif?x=ten&y=3")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Http.GetAsync("/api/probabilities/A01-window.tif?x=NaN&y=3")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Http.GetAsync("/api/probabilities/no-such.tif?x=1&y=1")).StatusCode);
        // A prediction folder without a patch table has no probabilities to show.
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.Http.GetAsync("/api/probabilities/A01-window.tif?x=1&y=1")).StatusCode);
    }

    [Fact]
    public async Task Class_map_leaves_the_hidden_classes_transparent()
    {
        var all = ImageIO.Decode(await fx.Http.GetByteArrayAsync("/predictions/A01-window.tif/classmap.png"));
        var hidden = ImageIO.Decode(await fx.Http.GetByteArrayAsync("/predictions/A01-window.tif/classmap.png?hide=1"));
        var g = fx.Result.Geometry;
        Assert.Equal((g.Width, g.Height), (all.Width, all.Height));
        int hiddenCells = 0;
        for (int cell = 0; cell < fx.Result.ClassMap.Length; cell++)
        {
            int x = cell % g.Width, y = cell / g.Width;
            Assert.Equal(255, all.GetPixel(x, y).A);
            bool isClass1 = fx.Result.ClassMap[cell] == 1;
            Assert.Equal(isClass1 ? 0 : 255, hidden.GetPixel(x, y).A);
            if (!isClass1)
            {
                Assert.Equal(all.GetPixel(x, y), hidden.GetPixel(x, y));
            }

            hiddenCells += isClass1 ? 1 : 0;
        }

        Assert.InRange(hiddenCells, g.Width * g.Height / 4, g.Width * g.Height * 3 / 4);
        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Http.GetAsync("/predictions/A01-window.tif/classmap.png?hide=one")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Http.GetAsync("/predictions/A01-window.tif/classmap.png?hide=256")).StatusCode);
    }

    [Fact]
    public async Task Label_mask_beside_the_slide_is_its_ground_truth_in_class_colours()
    {
        using var described = JsonDocument.Parse(await fx.Http.GetStringAsync("/api/slides/A01-window.tif"));
        var mask = Assert.Single(described.RootElement.GetProperty("truthMasks").EnumerateArray().ToList());
        Assert.Equal("A01-window-labels.png", mask.GetProperty("source").GetString());
        Assert.Equal("/truth/A01-window.tif/A01-window-labels.png", mask.GetProperty("url").GetString());
        var classes = mask.GetProperty("classes").EnumerateArray().ToList();
        Assert.Equal(["Normal", "Benign", "InSitu", "Invasive"], classes.Select(c => c.GetProperty("name").GetString()!).ToArray());
        var colours = classes.Select(c => ClassColors.ToRgb(c.GetProperty("color").GetString()!)).ToArray();
        Assert.Equal(4, colours.Distinct().Count());
        Assert.False(mask.TryGetProperty("error", out _));
        // The mask is the slide's ground truth, not a slide of its own.
        using (var list = JsonDocument.Parse(await fx.Http.GetStringAsync("/api/slides")))
        {
            Assert.Equal(["A01-window.tif"], list.RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToArray());
        }

        var (labels, width, height) = fx.Labels;
        var shown = ImageIO.Decode(await fx.Http.GetByteArrayAsync("/truth/A01-window.tif/A01-window-labels.png"));
        var normalOff = ImageIO.Decode(await fx.Http.GetByteArrayAsync("/truth/A01-window.tif/A01-window-labels.png?hide=0"));
        // 5000 x 5000 is sent as 4096 x 4096, each pixel the mask's value at its centre.
        Assert.Equal((SlideLibrary.MaxTruthMaskSidePixels, SlideLibrary.MaxTruthMaskSidePixels), (shown.Width, shown.Height));
        var seen = new HashSet<int>();
        for (int y = 0; y < shown.Height; y += 7)
        {
            for (int x = 0; x < shown.Width; x += 7)
            {
                int code = labels[(int)((y + 0.5) * height / shown.Height) * width + (int)((x + 0.5) * width / shown.Width)];
                seen.Add(code);
                var (r, gr, b, a) = shown.GetPixel(x, y);
                Assert.Equal((colours[code].R, colours[code].G, colours[code].B, (byte)255), (r, gr, b, a));
                Assert.Equal(code == 0 ? 0 : 255, normalOff.GetPixel(x, y).A);
            }
        }

        Assert.Contains(0, seen);
        Assert.Contains(1, seen); // the benign duct at the window's right edge

        Assert.Equal(HttpStatusCode.NotFound, (await fx.Http.GetAsync("/truth/A01-window.tif/A01-window.tif")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Http.GetAsync("/truth/A01-window.tif/other-labels.png")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Http.GetAsync("/truth/A01-window.tif/A01-window-labels.png?hide=-1")).StatusCode);
    }

    [Fact]
    public async Task Annotation_file_named_like_the_slide_is_its_ground_truth_with_bach_class_names()
    {
        string root = TestPaths.NewTempDirectory();
        try
        {
            // Paired by name as histo score and histo tune pair them: A10.svs with A10-annotations.xml (BACH's A10 regions).
            File.Copy(TestPaths.TinySvs, Path.Combine(root, "A10.svs"));
            File.Copy(TestPaths.Shared("annotations", "bach", "A10.xml"), Path.Combine(root, "A10-annotations.xml"));
            await using var server = await ViewerServer.StartAsync(new ViewerOptions { SlidesFolder = root, Port = 0 });
            using var http = new HttpClient { BaseAddress = server.Address };
            using var described = JsonDocument.Parse(await http.GetStringAsync("/api/slides/A10.svs"));
            Assert.Equal(["A10-annotations.xml"], described.RootElement.GetProperty("annotationFiles").EnumerateArray().Select(e => e.GetString()!).ToArray());
            Assert.Empty(described.RootElement.GetProperty("truthMasks").EnumerateArray());

            using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/annotations/A10.svs"));
            var layer = Assert.Single(doc.RootElement.GetProperty("layers").EnumerateArray().ToList());
            Assert.Equal("ground truth", layer.GetProperty("name").GetString());
            Assert.Equal("A10-annotations.xml", layer.GetProperty("source").GetString());
            var polygons = layer.GetProperty("polygons").EnumerateArray().ToList();
            // "In situ carcinoma" x 8, "Invasive carcinoma", "Normal": shown under the BACH class they map to.
            Assert.Equal(10, polygons.Count);
            var byLabel = polygons.GroupBy(p => p.GetProperty("label").GetString()!).ToDictionary(g => g.Key, g => g.ToList());
            Assert.Equal(["InSitu", "Invasive", "Normal"], byLabel.Keys.Order(StringComparer.Ordinal).ToArray());
            Assert.Equal(8, byLabel["InSitu"].Count);
            Assert.Single(byLabel["InSitu"].Select(p => p.GetProperty("color").GetString()).Distinct());
            Assert.Equal(3, byLabel.Values.Select(v => v[0].GetProperty("color").GetString()).Distinct().Count());

            // A hostile truth file (an external entity) is refused in one line, nothing read through it.
            File.Copy(TestPaths.TinySvs, Path.Combine(root, "B.svs"));
            File.WriteAllText(Path.Combine(root, "B.xml"), "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><Annotations>&e;</Annotations>");
            var hostile = await http.GetAsync("/api/annotations/B.svs");
            string reason = await hostile.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.UnprocessableEntity, hostile.StatusCode);
            Assert.Contains("B.xml", reason, StringComparison.Ordinal);
            Assert.DoesNotContain("root:", reason, StringComparison.Ordinal);
            Assert.DoesNotContain(root, reason, StringComparison.Ordinal);
            Assert.Single(reason.Trim().Split('\n'));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Label_mask_with_codes_above_bach_is_refused_with_a_reason()
    {
        string root = TestPaths.NewTempDirectory();
        try
        {
            File.Copy(TestPaths.TinySvs, Path.Combine(root, "tiny.svs"));
            var bad = Enumerable.Repeat((byte)7, 20 * 20).ToArray();
            using (var slide = Histo.Slides.Slide.Open(TestPaths.TinySvs))
            {
                ImageIO.SaveGray(Path.Combine(root, "tiny_mask.png"), bad, 20, (int)Math.Round(20.0 * slide.Height / slide.Width));
            }

            await using var server = await ViewerServer.StartAsync(new ViewerOptions { SlidesFolder = root, Port = 0 });
            using var http = new HttpClient { BaseAddress = server.Address };
            var response = await http.GetAsync("/truth/tiny.svs/tiny_mask.png");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Contains("holds the value 7; expected class codes 0..3", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Reviewer_toggles_classes_sees_truth_and_probabilities_and_reopens_the_view_from_its_link_in_chromium()
    {
        string e2e = Path.Combine(TestPaths.RepoRoot, "tests", "e2e");
        ViewerBrowserTests.EnsurePlaywrightInstalled(e2e);
        string shots = Path.Combine(fx.Root, "screenshots");
        Directory.CreateDirectory(shots);

        var g = fx.Result.Geometry;
        var class0 = fx.CellOfClass(0);
        var class1 = fx.CellOfClass(1);
        var probe = (X: 24, Y: 26);
        var plan = new
        {
            mapPoints = new[] { fx.CellCentre(class0.X, class0.Y), fx.CellCentre(class1.X, class1.Y) },
            truthPoints = new[] { fx.TruthPointOf(0), fx.TruthPointOf(1) },
            probe = fx.CellCentre(probe.X, probe.Y),
            view = new { x = 3000.0, y = 2200.0, zoom = 0.5 },
        };
        var (exitCode, stdout, stderr) = ViewerBrowserTests.Run("node", e2e, TimeSpan.FromMinutes(3), "review.mjs",
            new Uri(fx.Server.Address, "view/A01-window.tif").ToString(), shots, JsonSerializer.Serialize(plan));
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        if (Environment.GetEnvironmentVariable("HISTO_E2E_SCREENSHOTS") is { Length: > 0 } keep)
        {
            // For a person to look at: the fixture folder is deleted after the tests.
            Directory.CreateDirectory(keep);
            foreach (string shot in Directory.EnumerateFiles(shots, "*.png"))
            {
                File.Copy(shot, Path.Combine(keep, "review-" + Path.GetFileName(shot)), overwrite: true);
            }
        }

        Assert.True(exitCode == 0, $"the browser script failed ({exitCode}):\n{stdout}\n{stderr}");
        using var doc = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var result = doc.RootElement;
        Assert.Empty(result.GetProperty("consoleErrors").EnumerateArray());
        Assert.Empty(result.GetProperty("failedResponses").EnumerateArray());

        // Class colours as the page gets them.
        using var page = JsonDocument.Parse(await fx.Http.GetStringAsync("/api/slides/A01-window.tif"));
        var described = page.RootElement;
        var predictionColours = described.GetProperty("prediction").GetProperty("classes").EnumerateArray()
            .Select(c => ClassColors.ToRgb(c.GetProperty("color").GetString()!)).Select(c => ((int)c.R, (int)c.G, (int)c.B)).ToArray();
        var truthColours = described.GetProperty("truthMasks")[0].GetProperty("classes").EnumerateArray()
            .Select(c => ClassColors.ToRgb(c.GetProperty("color").GetString()!)).Select(c => ((int)c.R, (int)c.G, (int)c.B)).ToArray();
        Assert.Equal(g.Classes, result.GetProperty("classLegend").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal(["Normal", "Benign", "InSitu", "Invasive"], result.GetProperty("truthLegend").EnumerateArray().Select(e => e.GetString()!).ToArray());

        // Per-class toggle: with class 1 switched off, its cell shows the slide, the class-0 cell keeps its colour.
        var (classMap, classMapOff) = (Shot(result, "1-classmap"), Shot(result, "2-classmap-class1-off"));
        ViewerBrowserTests.AssertColour(classMap.Image, classMap.Points[0], predictionColours[0], "class-0 cell");
        ViewerBrowserTests.AssertColour(classMap.Image, classMap.Points[1], predictionColours[1], "class-1 cell");
        ViewerBrowserTests.AssertColour(classMapOff.Image, classMapOff.Points[0], predictionColours[0], "class-0 cell with class 1 off");
        AssertNotColour(classMapOff.Image, classMapOff.Points[1], predictionColours[1], "class-1 cell with class 1 off");

        // Ground truth: the label mask lies on the slide in the truth class colours; switching Normal off uncovers the slide.
        var (truth, truthOff) = (Shot(result, "3-truth"), Shot(result, "4-truth-class0-off"));
        ViewerBrowserTests.AssertColour(truth.Image, truth.Points[0], truthColours[0], "truth Normal point");
        ViewerBrowserTests.AssertColour(truth.Image, truth.Points[1], truthColours[1], "truth Benign point");
        AssertNotColour(truthOff.Image, truthOff.Points[0], truthColours[0], "truth Normal point with Normal off");
        ViewerBrowserTests.AssertColour(truthOff.Image, truthOff.Points[1], truthColours[1], "truth Benign point with Normal off");

        // The readout under the pointer: the probe cell's probabilities, by class name.
        var readout = result.GetProperty("readout");
        Assert.Equal(probe.X, readout.GetProperty("column").GetInt32());
        Assert.Equal(probe.Y, readout.GetProperty("row").GetInt32());
        Assert.True(result.GetProperty("readoutVisible").GetBoolean());
        string text = result.GetProperty("readoutText").GetString()!;
        var values = readout.GetProperty("classes").EnumerateArray().ToList();
        for (int k = 0; k < g.Classes.Count; k++)
        {
            double expected = fx.Result.ProbabilityMaps[k][probe.Y * g.Width + probe.X];
            Assert.Equal(expected, values[k].GetProperty("probability").GetDouble(), 5);
            Assert.Contains(g.Classes[k], text, StringComparison.Ordinal);
            Assert.Contains((100 * expected).ToString("0.0", CultureInfo.InvariantCulture) + " %", text, StringComparison.Ordinal);
        }

        // The link reopens the same view in a fresh page: place, zoom, layer and toggles.
        Assert.StartsWith(new Uri(fx.Server.Address, "view/A01-window.tif#").ToString(), result.GetProperty("linkAbsolute").GetString(), StringComparison.Ordinal);
        var original = result.GetProperty("original");
        var reopened = result.GetProperty("reopened");
        Assert.Equal(plan.view.zoom, original.GetProperty("zoom").GetDouble(), 3);
        Assert.Equal(plan.view.x, original.GetProperty("x").GetDouble(), 0);
        double zoom = original.GetProperty("zoom").GetDouble();
        Assert.True(Math.Abs(reopened.GetProperty("zoom").GetDouble() / zoom - 1) < 1e-3, $"zoom {reopened.GetProperty("zoom").GetDouble()} reopened, {zoom} linked");
        foreach (string axis in new[] { "x", "y" })
        {
            double shift = Math.Abs(reopened.GetProperty(axis).GetDouble() - original.GetProperty(axis).GetDouble()) * zoom;
            Assert.True(shift < 1, $"the reopened view's centre is {shift:0.00} screen pixels off in {axis}");
        }

        foreach (string field in new[] { "overlayShown", "overlayKind", "hiddenClasses", "truthShown", "truthHidden", "classToggles" })
        {
            Assert.Equal(original.GetProperty(field).GetRawText(), reopened.GetProperty(field).GetRawText());
        }

        Assert.Equal("classmap", reopened.GetProperty("overlayKind").GetString());
        Assert.Equal("[1]", reopened.GetProperty("hiddenClasses").GetRawText());
        Assert.Equal("[true]", reopened.GetProperty("truthShown").GetRawText());
        Assert.Equal("[0]", reopened.GetProperty("truthHidden").GetRawText());
    }

    private static (RgbaImage Image, (int X, int Y)[] Points) Shot(JsonElement result, string name)
    {
        var shot = result.GetProperty("shots").GetProperty(name);
        var points = shot.GetProperty("points").EnumerateArray().Select(p => ((int)p.GetProperty("x").GetDouble(), (int)p.GetProperty("y").GetDouble())).ToArray();
        return (ImageIO.Load(shot.GetProperty("file").GetString()!), points);
    }

    private static void AssertNotColour(RgbaImage image, (int X, int Y) point, (int R, int G, int B) colour, string what)
    {
        var (r, g, b, _) = image.GetPixel(point.X, point.Y);
        int distance = Math.Abs(r - colour.R) + Math.Abs(g - colour.G) + Math.Abs(b - colour.B);
        Assert.True(distance > 60, $"{what} at screen ({point.X}, {point.Y}) is ({r}, {g}, {b}), still about ({colour.R}, {colour.G}, {colour.B})");
    }
}
