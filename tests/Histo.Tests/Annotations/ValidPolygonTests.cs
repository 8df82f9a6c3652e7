using Histo.Annotations;
using Histo.Maps;

namespace Histo.Tests.Annotations;

/// <summary>The vectoriser's polygons are valid under JTS's rules (what QuPath needs), checked by NetTopologySuite.</summary>
public class ValidPolygonTests
{
    private static RasterMask Map(params string[] rows)
    {
        var map = new RasterMask(rows[0].Length, rows.Length, 1, 1);
        for (int y = 0; y < rows.Length; y++)
        {
            for (int x = 0; x < rows[y].Length; x++)
            {
                map[x, y] = (byte)(rows[y][x] - '0');
            }
        }

        return map;
    }

    private static readonly VectorizeOptions Exact = new() { ToleranceMaskPixels = 0 };

    [Fact]
    public void A_boundary_through_one_corner_twice_is_split_into_an_exterior_and_a_hole_touching_it_there()
    {
        // The background pixel (1,1) reaches the outside only through the corner (2,2): the outline passes (2,2) twice.
        var regions = MapVectorizer.VectorizeRegions(Map("111", "101", "110"), null, Exact);
        var region = Assert.Single(regions);
        var polygon = Assert.Single(region.Annotation.Polygons);
        var hole = Assert.Single(polygon.Holes);
        Assert.Equal(1, Math.Abs(PolygonGeometry.SignedArea(hole)));
        Assert.Contains(new Level0Point(2, 2), hole);
        Assert.Contains(new Level0Point(2, 2), polygon.Exterior);
        Assert.Equal(polygon.Exterior.Length, polygon.Exterior.Distinct().Count());
        Assert.Equal(7, polygon.AreaLevel0);
        Assert.Equal([0, 1, 2, 3, 5, 6, 7], region.PixelIndices);
        Assert.Null(JtsGeometry.Problem(JtsGeometry.FromAnnotation(region.Annotation)));
    }

    [Fact]
    public void Pixels_touching_only_at_a_corner_are_one_annotation_of_two_polygons_sharing_that_vertex()
    {
        var annotation = Assert.Single(MapVectorizer.Vectorize(Map("10", "01"), null, Exact));
        Assert.Equal(2, annotation.Polygons.Count);
        Assert.All(annotation.Polygons, p => Assert.Contains(new Level0Point(1, 1), p.Exterior));
        Assert.Null(JtsGeometry.Problem(JtsGeometry.FromAnnotation(annotation)));

        // A ring closed through corners encloses no hole: four squares, no interior ring.
        var diamond = Assert.Single(MapVectorizer.Vectorize(Map("010", "101", "010"), null, Exact));
        Assert.Equal(4, diamond.Polygons.Count);
        Assert.All(diamond.Polygons, p => Assert.Empty(p.Holes));
        Assert.Null(JtsGeometry.Problem(JtsGeometry.FromAnnotation(diamond)));
    }

    [Fact]
    public void Random_maps_give_valid_polygons_with_the_maps_areas_and_pixels()
    {
        var random = new Random(14);
        int checkedPolygons = 0, multiPart = 0, withHoles = 0;
        for (int trial = 0; trial < 400; trial++)
        {
            int w = random.Next(1, 11), h = random.Next(1, 11), classes = random.Next(2, 4);
            double fill = random.NextDouble();

            // Cells of CMU-1-Small-Region at a 25-px stride of a 4 µm/px model: 2220/11 x 2967/15 level-0 px.
            var map = new RasterMask(w, h, 2220.0 / 11, 2967.0 / 15, null, 0, 0);
            for (int i = 0; i < map.Pixels.Length; i++)
            {
                map.Pixels[i] = random.NextDouble() < fill ? (byte)random.Next(1, classes) : (byte)0;
            }

            var regions = MapVectorizer.VectorizeRegions(map, null, Exact with { IncludeClassZero = true });
            foreach (var region in regions)
            {
                var geometry = JtsGeometry.FromAnnotation(region.Annotation);
                string? problem = JtsGeometry.Problem(geometry);
                Assert.True(problem is null, $"trial {trial}: {region.Annotation.Id}: {problem}\n{string.Join("\n", Rows(map))}");
                Assert.Equal(region.PixelIndices.Length * map.Level0PerPixelX * map.Level0PerPixelY, geometry.Area, 6);
                Assert.All(region.PixelIndices, i => Assert.Equal(region.Annotation.ClassCode, map.Pixels[i]));
                foreach (var polygon in region.Annotation.Polygons)
                {
                    Assert.All(polygon.Holes.Prepend(polygon.Exterior), ring => Assert.Equal(0, PolygonGeometry.CountSelfIntersections(ring)));
                    withHoles += polygon.Holes.Count > 0 ? 1 : 0;
                }

                multiPart += region.Annotation.Polygons.Count > 1 ? 1 : 0;
                checkedPolygons += region.Annotation.Polygons.Count;
            }

            Assert.Equal(map.Pixels.Length, regions.Sum(r => r.PixelIndices.Length));
            var redrawn = AnnotationRasterizer.Rasterize(regions.Select(r => r.Annotation), w, h, map.Level0PerPixelX, map.Level0PerPixelY);
            Assert.Equal(map.Pixels, redrawn.Pixels);
        }

        // The maps did exercise corners shared by diagonal pixels and holes.
        Assert.True(multiPart > 50 && withHoles > 20 && checkedPolygons > 2000, $"{multiPart} multi-part annotations, {withHoles} polygons with holes, {checkedPolygons} polygons");
    }

    private static IEnumerable<string> Rows(RasterMask map) =>
        Enumerable.Range(0, map.Height).Select(y => string.Concat(map.Row(y).ToArray().Select(v => (char)('0' + v))));
}
