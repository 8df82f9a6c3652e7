using Histo.Imaging;
using Histo.Slides;
using Histo.Viewer;

namespace Histo.Tests.Viewer;

/// <summary>The viewer's pieces on their own: Deep Zoom geometry, annotation reading, prediction maps, safe paths.</summary>
public class ViewerPartsTests
{
    [Fact]
    public void Deep_zoom_levels_halve_with_ceiling_and_pick_the_best_slide_level()
    {
        using var slide = Slide.Open(TestPaths.Tcga); // 4443 x 3567, levels downsample 1 and ~2
        var dz = new DeepZoomGenerator(slide);
        Assert.Equal(14, dz.LevelCount); // ceil(log2(4443)) + 1
        Assert.Equal((4443L, 3567L), (dz.Levels[13].Width, dz.Levels[13].Height));
        Assert.Equal((2222L, 1784L), (dz.Levels[12].Width, dz.Levels[12].Height));
        Assert.Equal((1L, 1L), (dz.Levels[0].Width, dz.Levels[0].Height));
        Assert.Equal((18, 15), (dz.Levels[13].Columns, dz.Levels[13].Rows));
        Assert.Equal(0, dz.Levels[13].SlideLevelIndex);
        Assert.Equal(0, dz.Levels[12].SlideLevelIndex); // downsample 2 < 2.0005: level 1 is slightly coarser than asked
        Assert.Equal(1, dz.Levels[11].SlideLevelIndex);
        Assert.All(dz.Levels.Take(11), l => Assert.Equal(1, l.SlideLevelIndex));
    }

    [Fact]
    public void Every_tile_region_lies_inside_its_slide_level_and_tiles_cover_the_level()
    {
        using var slide = Slide.Open(TestPaths.A01Window);
        var dz = new DeepZoomGenerator(slide);
        for (int level = 0; level < dz.LevelCount; level++)
        {
            var l = dz.Levels[level];
            long coveredWidth = 0;
            for (int col = 0; col < l.Columns; col++)
            {
                Assert.True(dz.TryGetTileRegion(level, col, 0, out var r));
                var sl = slide.Levels[r.SlideLevelIndex];
                Assert.InRange(r.Level0X, 0, slide.Width - 1);
                Assert.True(r.Level0X / sl.Downsample + r.ReadWidth <= sl.Width + 1, $"level {level} col {col} reads past the slide level");
                Assert.True(r.ReadWidth >= r.TileWidth || r.SlideLevelIndex == 0, "reads are never upsampled except from level 0");
                coveredWidth += r.TileWidth - (col > 0 ? 1 : 0) - (col < l.Columns - 1 ? 1 : 0);
            }

            Assert.Equal(l.Width, coveredWidth);
            Assert.False(dz.TryGetTileRegion(level, l.Columns, 0, out _));
            Assert.False(dz.TryGetTileRegion(level, 0, l.Rows, out _));
            Assert.False(dz.TryGetTileRegion(level, -1, 0, out _));
        }

        Assert.False(dz.TryGetTileRegion(dz.LevelCount, 0, 0, out _));
        Assert.False(dz.TryGetTileRegion(-1, 0, 0, out _));
    }

    [Fact]
    public void Thumbnail_level_is_the_largest_single_tile_level_within_the_size()
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var dz = new DeepZoomGenerator(slide);
        int level = dz.ThumbnailLevel(256);
        Assert.True(dz.Levels[level].Height <= 254);
        Assert.True(dz.Levels[level + 1].Height > 254);
    }

    [Fact]
    public void Geojson_multipolygons_holes_and_non_polygons_are_handled()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "a.geojson");
            File.WriteAllText(path, """
                {"type":"FeatureCollection","features":[
                 {"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[10,0],[10,10],[0,0]]],[[[20,20],[30,20],[30,30],[20,20]],[[22,22],[28,22],[28,28],[22,22]]]]},
                  "properties":{"classification":{"name":"Tumor","color":-65536}}},
                 {"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}},
                 {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[1,1],[2,2]]]},"properties":{"name":"too small"}}
                ]}
                """);
            var layer = AnnotationLayers.FromGeoJson(path, "annotation");
            Assert.Equal(2, layer.Polygons.Count);
            Assert.Equal(2, layer.Skipped);
            Assert.Equal(2, layer.Polygons[1].Rings.Count);
            Assert.Equal("#ff0000", layer.Polygons[0].Color); // QuPath's packed ARGB integer
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("a.geojson", "{\"type\":\"FeatureCollection\",\"features\":[")]
    [InlineData("a.geojson", "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[\"x\",1],[2,2],[3,3]]]}}]}")]
    public void Malformed_prediction_geojson_raises_a_typed_error(string name, string content)
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, name);
            File.WriteAllText(path, content);
            var e = Assert.Throws<PredictionFormatException>(() => AnnotationLayers.FromGeoJson(path, "annotation"));
            Assert.StartsWith(name + ":", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Geometry_json_accepts_names_or_objects_and_rejects_bad_fields()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "geometry.json");
            File.WriteAllText(path, """{"level0_x":10,"level0_y":20,"level0_width":1000,"level0_height":500,"width":20,"height":10,"classes":["Normal",{"name":"Stroma","color":[1,2,3]},"Other"]}""");
            var g = PredictionGeometry.Load(path);
            Assert.Equal((10.0, 20.0, 1000.0, 500.0, 20, 10), (g.Level0X, g.Level0Y, g.Level0Width, g.Level0Height, g.Width, g.Height));
            Assert.Equal(["#2ca02c", "#010203", ClassColors.Default("Other", 2)], g.Classes.Select(c => c.Color).ToArray());

            foreach (string bad in new[] { "{", "[]", """{"level0_x":0}""", """{"level0_x":0,"level0_y":0,"level0_width":-5,"level0_height":5,"width":1,"height":1}""",
                """{"level0_x":0,"level0_y":0,"level0_width":5,"level0_height":5,"width":1.5,"height":1}""",
                """{"level0_x":0,"level0_y":0,"level0_width":5,"level0_height":5,"width":1,"height":1,"classes":"Normal"}""" })
            {
                File.WriteAllText(path, bad);
                Assert.Throws<PredictionFormatException>(() => PredictionGeometry.Load(path));
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Maps_whose_pixels_are_not_square_in_level0_are_resampled_to_the_level0_aspect()
    {
        string dir = TestPaths.NewTempDirectory();
        try
        {
            // 10 x 10 map over a 1000 x 2000 level-0 rectangle: each map pixel is 100 x 200 level-0 pixels.
            var geometry = new PredictionGeometry(0, 0, 1000, 2000, 10, 10, [new PredictionClass(0, "Normal", "#2ca02c"), new PredictionClass(1, "Tumor", "#d62728")]);
            var map = new byte[100];
            for (int i = 0; i < 10; i++)
            {
                map[90 + i] = 1; // bottom row
                map[i] = 7;      // top row: no class
            }

            string path = Path.Combine(dir, "classmap.png");
            ImageIO.SaveGray(path, map, 10, 10);
            var painted = ImageIO.Decode(OverlayRenderer.ClassMapPng(path, geometry));
            Assert.Equal(2.0, (double)painted.Height / painted.Width, 2);
            Assert.Equal((0xd6, 0x27, 0x28, 255), painted.GetPixel(painted.Width / 2, painted.Height - 1));
            Assert.Equal((0x2c, 0xa0, 0x2c, 255), painted.GetPixel(painted.Width / 2, painted.Height / 2));
            Assert.Equal(0, painted.GetPixel(painted.Width / 2, 0).A);
            // The bottom row covers the bottom tenth of the image, as it covers the bottom tenth in level 0.
            Assert.Equal(0xd6, painted.GetPixel(0, (int)(painted.Height * 0.91)).R);
            Assert.NotEqual(0xd6, painted.GetPixel(0, (int)(painted.Height * 0.89)).R);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("a.svs", true)]
    [InlineData("sub/a.svs", true)]
    [InlineData("", false)]
    [InlineData("/etc/passwd", false)]
    [InlineData("../a.svs", false)]
    [InlineData("sub/../a.svs", false)]
    [InlineData("sub//a.svs", false)]
    [InlineData("./a.svs", false)]
    [InlineData(".hidden.svs", false)]
    [InlineData("sub\\..\\a.svs", false)]
    [InlineData("a\u0000.svs", false)]
    public void Url_names_are_accepted_only_when_they_stay_below_the_root(string name, bool accepted)
    {
        Assert.Equal(accepted, SafeRoot.IsWellFormed(name));
    }

    [Fact]
    public void Real_path_resolves_links_in_every_component()
    {
        string root = TestPaths.NewTempDirectory();
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "a", "b"));
            File.WriteAllText(Path.Combine(root, "a", "b", "f.txt"), "x");
            Directory.CreateSymbolicLink(Path.Combine(root, "link"), Path.Combine("a", "b"));
            File.CreateSymbolicLink(Path.Combine(root, "a", "f-link"), Path.Combine("b", "f.txt"));
            string real = SafeRoot.RealPath(root);
            Assert.Equal(Path.Combine(real, "a", "b", "f.txt"), SafeRoot.RealPath(Path.Combine(root, "link", "f.txt")));
            Assert.Equal(Path.Combine(real, "a", "b", "f.txt"), SafeRoot.RealPath(Path.Combine(root, "a", "f-link")));
            File.CreateSymbolicLink(Path.Combine(root, "loop"), "loop");
            Assert.Throws<IOException>(() => SafeRoot.RealPath(Path.Combine(root, "loop")));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task Render_cache_shares_concurrent_renders_and_stays_within_its_bound()
    {
        using var cache = new RenderCache(sizeLimitBytes: 10_000, maxConcurrentRenders: 1);
        int renders = 0;
        byte[] Render()
        {
            Interlocked.Increment(ref renders);
            Thread.Sleep(50);
            return new byte[1000];
        }

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => cache.GetOrRenderAsync("same", Render))));
        Assert.Equal(1, renders);
        for (int i = 0; i < 100; i++)
        {
            await cache.GetOrRenderAsync("key" + i, () => new byte[1000]);
            Assert.InRange(cache.CachedBytes, 0, 10_000);
        }
    }
}
