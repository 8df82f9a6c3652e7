using Histo.Annotations;
using Histo.Bach;
using Histo.Imaging;
using Histo.Maps;
using Histo.Scoring;

namespace Histo.Tests.Annotations;

public class VectorizeTests
{
    /// <summary>
    /// A 200 x 150 map at 16 level-0 px per pixel, origin (10000, 0): an Invasive block with an InSitu island in a
    /// hole, a Benign disc, an InSitu annulus around a Benign core, a one-pixel-wide diagonal line and single pixels.
    /// </summary>
    private static RasterMask SyntheticMap()
    {
        var map = new RasterMask(200, 150, 16, 16, null, 10000, 0);
        for (int y = 0; y < map.Height; y++)
        {
            for (int x = 0; x < map.Width; x++)
            {
                byte v = 0;
                if (x is >= 10 and < 90 && y is >= 10 and < 70)
                {
                    v = 3;
                    if (x is >= 30 and < 60 && y is >= 25 and < 55)
                    {
                        v = 0;
                    }

                    if (x is >= 40 and < 50 && y is >= 35 and < 45)
                    {
                        v = 2;
                    }
                }

                double d1 = Math.Sqrt(((x - 140) * (x - 140)) + ((y - 40) * (y - 40)));
                if (d1 < 25)
                {
                    v = 1;
                }

                double d2 = Math.Sqrt(((x - 60) * (x - 60)) + ((y - 110) * (y - 110)));
                if (d2 < 30)
                {
                    v = (byte)(d2 < 12 ? 1 : d2 < 18 ? 0 : 2);
                }

                if (x == y + 30 && x is >= 120 and < 190 && y >= 80)
                {
                    v = 3;
                }

                map[x, y] = v;
            }
        }

        map[195, 5] = 2;
        map[190, 140] = 1;
        map[191, 140] = 1;
        return map;
    }

    private static double Agreement(RasterMask a, RasterMask b) =>
        (double)a.Pixels.Zip(b.Pixels).Count(p => p.First == p.Second) / a.Pixels.Length;

    private static RasterMask Rasterise(IEnumerable<Annotation> annotations, RasterMask like) =>
        AnnotationRasterizer.Rasterize(annotations, like.Width, like.Height, like.Level0PerPixelX, like.Level0PerPixelY, like.Level0X, like.Level0Y);

    [Fact]
    public void Rasterising_the_polygons_gives_back_the_map()
    {
        var map = SyntheticMap();
        var exact = MapVectorizer.Vectorize(map, BachClasses.Names, new VectorizeOptions { ToleranceMaskPixels = 0 });
        Assert.Equal(map.Pixels, Rasterise(exact, map).Pixels);

        var simplified = MapVectorizer.Vectorize(map, BachClasses.Names);
        double agreement = Agreement(map, Rasterise(simplified, map));
        Assert.True(agreement >= 0.99, $"agreement {agreement}");
        Assert.True(simplified.Sum(a => a.VertexCount) < exact.Sum(a => a.VertexCount) / 2);
    }

    [Fact]
    public void Regions_become_polygons_with_holes_in_level0_coordinates()
    {
        var map = SyntheticMap();
        var polygons = MapVectorizer.Vectorize(map, BachClasses.Names);
        Assert.DoesNotContain(polygons, a => a.ClassCode == 0);
        var invasive = polygons.Where(a => a.ClassCode == 3).ToList();
        Assert.Equal(2, invasive.Count); // block and diagonal line
        var block = invasive[0];
        Assert.Equal("Invasive", block.Label);
        Assert.Single(block.Polygons[0].Holes);
        var (minX, minY, maxX, maxY) = block.Polygons[0].Bounds;
        Assert.Equal((10000 + (10 * 16), 10 * 16, 10000 + (90 * 16), 70 * 16), (minX, minY, maxX, maxY)); // pixel edges
        Assert.Equal(((80 * 60) - (30 * 30)) * 256, block.Polygons[0].AreaLevel0, 6); // the 30 x 30 hole holds Normal and the InSitu island

        var annulus = polygons.Where(a => a.ClassCode == 2).OrderByDescending(a => a.Polygons[0].AreaLevel0).First();
        Assert.Single(annulus.Polygons[0].Holes);
        Assert.Equal(3, polygons.Count(a => a.ClassCode == 2)); // island, annulus, single pixel
        Assert.Equal(3, polygons.Count(a => a.ClassCode == 1)); // disc, core, two-pixel pair
        Assert.Contains(polygons, a => a.ClassCode == 1 && a.Polygons[0].Exterior.Length == 4 && a.Polygons[0].AreaLevel0 == 2 * 256);
        Assert.Contains(polygons, a => a.ClassCode == 2 && a.Polygons[0].Exterior.Length == 4 && a.Polygons[0].AreaLevel0 == 256);

        var large = MapVectorizer.Vectorize(map, BachClasses.Names, new VectorizeOptions { MinRegionPixels = 10 });
        Assert.Equal(polygons.Count - 2, large.Count); // the single pixel and the pair are left out
        Assert.Contains(MapVectorizer.Vectorize(map, null, new VectorizeOptions { IncludeClassZero = true }), a => a.ClassCode == 0 && a.Label == "0");
    }

    [Fact]
    public void A01_label_mask_round_trips_through_polygons()
    {
        var (pixels, width, height) = ImageIO.LoadGray(TestPaths.A01Labels);
        var full = new RasterMask(width, height, 1, 1, pixels, 10000, 0);
        var map = SlideScorer.ResizeNearest(full, 625, 625);
        var polygons = MapVectorizer.Vectorize(map, BachClasses.Names);
        Assert.NotEmpty(polygons);
        Assert.All(polygons, a => Assert.Equal(1, a.ClassCode));
        Assert.True(Agreement(map, Rasterise(polygons, map)) >= 0.99);
    }

    [Fact]
    public void Rasterised_a10_round_trips_and_survives_a_geojson_file()
    {
        var set = AnnotationReader.Read(AnnotationTestData.Bach("A10"));
        var map = AnnotationRasterizer.RasterizeSlide(set.Annotations, 56000, 42000, 32);
        var polygons = MapVectorizer.Vectorize(map, BachClasses.Names);
        Assert.True(Agreement(map, Rasterise(polygons, map)) >= 0.99);

        string path = Path.Combine(TestPaths.NewTempDirectory(), "prediction.geojson");
        AnnotationWriter.SaveGeoJson(path, polygons, BachClasses.Names);
        var back = AnnotationReader.Read(path);
        Assert.Empty(back.UnknownLabels);
        Assert.Equal(polygons.Select(a => a.ClassCode), back.Annotations.Select(a => a.ClassCode));
        Assert.True(Agreement(map, Rasterise(back.Annotations, map)) >= 0.99);
    }
}
