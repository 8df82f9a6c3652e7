using Histo.Annotations;
using Histo.Maps;
using static Histo.Tests.Annotations.AnnotationTestData;

namespace Histo.Tests.Annotations;

public class RasterizeTests
{
    private static int[] Where(RasterMask m, byte value) => Enumerable.Range(0, m.Pixels.Length).Where(i => m.Pixels[i] == value).ToArray();

    [Fact]
    public void Pixels_whose_centres_fall_inside_take_the_class()
    {
        // Downsample 10: mask pixel i has its centre at level-0 10 i + 5; the square 10..50 holds centres 15..45.
        var mask = AnnotationRasterizer.Rasterize([new Annotation("Benign", 1, [Square(10, 10, 50, 50)])], 10, 10, 10, 10);
        var expected = from y in Enumerable.Range(1, 4) from x in Enumerable.Range(1, 4) select (y * 10) + x;
        Assert.Equal(expected.ToArray(), Where(mask, 1));
    }

    [Fact]
    public void Grid_offset_is_honoured()
    {
        var mask = AnnotationRasterizer.Rasterize([new Annotation("Benign", 1, [Square(1010, 2010, 1050, 2050)])], 10, 10, 10, 10, 1000, 2000);
        Assert.Equal(16, Where(mask, 1).Length);
        Assert.Equal(1, mask[1, 1]);
        Assert.Equal(1, mask[4, 4]);
        Assert.Equal(0, mask[5, 5]);
    }

    [Fact]
    public void Holes_stay_unpainted_and_show_what_lies_below()
    {
        var ring = new Annotation("Invasive", 3, [Square(0, 0, 100, 100, (30, 30, 70, 70))]);
        var alone = AnnotationRasterizer.Rasterize([ring], 10, 10, 10, 10);
        Assert.Equal(84, Where(alone, 3).Length);
        Assert.All(from y in Enumerable.Range(3, 4) from x in Enumerable.Range(3, 4) select alone[x, y], v => Assert.Equal(0, v));

        var under = new Annotation("Benign", 1, [Square(-10, -10, 110, 110)]);
        var both = AnnotationRasterizer.Rasterize([ring, under], 10, 10, 10, 10);
        Assert.Equal(16, Where(both, 1).Length);
        Assert.Equal(84, Where(both, 3).Length);
    }

    [Fact]
    public void Innermost_region_wins_whatever_the_file_order()
    {
        var inner = new Annotation("In situ", 2, [Square(40, 40, 60, 60)]);
        var outer = new Annotation("Invasive", 3, [Square(0, 0, 100, 100)]);
        foreach (var order in new[] { new[] { inner, outer }, [outer, inner] })
        {
            var mask = AnnotationRasterizer.Rasterize(order, 10, 10, 10, 10);
            Assert.Equal(4, Where(mask, 2).Length);
            Assert.Equal(96, Where(mask, 3).Length);
        }
    }

    [Fact]
    public void Self_intersecting_rings_are_filled_even_odd()
    {
        // A pentagram: even-odd leaves the central pentagon empty (nonzero would fill it); the points are filled.
        var star = Enumerable.Range(0, 5).Select(k =>
        {
            double t = (-Math.PI / 2) + (k * 4 * Math.PI / 5);
            return new Level0Point(50 + (45 * Math.Cos(t)), 50 + (45 * Math.Sin(t)));
        }).ToArray();
        var set = AnnotationReader.Parse(System.Text.Encoding.UTF8.GetBytes(Aperio(("1", "Benign", star.Select(p => (p.X, p.Y)).ToArray(), "", ""))), "star");
        Assert.Contains(set.Warnings, w => w.Kind == AnnotationWarningKind.SelfIntersection);
        var mask = AnnotationRasterizer.Rasterize(set.Annotations, 100, 100, 1, 1);
        Assert.Equal(0, mask[50, 50]);
        Assert.Equal(1, mask[50, 12]); // inside the top point
    }

    [Fact]
    public void Unknown_labels_are_not_painted()
    {
        var mask = AnnotationRasterizer.Rasterize([new Annotation("Tumor", null, [Square(0, 0, 100, 100)])], 10, 10, 10, 10);
        Assert.All(mask.Pixels, v => Assert.Equal(0, v));
    }

    [Fact]
    public void Polygons_beyond_the_mask_are_clipped_not_wrapped()
    {
        var huge = new Annotation("Benign", 1, [Square(-5e6, -5e6, 50, 5e6)]);
        var far = new Annotation("Invasive", 3, [Square(9e6, 9e6, 9.5e6, 9.5e6)]);
        var mask = AnnotationRasterizer.Rasterize([huge, far], 10, 10, 10, 10);
        Assert.Equal(50, Where(mask, 1).Length); // columns 0..4, all rows
        Assert.Empty(Where(mask, 3));
    }

    [Fact]
    public void Bach_a10_in_situ_region_inside_the_invasive_one_stays_in_situ()
    {
        var set = AnnotationReader.Read(AnnotationTestData.Bach("A10"));
        var mask = AnnotationRasterizer.RasterizeSlide(set.Annotations, 56000, 42000, 16);
        Assert.Equal((3500, 2625), (mask.Width, mask.Height));
        var region6 = set.Annotations.Single(a => a.Id == "6");
        var region6Alone = AnnotationRasterizer.Rasterize([region6], mask.Width, mask.Height, mask.Level0PerPixelX, mask.Level0PerPixelY);
        int[] pixels = Where(region6Alone, 2);
        Assert.InRange(pixels.Length, 2400, 2900); // ImageScope's area 667,108 level-0 px² / 256
        Assert.All(pixels, i => Assert.Equal(2, mask.Pixels[i]));

        // The test means something: painting in file order (or "higher code wins") would make it Invasive.
        var fileOrder = new RasterMask(mask.Width, mask.Height, mask.Level0PerPixelX, mask.Level0PerPixelY);
        foreach (var a in set.Annotations)
        {
            AnnotationRasterizer.Paint(fileOrder, [a]);
        }

        Assert.All(pixels, i => Assert.Equal(3, fileOrder.Pixels[i]));
    }

    [Fact]
    public void Region_pixel_counts_match_their_areas_at_one_sixteenth()
    {
        var set = AnnotationReader.Read(AnnotationTestData.Bach("A08"));
        var mask = AnnotationRasterizer.RasterizeSlide(set.Annotations, 56000, 40000, 16);
        foreach (var a in set.Annotations.Where(a => a.ClassCode > 0).Take(10))
        {
            var alone = AnnotationRasterizer.Rasterize([a], mask.Width, mask.Height, mask.Level0PerPixelX, mask.Level0PerPixelY);
            double area = a.Polygons[0].AreaLevel0 / 256;
            double perimeter = a.Polygons[0].Exterior.Zip(a.Polygons[0].Exterior.Skip(1).Append(a.Polygons[0].Exterior[0]),
                (p, q) => Math.Sqrt(((p.X - q.X) * (p.X - q.X)) + ((p.Y - q.Y) * (p.Y - q.Y)))).Sum() / 16;
            // Centre sampling neither grows nor shrinks a region: the count differs from the area only by boundary noise.
            double noise = 2 + (0.2 * perimeter);
            Assert.InRange(Where(alone, (byte)a.ClassCode!.Value).Length, area - noise, area + noise);
        }

        Assert.True(Where(mask, 3).Length > 1000);
    }

    [Fact]
    public void Target_mpp_sets_the_grid()
    {
        var mask = AnnotationRasterizer.RasterizeSlideAtMpp([new Annotation("Benign", 1, [Square(0, 0, 1000, 1000)])], 4000, 2000, 0.5, 8);
        Assert.Equal((250, 125), (mask.Width, mask.Height));
        Assert.Equal(16, mask.Level0PerPixelX);
        Assert.Equal(62 * 62, Where(mask, 1).Length); // centres 16 i + 8 <= 1000 for i = 0..61
    }
}
