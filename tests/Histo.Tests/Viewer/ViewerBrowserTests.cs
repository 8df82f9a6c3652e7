using System.Diagnostics;
using System.Text.Json;
using Histo.Imaging;
using Xunit.Abstractions;

namespace Histo.Tests.Viewer;

/// <summary>
/// The slide page in a real browser: Debian's headless Chromium driven by playwright-core (tests/e2e/viewer.mjs).
/// Playwright rather than raw DevTools-protocol calls from C#: it waits on page state, drives the mouse wheel and
/// takes screenshots with a few stable calls, and npm ships it without a browser download.
/// </summary>
[Collection(ViewerCollection.Name)]
public class ViewerBrowserTests(ViewerFixture fx, ITestOutputHelper output)
{
    [Fact]
    public void Slide_page_shows_tiles_zooms_and_toggles_the_overlay_in_chromium()
    {
        string e2e = Path.Combine(TestPaths.RepoRoot, "tests", "e2e");
        EnsurePlaywrightInstalled(e2e);
        string shots = Path.Combine(fx.Root, "screenshots");
        Directory.CreateDirectory(shots);

        // Centres of a benign and a normal class-map cell whose neighbours share their class, in level-0 pixels.
        var benignCell = FindUniformCell(fx.ClassMap, 1);
        var normalCell = FindUniformCell(fx.ClassMap, 0);
        var samples = new[] { benignCell, normalCell }
            .Select(c => new[] { (c.X + 0.5) * ViewerFixture.MapCellPixels, (c.Y + 0.5) * ViewerFixture.MapCellPixels }).ToArray();
        var (exitCode, stdout, stderr) = Run("node", e2e, TimeSpan.FromMinutes(3), "viewer.mjs",
            new Uri(fx.Server.Address, "view/A01-window.tif").ToString(), shots, JsonSerializer.Serialize(samples));
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        if (Environment.GetEnvironmentVariable("HISTO_E2E_SCREENSHOTS") is { Length: > 0 } keep)
        {
            // For a person to look at: the fixture folder is deleted after the tests.
            Directory.CreateDirectory(keep);
            foreach (string shot in Directory.EnumerateFiles(shots, "*.png"))
            {
                File.Copy(shot, Path.Combine(keep, Path.GetFileName(shot)), overwrite: true);
            }
        }

        Assert.True(exitCode == 0, $"the browser script failed ({exitCode}):\n{stdout}\n{stderr}");
        using var doc = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var result = doc.RootElement;
        Assert.Empty(result.GetProperty("consoleErrors").EnumerateArray());
        Assert.Empty(result.GetProperty("failedResponses").EnumerateArray());

        var opened = result.GetProperty("opened");
        var zoomed = result.GetProperty("zoomed");
        Assert.True(opened.GetProperty("tilesLoaded").GetInt32() > 0, "tiles were loaded");
        Assert.Empty(opened.GetProperty("errors").EnumerateArray());
        Assert.True(zoomed.GetProperty("zoom").GetDouble() > 3 * opened.GetProperty("zoom").GetDouble(), "the mouse wheel zoomed in");
        Assert.True(zoomed.GetProperty("maxTileLevel").GetInt32() > opened.GetProperty("maxTileLevel").GetInt32(), "zooming loaded finer Deep Zoom levels");
        Assert.True(opened.GetProperty("overlayShown").GetBoolean());
        Assert.False(result.GetProperty("overlayOff").GetProperty("overlayShown").GetBoolean());
        Assert.Equal(3, opened.GetProperty("annotationPolygons").GetInt32()); // 2 from the prediction GeoJSON, 1 from the XML
        Assert.Equal(ViewerFixture.ClassNames, opened.GetProperty("legend").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Matches(@"^\d+(\.\d+)? (µm|mm)$", opened.GetProperty("scalebar").GetString());

        var box = result.GetProperty("viewerBox");
        var viewerArea = (X: (int)box.GetProperty("x").GetDouble(), Y: (int)box.GetProperty("y").GetDouble(),
            W: (int)box.GetProperty("width").GetDouble(), H: (int)box.GetProperty("height").GetDouble());
        var first = Crop(ImageIO.Load(Path.Combine(shots, "1-opened.png")), viewerArea);
        var zoomedOn = Crop(ImageIO.Load(Path.Combine(shots, "2-zoomed.png")), viewerArea);
        var zoomedOff = Crop(ImageIO.Load(Path.Combine(shots, "3-zoomed-overlay-off.png")), viewerArea);
        var classMap = Crop(ImageIO.Load(Path.Combine(shots, "4-zoomed-classmap.png")), viewerArea);
        foreach (var (name, shot) in new[] { ("opened", first), ("zoomed", zoomedOn), ("overlay off", zoomedOff), ("class map", classMap) })
        {
            double variance = LuminanceVariance(shot);
            output.WriteLine($"{name}: luminance variance {variance:0.0}");
            Assert.True(variance > 100, $"the {name} screenshot is not blank (luminance variance {variance:0.0})");
        }

        double toggled = FractionChanged(zoomedOn, zoomedOff);
        double switched = FractionChanged(zoomedOn, classMap);
        output.WriteLine($"pixels changed by the overlay toggle: {toggled:P1}; by switching to the class map: {switched:P1}");
        Assert.True(toggled > 0.3, $"turning the overlay off changed {toggled:P1} of the viewer's pixels");
        Assert.True(switched > 0.3, $"switching to the class map changed {switched:P1} of the viewer's pixels");
        Assert.True(FractionChanged(first, zoomedOn) > 0.3, "zooming changed the view");

        // With the class map opaque, the screen pixel over a benign cell has the Benign colour and the one over a
        // normal cell the Normal colour: the overlay is placed where geometry.json says.
        Assert.True(result.GetProperty("annotationsHidden").GetBoolean());
        var home = ImageIO.Load(Path.Combine(shots, "5-home-classmap-opaque.png"));
        var points = result.GetProperty("samples").EnumerateArray().Select(p => (X: (int)p.GetProperty("x").GetDouble(), Y: (int)p.GetProperty("y").GetDouble())).ToArray();
        AssertColour(home, points[0], (0xe6, 0xc6, 0x19), "benign cell");
        AssertColour(home, points[1], (0x2c, 0xa0, 0x2c), "normal cell");
    }

    [Fact]
    public async Task Pipeline_maps_lie_exactly_on_the_slide_with_sharp_cells_in_chromium()
    {
        string e2e = Path.Combine(TestPaths.RepoRoot, "tests", "e2e");
        EnsurePlaywrightInstalled(e2e);
        string root = TestPaths.NewTempDirectory();
        try
        {
            // The pipeline's own output for CMU-1-Small-Region, from probabilities that change sharply from cell to cell
            // and cover the whole slide: a misplaced or stretched map shows other colours at the sampled cells.
            string served = Path.Combine(root, "served"), predictions = Path.Combine(root, "predictions"), shots = Path.Combine(root, "shots");
            Directory.CreateDirectory(served);
            Directory.CreateDirectory(shots);
            File.Copy(TestPaths.CmuSmall, Path.Combine(served, "cmu-1-small-region.svs"));
            var result = Histo.Tests.Inference.PipelineMaps.Checkered(Path.Combine(served, "cmu-1-small-region.svs"));
            Histo.Outputs.SlideOutputs.Write(predictions, result, new Histo.Outputs.SlideProvenance("checkered"));
            var g = result.Geometry;
            var cells = new[] { (1, 1), (g.Width - 2, 1), (1, g.Height - 2), (g.Width - 2, g.Height - 2), (g.Width / 2, g.Height / 2), (g.Width / 3, 2 * g.Height / 3) };
            var samples = cells.Select(c => new[] { (c.Item1 + 0.5) * g.Level0PerPixelX, (c.Item2 + 0.5) * g.Level0PerPixelY }).ToArray();

            await using var server = await Histo.Viewer.ViewerServer.StartAsync(new Histo.Viewer.ViewerOptions { SlidesFolder = served, PredictionsFolder = predictions, Port = 0 });
            var (exitCode, stdout, stderr) = Run("node", e2e, TimeSpan.FromMinutes(3), "alignment.mjs",
                new Uri(server.Address, "view/cmu-1-small-region.svs").ToString(), shots, JsonSerializer.Serialize(samples));
            output.WriteLine(stdout);
            output.WriteLine(stderr);
            Assert.True(exitCode == 0, $"the browser script failed ({exitCode}):\n{stdout}\n{stderr}");
            using var doc = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
            var report = doc.RootElement;
            Assert.Empty(report.GetProperty("consoleErrors").EnumerateArray());
            Assert.Empty(report.GetProperty("failedResponses").EnumerateArray());
            Assert.Equal(["heatmap", "classmap"], report.GetProperty("kindsOffered").EnumerateArray().Select(e => e.GetString()!).ToArray());

            var heatColours = Histo.Maps.MapRendering.ColorizeIntensity(result.Intensity.Select(v => (float)v).ToArray(), g.Width, g.Height);
            using var http = new HttpClient { BaseAddress = server.Address };
            using var described = JsonDocument.Parse(await http.GetStringAsync("/api/slides/cmu-1-small-region.svs"));
            var classColours = described.RootElement.GetProperty("prediction").GetProperty("classes").EnumerateArray()
                .Select(c => { var (r, gr, b) = Histo.Viewer.ClassColors.ToRgb(c.GetProperty("color").GetString()!); return ((int)r, (int)gr, (int)b); }).ToArray();
            foreach (string kind in new[] { "heatmap", "classmap" })
            {
                var seen = report.GetProperty("kinds").GetProperty(kind);
                var slide = seen.GetProperty("slideBounds");
                Assert.True(seen.GetProperty("mapBounds").ValueKind == JsonValueKind.Object, $"the {kind} is not on the page");
                var map = seen.GetProperty("mapBounds");
                foreach (string side in new[] { "left", "top", "right", "bottom" })
                {
                    Assert.True(Math.Abs(map.GetProperty(side).GetDouble() - slide.GetProperty(side).GetDouble()) < 1.5,
                        $"the {kind}'s {side} edge is at {map.GetProperty(side).GetDouble():0.0}, the slide's at {slide.GetProperty(side).GetDouble():0.0}");
                }

                var shot = ImageIO.Load(Path.Combine(shots, $"home-{kind}.png"));
                var points = seen.GetProperty("samples").EnumerateArray().Select(p => (X: (int)p.GetProperty("x").GetDouble(), Y: (int)p.GetProperty("y").GetDouble())).ToArray();
                for (int i = 0; i < cells.Length; i++)
                {
                    int cell = cells[i].Item2 * g.Width + cells[i].Item1;
                    var expected = kind == "heatmap"
                        ? (heatColours.Pixels[cell * 4], heatColours.Pixels[cell * 4 + 1], heatColours.Pixels[cell * 4 + 2])
                        : classColours[result.ClassMap[cell]];
                    AssertColour(shot, points[i], expected, $"{kind} cell {cells[i]}");
                }
            }

            // Zoomed in to 40 screen pixels per cell, the opaque class map shows only class colours: no smoothing between cells.
            // (the part of the viewer the slide covers: 888 of its 920 screen pixels across at this zoom).
            var box = report.GetProperty("viewerBox");
            var covered = report.GetProperty("zoomedSlideBounds");
            int left = (int)Math.Ceiling(Math.Max(box.GetProperty("x").GetDouble(), covered.GetProperty("left").GetDouble())) + 1;
            int top = (int)Math.Ceiling(Math.Max(box.GetProperty("y").GetDouble(), covered.GetProperty("top").GetDouble())) + 1;
            int right = (int)Math.Floor(Math.Min(box.GetProperty("x").GetDouble() + box.GetProperty("width").GetDouble(), covered.GetProperty("right").GetDouble())) - 1;
            int bottom = (int)Math.Floor(Math.Min(box.GetProperty("y").GetDouble() + box.GetProperty("height").GetDouble(), covered.GetProperty("bottom").GetDouble())) - 1;
            var zoomed = Crop(ImageIO.Load(Path.Combine(shots, "zoomed-classmap.png")), (left, top, right - left, bottom - top));
            int blended = 0, total = zoomed.Width * zoomed.Height;
            for (int i = 0; i < total; i++)
            {
                int r = zoomed.Pixels[i * 4], gr = zoomed.Pixels[i * 4 + 1], b = zoomed.Pixels[i * 4 + 2];
                blended += classColours.Any(c => Math.Abs(r - c.Item1) <= 6 && Math.Abs(gr - c.Item2) <= 6 && Math.Abs(b - c.Item3) <= 6) ? 0 : 1;
            }

            output.WriteLine($"zoomed class map: {blended} of {total} pixels are not a class colour");
            Assert.True(blended < total / 200, $"{blended} of {total} screen pixels of the zoomed class map are blends of class colours");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The cell nearest the map's centre whose 3 x 3 neighbourhood is all <paramref name="value"/> (away from the viewer's controls).</summary>
    private static (int X, int Y) FindUniformCell(byte[] classMap, byte value)
    {
        int side = (int)Math.Sqrt(classMap.Length);
        bool Uniform(int x, int y) =>
            Enumerable.Range(-1, 3).All(dy => Enumerable.Range(-1, 3).All(dx => classMap[(y + dy) * side + x + dx] == value));
        var cells = from y in Enumerable.Range(1, side - 2)
                    from x in Enumerable.Range(1, side - 2)
                    where Uniform(x, y)
                    orderby Math.Abs(x - side / 2) + Math.Abs(y - side / 2)
                    select (x, y);
        return cells.Any() ? cells.First() : throw new InvalidOperationException($"no 3 x 3 block of class {value} in the class map");
    }

    internal static void AssertColour(RgbaImage image, (int X, int Y) point, (int R, int G, int B) expected, string what)
    {
        var (r, g, b, _) = image.GetPixel(point.X, point.Y);
        Assert.True(Math.Abs(r - expected.R) <= 12 && Math.Abs(g - expected.G) <= 12 && Math.Abs(b - expected.B) <= 12,
            $"{what} at screen ({point.X}, {point.Y}) is ({r}, {g}, {b}), expected about ({expected.R}, {expected.G}, {expected.B})");
    }

    internal static void EnsurePlaywrightInstalled(string e2e)
    {
        if (Directory.Exists(Path.Combine(e2e, "node_modules", "playwright-core")))
        {
            return;
        }

        var (code, stdout, stderr) = Run("npm", e2e, TimeSpan.FromMinutes(5), "ci", "--no-audit", "--no-fund", "--loglevel=error");
        Assert.True(code == 0, $"npm ci in tests/e2e failed:\n{stdout}\n{stderr}");
    }

    internal static (int ExitCode, string StdOut, string StdErr) Run(string program, string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        // The browser must not inherit the test host's allocator preload.
        start.Environment.Remove("LD_PRELOAD");
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish within {timeout}");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static RgbaImage Crop(RgbaImage image, (int X, int Y, int W, int H) area)
    {
        int x = Math.Clamp(area.X, 0, image.Width - 1), y = Math.Clamp(area.Y, 0, image.Height - 1);
        return image.Crop(x, y, Math.Min(area.W, image.Width - x), Math.Min(area.H, image.Height - y));
    }

    private static double LuminanceVariance(RgbaImage image)
    {
        double sum = 0, sumSq = 0;
        int n = image.Width * image.Height;
        var p = image.Pixels;
        for (int i = 0; i < p.Length; i += 4)
        {
            double l = 0.299 * p[i] + 0.587 * p[i + 1] + 0.114 * p[i + 2];
            sum += l;
            sumSq += l * l;
        }

        double mean = sum / n;
        return sumSq / n - mean * mean;
    }

    private static double FractionChanged(RgbaImage a, RgbaImage b)
    {
        int changed = 0;
        for (int i = 0; i < a.Pixels.Length; i += 4)
        {
            int d = Math.Abs(a.Pixels[i] - b.Pixels[i]) + Math.Abs(a.Pixels[i + 1] - b.Pixels[i + 1]) + Math.Abs(a.Pixels[i + 2] - b.Pixels[i + 2]);
            changed += d > 24 ? 1 : 0;
        }

        return changed / (a.Pixels.Length / 4.0);
    }
}
