using Histo.Bach;
using Histo.Maps;
using Histo.Scoring;

namespace Histo.Tests.Scoring;

public class MapStatisticsTests
{
    private static RasterMask Map()
    {
        // 100 x 100 map, 4 level-0 px per pixel, origin (1000, 2000): Benign 10x10 at (10,10) and 5x5 at (50,50);
        // Invasive 20x10 at (60,80).
        var map = new RasterMask(100, 100, 4, 4, null, 1000, 2000);
        void Fill(int x0, int y0, int w, int h, byte v)
        {
            for (int y = y0; y < y0 + h; y++)
            {
                map.Row(y).Slice(x0, w).Fill(v);
            }
        }

        Fill(10, 10, 10, 10, 1);
        Fill(50, 50, 5, 5, 1);
        Fill(60, 80, 20, 10, 3);
        return map;
    }

    [Fact]
    public void Areas_fractions_and_largest_focus_per_class()
    {
        var result = MapStatistics.Compute(Map(), BachClasses.Names, level0MppX: 0.5);

        // One map pixel: 4 x 4 level-0 px of 0.5 µm = 2 µm x 2 µm = 4e-6 mm².
        Assert.Equal(10000, result.CountedPixels);
        Assert.Equal(0.04, result.CountedAreaMm2!.Value, 12);
        Assert.Equal(["Normal", "Benign", "InSitu", "Invasive"], result.Classes.Select(c => c.Name));
        var benign = result.Classes[1];
        Assert.Equal(125, benign.PixelCount);
        Assert.Equal(125 * 4e-6, benign.AreaMm2!.Value, 12);
        Assert.Equal(0.0125, benign.Fraction, 12);
        var focus = benign.LargestFocus!;
        Assert.Equal(100, focus.PixelCount);
        Assert.Equal(100 * 4e-6, focus.AreaMm2!.Value, 12);
        Assert.Equal((1040.0, 2040.0, 40.0, 40.0), (focus.Level0X, focus.Level0Y, focus.Level0Width, focus.Level0Height));
        Assert.Equal(1060, focus.CentroidLevel0X, 9); // pixel centres 10.5..19.5 -> 15 -> 1000 + 15 * 4
        Assert.Equal(2060, focus.CentroidLevel0Y, 9);
        Assert.Equal(0, result.Classes[2].PixelCount);
        Assert.Null(result.Classes[2].LargestFocus);
        Assert.Equal(200, result.Classes[3].LargestFocus!.PixelCount);
    }

    [Fact]
    public void The_largest_focus_has_its_longest_extent_in_mm_as_the_max_feret_diameter()
    {
        // 4 level-0 px per map pixel at 0.5 µm/px: 2 µm map pixels. A diagonal line of 3 pixels spans 6 µm each way.
        var map = new RasterMask(10, 10, 4, 4);
        map[1, 1] = map[2, 2] = map[3, 3] = 1;
        map[6, 8] = map[7, 8] = map[8, 8] = map[9, 8] = 3;
        var stats = MapStatistics.Compute(map, BachClasses.Names, level0MppX: 0.5);
        Assert.Equal(Math.Sqrt(2) * 6 / 1000, stats.Classes[1].LargestFocus!.MaxFeretMm!.Value, 12);
        Assert.Equal(Math.Sqrt((8 * 8) + (2 * 2)) / 1000, stats.Classes[3].LargestFocus!.MaxFeretMm!.Value, 12); // a bar: its diagonal

        // Rows of 1 µm per level-0 px: 4 µm map pixels vertically.
        var anisotropic = MapStatistics.Compute(map, BachClasses.Names, level0MppX: 0.5, level0MppY: 1.0);
        Assert.Equal(Math.Sqrt((6 * 6) + (12 * 12)) / 1000, anisotropic.Classes[1].LargestFocus!.MaxFeretMm!.Value, 12);
        Assert.Null(MapStatistics.Compute(map, BachClasses.Names, level0MppX: null).Classes[1].LargestFocus!.MaxFeretMm);
    }

    [Fact]
    public void Tissue_mask_restricts_counting_and_unknown_mpp_gives_null_areas()
    {
        var tissue = new RasterMask(100, 100, 4, 4, null, 1000, 2000);
        for (int y = 0; y < 50; y++)
        {
            tissue.Row(y).Fill(255);
        }

        var result = MapStatistics.Compute(Map(), BachClasses.Names, null, null, tissue);
        Assert.Equal(5000, result.CountedPixels);
        Assert.Null(result.CountedAreaMm2);
        Assert.Equal(100, result.Classes[1].PixelCount); // the 5x5 square at y 50.. is outside the tissue
        Assert.Equal(0.02, result.Classes[1].Fraction, 12);
        Assert.Null(result.Classes[1].AreaMm2);
        Assert.Equal(0, result.Classes[3].PixelCount);
    }

    [Fact]
    public void Values_without_a_name_are_reported_by_code()
    {
        var map = new RasterMask(4, 1, 1, 1, [0, 7, 7, 0]);
        var result = MapStatistics.Compute(map, ["background"], 1.0);
        Assert.Equal(["background", "7"], result.Classes.Select(c => c.Name));
        Assert.Equal(2, result.Classes[1].LargestFocus!.PixelCount);
    }
}
