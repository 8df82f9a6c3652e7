using System.Net;
using System.Text.Json;
using System.Xml.Linq;
using Histo.Imaging;
using Histo.Slides;

namespace Histo.Tests.Viewer;

[Collection(ViewerCollection.Name)]
public class ViewerHttpTests(ViewerFixture fx)
{
    [Fact]
    public async Task Index_lists_slides_with_size_mpp_vendor_and_thumbnail_links()
    {
        var response = await fx.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        string html = await response.Content.ReadAsStringAsync();
        using var cmu = Slide.Open(TestPaths.CmuSmall);
        Assert.Contains("data-slide=\"cmu-1-small-region.svs\"", html, StringComparison.Ordinal);
        Assert.Contains($"{cmu.Width:N0} × {cmu.Height:N0}", html, StringComparison.Ordinal);
        Assert.Contains("<td>0.499</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>aperio</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>generic-tiff</td>", html, StringComparison.Ordinal);
        Assert.Contains("src=\"/thumbnail/cmu-1-small-region.svs\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/view/sub%20dir/tiny%20%C3%BC.svs\"", html, StringComparison.Ordinal);
        Assert.Contains("data-slide=\"inside-link.svs\"", html, StringComparison.Ordinal);
        Assert.Contains("cannot open: broken.svs", html, StringComparison.Ordinal);
        Assert.DoesNotContain("outside-link", html, StringComparison.Ordinal);
        Assert.DoesNotContain("abs-link", html, StringComparison.Ordinal);
        Assert.DoesNotContain("linkdir", html, StringComparison.Ordinal);
        Assert.DoesNotContain(fx.Root, html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slide_list_json_matches_the_slides()
    {
        using var doc = JsonDocument.Parse(await fx.Http.GetStringAsync("/api/slides"));
        var byName = doc.RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.Equal(
            ["A01-window.tif", "broken.svs", "cmu-1-small-region.svs", "inside-link.svs", "sub dir/tiny ü.svs"],
            byName.Keys.Order(StringComparer.Ordinal).ToArray());
        using var a01 = Slide.Open(TestPaths.A01Window);
        var e = byName["A01-window.tif"];
        Assert.Equal(a01.Width, e.GetProperty("width").GetInt64());
        Assert.Equal(a01.Height, e.GetProperty("height").GetInt64());
        Assert.Equal(a01.MppX!.Value, e.GetProperty("mppX").GetDouble(), 9);
        Assert.Equal(a01.LevelCount, e.GetProperty("levelCount").GetInt32());
        Assert.Equal("generic-tiff", e.GetProperty("vendor").GetString());
        Assert.True(e.GetProperty("hasPredictions").GetBoolean());
        Assert.False(byName["cmu-1-small-region.svs"].GetProperty("hasPredictions").GetBoolean());
        Assert.Contains("not a recognised slide", byName["broken.svs"].GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Thumbnail_is_a_jpeg_of_the_slide_within_256_px()
    {
        var response = await fx.Http.GetAsync("/thumbnail/cmu-1-small-region.svs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/jpeg", response.Content.Headers.ContentType?.MediaType);
        var thumb = ImageIO.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.True(thumb.Width <= 256 && thumb.Height <= 256, $"{thumb.Width}x{thumb.Height}");
        Assert.True(thumb.Height > 128, "the longer side uses most of the 256 px");
        Assert.Equal(2220.0 / 2967, (double)thumb.Width / thumb.Height, 2);
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var expected = ImageIO.Resize(slide.GetThumbnail(1024).CompositeOverWhite(), thumb.Width, thumb.Height);
        Assert.True(MeanAbsDiff(expected, thumb) < 6, "thumbnail matches the slide");
    }

    [Fact]
    public async Task Dzi_descriptor_gives_tile_size_overlap_and_level0_size()
    {
        var response = await fx.Http.GetAsync("/A01-window.tif.dzi");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var xml = XDocument.Parse(await response.Content.ReadAsStringAsync());
        XNamespace ns = "http://schemas.microsoft.com/deepzoom/2008";
        var image = xml.Root!;
        Assert.Equal(ns + "Image", image.Name);
        Assert.Equal("254", image.Attribute("TileSize")!.Value);
        Assert.Equal("1", image.Attribute("Overlap")!.Value);
        Assert.Equal("jpeg", image.Attribute("Format")!.Value);
        Assert.Equal("5000", image.Element(ns + "Size")!.Attribute("Width")!.Value);
        Assert.Equal("5000", image.Element(ns + "Size")!.Attribute("Height")!.Value);
    }

    [Theory]
    // 5000 px: 14 Deep Zoom levels (1 px ... 5000 px); level 13 has 20 x 20 tiles of 254 px, 1 px overlap inside.
    [InlineData(13, 0, 0, 255, 255)]
    [InlineData(13, 1, 1, 256, 256)]
    [InlineData(13, 19, 19, 175, 175)]
    [InlineData(13, 19, 0, 175, 255)]
    [InlineData(0, 0, 0, 1, 1)]
    [InlineData(8, 0, 0, 157, 157)]
    public async Task Tiles_have_deep_zoom_sizes(int level, int column, int row, int width, int height)
    {
        var response = await fx.Http.GetAsync($"/A01-window.tif_files/{level}/{column}_{row}.jpeg");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/jpeg", response.Content.Headers.ContentType?.MediaType);
        var tile = ImageIO.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((width, height), (tile.Width, tile.Height));
    }

    [Fact]
    public async Task Tiles_are_read_from_the_best_level_and_resized_by_the_rest()
    {
        using var slide = Slide.Open(TestPaths.A01Window);
        // Deep Zoom level 11 = downsample 4 = slide level 2: read as is. Tile (1, 2) starts 1 px before 254 x (1, 2).
        var direct = await TileAsync("A01-window.tif", 11, 1, 2);
        var expected = slide.ReadRegion((254 - 1) * 4, (508 - 1) * 4, 2, 256, 256).CompositeOverWhite();
        Assert.Equal((256, 256), (direct.Width, direct.Height));
        Assert.True(MeanAbsDiff(expected, direct) < 4, "level-2 tile equals the slide's level 2 (JPEG error only)");

        // Level 7 = downsample 64 > the last slide level (32): read level 5 and halve.
        var resized = await TileAsync("A01-window.tif", 7, 0, 0);
        var level5 = slide.ReadRegion(0, 0, 5, (int)slide.Levels[5].Width, (int)slide.Levels[5].Height).CompositeOverWhite();
        var halved = ImageIO.Resize(level5, resized.Width, resized.Height);
        Assert.Equal((79, 79), (resized.Width, resized.Height));
        Assert.True(MeanAbsDiff(halved, resized) < 4, "downsampled tile equals the area-averaged slide level");

        // A shifted tile would differ by far more: the check has teeth.
        var wrong = slide.ReadRegion(254 * 4, 508 * 4, 2, 256, 256).CompositeOverWhite();
        Assert.True(MeanAbsDiff(wrong, direct) > MeanAbsDiff(expected, direct) + 1);
    }

    [Theory]
    [InlineData("/A01-window.tif_files/14/0_0.jpeg")]
    [InlineData("/A01-window.tif_files/-1/0_0.jpeg")]
    [InlineData("/A01-window.tif_files/13/20_0.jpeg")]
    [InlineData("/A01-window.tif_files/13/0_20.jpeg")]
    [InlineData("/A01-window.tif_files/13/-1_0.jpeg")]
    [InlineData("/A01-window.tif_files/13/0_-1.jpeg")]
    [InlineData("/A01-window.tif_files/x/0_0.jpeg")]
    [InlineData("/A01-window.tif_files/13/a_b.jpeg")]
    [InlineData("/A01-window.tif_files/13/1.5_0.jpeg")]
    [InlineData("/A01-window.tif_files/13/+1_0.jpeg")]
    [InlineData("/A01-window.tif_files/13/0x1_0.jpeg")]
    [InlineData("/A01-window.tif_files/99999999999/0_0.jpeg")]
    [InlineData("/A01-window.tif_files/13/99999999999_0.jpeg")]
    [InlineData("/A01-window.tif_files/2147483648/0_0.jpeg")]
    [InlineData("/A01-window.tif_files/13/0_0.png")]
    [InlineData("/A01-window.tif_files/13/0.jpeg")]
    [InlineData("/A01-window.tif_files/13/0_0_0.jpeg")]
    [InlineData("/A01-window.tif_files/0_0.jpeg")]
    [InlineData("/no-such-slide.svs_files/0/0_0.jpeg")]
    [InlineData("/no-such-slide.svs.dzi")]
    [InlineData("/A01-window.xml.dzi")]
    [InlineData("/view/no-such-slide.svs")]
    [InlineData("/thumbnail/no-such-slide.svs")]
    [InlineData("/api/slides/no-such-slide.svs")]
    [InlineData("/api/annotations/no-such-slide.svs")]
    [InlineData("/predictions/cmu-1-small-region.svs/heatmap.png")]
    [InlineData("/predictions/A01-window.tif/patches.csv")]
    [InlineData("/predictions/A01-window.tif")]
    [InlineData("/nothing-here")]
    public async Task Bad_addresses_give_404_never_500(string path)
    {
        var (status, body) = await fx.RawGetAsync(path);
        Assert.Equal(404, status);
        Assert.DoesNotContain(fx.Root, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slide_that_fails_to_open_gives_422_with_a_message()
    {
        foreach (string path in new[] { "/broken.svs.dzi", "/broken.svs_files/0/0_0.jpeg", "/view/broken.svs", "/thumbnail/broken.svs", "/api/slides/broken.svs" })
        {
            var response = await fx.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            string body = await response.Content.ReadAsStringAsync();
            Assert.Contains("broken.svs: not a recognised slide or image format", body, StringComparison.Ordinal);
            Assert.DoesNotContain(fx.Root, body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Slide_page_embeds_openseadragon_dzi_mpp_and_properties()
    {
        var response = await fx.Http.GetAsync("/view/cmu-1-small-region.svs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        string html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<script src=\"/static/openseadragon/openseadragon.min.js\"></script>", html, StringComparison.Ordinal);
        // The page's parts come before the page script that uses them.
        Assert.Contains("<script src=\"/static/viewer-scalebar.js\"></script>\n<script src=\"/static/viewer-link.js\"></script>\n<script src=\"/static/viewer.js\"></script>", html, StringComparison.Ordinal);
        Assert.Contains("<th>aperio.Filename</th><td>CMU-1</td>", html, StringComparison.Ordinal);
        Assert.Contains("<th>MPP</th><td>0.499 (Vendor)</td>", html, StringComparison.Ordinal);
        int start = html.IndexOf("<script type=\"application/json\" id=\"slide-config\">", StringComparison.Ordinal);
        Assert.True(start > 0);
        start = html.IndexOf('>', start) + 1;
        string json = html[start..html.IndexOf("</script>", start, StringComparison.Ordinal)];
        using var config = JsonDocument.Parse(json);
        Assert.Equal("/cmu-1-small-region.svs.dzi", config.RootElement.GetProperty("deepZoom").GetProperty("dzi").GetString());
        Assert.Equal(0.499, config.RootElement.GetProperty("mppX").GetDouble(), 6);
        Assert.Equal(JsonValueKind.Null, config.RootElement.GetProperty("prediction").ValueKind);
    }

    [Fact]
    public async Task Slide_page_escapes_names_and_serves_non_ascii_paths()
    {
        var response = await fx.Http.GetAsync("/view/sub%20dir/tiny%20%C3%BC.svs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string html = await response.Content.ReadAsStringAsync();
        Assert.Contains("/sub%20dir/tiny%20%C3%BC.svs.dzi", html, StringComparison.Ordinal);
        var tile = await fx.Http.GetAsync("/sub%20dir/tiny%20%C3%BC.svs_files/4/0_0.jpeg");
        Assert.Equal(HttpStatusCode.OK, tile.StatusCode);
        var image = ImageIO.Decode(await tile.Content.ReadAsByteArrayAsync());
        Assert.Equal((16, 16), (image.Width, image.Height));
    }

    [Fact]
    public async Task Slide_info_json_describes_slide_and_prediction()
    {
        using var doc = JsonDocument.Parse(await fx.Http.GetStringAsync("/api/slides/A01-window.tif"));
        var root = doc.RootElement;
        Assert.Equal(6, root.GetProperty("levels").GetArrayLength());
        Assert.Equal(14, root.GetProperty("deepZoom").GetProperty("levelCount").GetInt32());
        Assert.Equal("TiffResolution", root.GetProperty("mppSource").GetString());
        Assert.Equal(["A01-window.xml"], root.GetProperty("annotationFiles").EnumerateArray().Select(e => e.GetString()!).ToArray());
        var prediction = root.GetProperty("prediction");
        Assert.Equal("A01-window", prediction.GetProperty("folder").GetString());
        Assert.Equal("/predictions/A01-window.tif/heatmap.png", prediction.GetProperty("heatmap").GetString());
        Assert.Equal("/predictions/A01-window.tif/classmap.png", prediction.GetProperty("classmap").GetString());
        var geometry = prediction.GetProperty("geometry");
        Assert.Equal(5000, geometry.GetProperty("level0Width").GetDouble());
        Assert.Equal(50, geometry.GetProperty("width").GetInt32());
        var classes = prediction.GetProperty("classes").EnumerateArray().ToList();
        Assert.Equal(ViewerFixture.ClassNames, classes.Select(c => c.GetProperty("name").GetString()!).ToArray());
        // Colours come from the GeoJSON's classifications where it has them.
        Assert.Equal("#e6c619", classes[1].GetProperty("color").GetString());
        Assert.Equal("#2ca02c", classes[0].GetProperty("color").GetString());
        Assert.Equal(0.1, prediction.GetProperty("summary").GetProperty("classes").GetProperty("Benign").GetProperty("area_mm2").GetDouble());
    }

    [Fact]
    public async Task Malformed_prediction_folder_is_reported_on_the_page_and_its_maps_give_422()
    {
        using var doc = JsonDocument.Parse(await fx.Http.GetStringAsync("/api/slides/sub%20dir/tiny%20%C3%BC.svs"));
        var prediction = doc.RootElement.GetProperty("prediction");
        Assert.Equal("sub dir/tiny ü", prediction.GetProperty("folder").GetString());
        Assert.Contains("geometry.json: not valid JSON", prediction.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await fx.Http.GetAsync("/view/sub%20dir/tiny%20%C3%BC.svs")).StatusCode);
        var heatmap = await fx.Http.GetAsync("/predictions/sub%20dir/tiny%20%C3%BC.svs/heatmap.png");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, heatmap.StatusCode);
        Assert.Contains("geometry.json", await heatmap.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Http.GetAsync("/predictions/sub%20dir/tiny%20%C3%BC.svs/classmap.png")).StatusCode);
    }

    [Fact]
    public async Task Class_map_is_served_painted_in_class_colours_and_aligned()
    {
        var response = await fx.Http.GetAsync("/predictions/A01-window.tif/classmap.png");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        var painted = ImageIO.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((50, 50), (painted.Width, painted.Height));
        int benign = 0;
        for (int i = 0; i < fx.ClassMap.Length; i++)
        {
            var (r, g, b, a) = painted.GetPixel(i % 50, i / 50);
            var expected = fx.ClassMap[i] == 1 ? (0xe6, 0xc6, 0x19) : (0x2c, 0xa0, 0x2c);
            Assert.Equal(expected, (r, g, b));
            Assert.Equal(255, a);
            benign += fx.ClassMap[i] == 1 ? 1 : 0;
        }

        Assert.True(benign > 0, "the A01 class map has benign cells");
    }

    [Fact]
    public async Task Heatmap_and_raw_prediction_files_are_served()
    {
        var heat = ImageIO.Decode(await fx.Http.GetByteArrayAsync("/predictions/A01-window.tif/heatmap.png"));
        var written = ImageIO.Load(Path.Combine(fx.PredictionsDir, "A01-window", "heatmap.png"));
        Assert.Equal(written.Pixels, heat.Pixels);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(fx.PredictionsDir, "A01-window", "overlay.png")),
            await fx.Http.GetByteArrayAsync("/predictions/A01-window.tif/overlay.png"));
        using var geometry = JsonDocument.Parse(await fx.Http.GetStringAsync("/predictions/A01-window.tif/geometry.json"));
        Assert.Equal(50, geometry.RootElement.GetProperty("width").GetInt32());
        var geojson = await fx.Http.GetAsync("/predictions/A01-window.tif/prediction.geojson");
        Assert.Equal("application/geo+json", geojson.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Annotations_combine_prediction_geojson_and_the_ground_truth_imagescope_xml_in_level0_pixels()
    {
        using var doc = JsonDocument.Parse(await fx.Http.GetStringAsync("/api/annotations/A01-window.tif"));
        var layers = doc.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["prediction", "ground truth"], layers.Select(l => l.GetProperty("name").GetString()!).ToArray());
        Assert.Equal(["prediction.geojson", "A01-window.xml"], layers.Select(l => l.GetProperty("source").GetString()!).ToArray());

        var predicted = layers[0].GetProperty("polygons").EnumerateArray().ToList();
        Assert.Equal(["Benign", "Normal"], predicted.Select(p => p.GetProperty("label").GetString()!).ToArray());
        Assert.Equal("#e6c619", predicted[0].GetProperty("color").GetString());
        Assert.Equal(2, predicted[1].GetProperty("rings").GetArrayLength()); // outer ring + hole

        var xml = layers[1].GetProperty("polygons").EnumerateArray().Single();
        Assert.Equal("Benign", xml.GetProperty("label").GetString());
        var ring = xml.GetProperty("rings")[0].EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(fx.BenignOutline.Length * 2, ring.Length);
        Assert.Equal(fx.BenignOutline[0].X, ring[0]);
        Assert.Equal(fx.BenignOutline[0].Y, ring[1]);
        // The benign duct lies at the right edge of the window (x 4425-4999, y 3275-4477, see the data README).
        var xs = ring.Where((_, i) => i % 2 == 0).ToArray();
        var ys = ring.Where((_, i) => i % 2 == 1).ToArray();
        Assert.InRange(xs.Min(), 4400, 4500);
        Assert.InRange(ys.Min(), 3250, 3350);
        Assert.InRange(ys.Max(), 4400, 4500);
    }

    [Fact]
    public async Task Static_assets_of_openseadragon_and_the_page_are_served()
    {
        var osd = await fx.Http.GetAsync("/static/openseadragon/openseadragon.min.js");
        Assert.Equal(HttpStatusCode.OK, osd.StatusCode);
        Assert.Equal("text/javascript", osd.Content.Headers.ContentType?.MediaType);
        Assert.Contains("OpenSeadragon", await osd.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await fx.Http.GetAsync("/static/openseadragon/images/zoomin_rest.png")).StatusCode);
        foreach (string part in new[] { "viewer.js", "viewer-scalebar.js", "viewer-link.js" })
        {
            Assert.Equal(HttpStatusCode.OK, (await fx.Http.GetAsync("/static/" + part)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await fx.Http.GetAsync("/static/viewer.css")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Http.GetAsync("/static/no-such.js")).StatusCode);
    }

    [Fact]
    public async Task Only_get_and_head_are_served_and_head_has_no_body()
    {
        var post = await fx.Http.PostAsync("/A01-window.tif.dzi", new StringContent("x"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        using var head = new HttpRequestMessage(HttpMethod.Head, "/A01-window.tif_files/13/0_0.jpeg");
        var response = await fx.Http.SendAsync(head);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Content.Headers.ContentLength > 0);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Requests_for_other_host_names_are_refused_on_loopback()
    {
        var (status, _) = await fx.RawGetAsync("/", host: "attacker.example");
        Assert.Equal(400, status);
        var (ok, _) = await fx.RawGetAsync("/", host: "localhost:" + fx.Server.Address.Port);
        Assert.Equal(200, ok);
    }

    private async Task<RgbaImage> TileAsync(string slide, int level, int column, int row)
    {
        var response = await fx.Http.GetAsync($"/{slide}_files/{level}/{column}_{row}.jpeg");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return ImageIO.Decode(await response.Content.ReadAsByteArrayAsync());
    }

    internal static double MeanAbsDiff(RgbaImage a, RgbaImage b)
    {
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        long sum = 0;
        for (int i = 0; i < a.Pixels.Length; i += 4)
        {
            sum += Math.Abs(a.Pixels[i] - b.Pixels[i]) + Math.Abs(a.Pixels[i + 1] - b.Pixels[i + 1]) + Math.Abs(a.Pixels[i + 2] - b.Pixels[i + 2]);
        }

        return sum / (a.Pixels.Length / 4 * 3.0);
    }
}
