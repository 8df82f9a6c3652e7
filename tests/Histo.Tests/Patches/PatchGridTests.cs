using Histo.Maps;
using Histo.Patches;
using Histo.Slides;
using Histo.Tissue;

namespace Histo.Tests.Patches;

public class PatchGridTests
{
    [Fact]
    public void Seed_part_a_scheme_gives_7_by_2_crops_with_the_last_aligned_to_the_far_edge()
    {
        var grid = new PatchGrid(2048, 1536, 1.0, 1495, 99);
        Assert.Equal((7, 2), (grid.Columns, grid.Rows));
        var positions = grid.ToList();
        Assert.Equal(14, positions.Count);
        Assert.Equal(new long[] { 0, 99, 198, 297, 396, 495, 553 }, positions.Where(p => p.Row == 0).Select(p => p.Level0X));
        Assert.Equal(new long[] { 0, 41 }, positions.Where(p => p.Column == 0).Select(p => p.Level0Y));
        Assert.All(positions, p => Assert.Equal(1495, p.Level0Size));
        Assert.All(positions, p => Assert.Null(p.TissueFraction));
        Assert.Equal(2048, positions.Max(p => p.Level0X + p.Level0Size));
        Assert.Equal(1536, positions.Max(p => p.Level0Y + p.Level0Size));
    }

    [Theory]
    [InlineData(1024, 256, 256, 4)] // exact fit: no extra position
    [InlineData(1000, 256, 256, 4)] // 0, 256, 512 + edge 744
    [InlineData(256, 256, 100, 1)]
    [InlineData(100, 256, 256, 1)] // shorter than a patch: one position at 0
    [InlineData(2048, 1495, 99, 7)]
    [InlineData(1536, 1495, 99, 2)]
    public void Axis_positions_cover_the_axis_and_end_at_the_far_edge(long length, long size, double stride, long expected)
    {
        long count = PatchGrid.AxisCount(length, size, stride);
        Assert.Equal(expected, count);
        long last = PatchGrid.AxisPosition(count - 1, length, size, stride);
        Assert.Equal(length <= size ? 0 : length - size, last);
        for (long i = 1; i < count; i++)
        {
            long step = PatchGrid.AxisPosition(i, length, size, stride) - PatchGrid.AxisPosition(i - 1, length, size, stride);
            Assert.InRange(step, 1, (long)Math.Ceiling(stride));
        }
    }

    [Fact]
    public void A_100k_slide_grid_is_streamed_not_materialised()
    {
        // 10^10 positions: enumerating lazily is the only way this returns.
        var grid = new PatchGrid(100_000, 100_000, 1.0, 1, 1);
        Assert.Equal(10_000_000_000L, grid.PositionCount);
        var first = grid.Take(3).ToList();
        Assert.Equal(new long[] { 0, 1, 2 }, first.Select(p => p.Level0X));
        Assert.Equal(new PatchPosition(99_999, 99_999, 99_999, 99_999, 1, null), grid.At(99_999, 99_999));
        var second = grid.Skip(100_000).First();
        Assert.Equal((0, 1), (second.Column, second.Row));
    }

    [Fact]
    public void Target_resolution_scales_size_and_stride_into_level_0()
    {
        var grid = new PatchGrid(10_000, 5_000, 2.0, 256, 128);
        Assert.Equal(512, grid.Level0Size);
        Assert.Equal(256, grid.Level0Stride);
        Assert.Equal(PatchGrid.AxisCount(10_000, 512, 256), grid.Columns);
        Assert.Equal(9488, grid.At(grid.Columns - 1, 0).Level0X);
    }

    [Fact]
    public void Tissue_filter_keeps_patches_with_enough_tissue_and_reports_their_fraction()
    {
        // Left 40 % of a 1000 x 1000 slide is tissue; mask at 10 level-0 px per pixel.
        var mask = new RasterMask(100, 100, 10, 10);
        for (int y = 0; y < 100; y++)
        {
            mask.Row(y)[..40].Fill(255);
        }

        var all = new PatchGrid(1000, 1000, 1.0, 200, 200, mask, 0).ToList();
        Assert.Equal(25, all.Count);
        Assert.Equal(new[] { 1.0, 1.0, 0.0, 0.0, 0.0 }, all.Where(p => p.Row == 0).Select(p => p.TissueFraction!.Value));
        var kept = new PatchGrid(1000, 1000, 1.0, 300, 100, mask, 0.5).ToList();
        Assert.All(kept, p => Assert.True(p.TissueFraction >= 0.5));
        // x = 200 covers 200 of its 300 px with tissue (kept), x = 300 only 100 (skipped).
        Assert.Equal(new long[] { 0, 100, 200 }, kept.Where(p => p.Row == 0).Select(p => p.Level0X));
        Assert.Equal(2.0 / 3, kept.Single(p => p.Row == 0 && p.Level0X == 200).TissueFraction!.Value, 9);
    }

    [Fact]
    public void Mask_coverage_equals_the_raster_mask_histogram_rule()
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var mask = new TissueDetector().Detect(slide).Mask;
        var coverage = new MaskCoverage(mask);
        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            double x = random.NextDouble() * 2600 - 200, y = random.NextDouble() * 3300 - 200;
            double w = random.NextDouble() < 0.1 ? random.NextDouble() * 4 : random.NextDouble() * 900;
            double h = random.NextDouble() < 0.1 ? random.NextDouble() * 4 : random.NextDouble() * 900;
            Assert.Equal(mask.NonZeroFraction(x, y, w, h), coverage.NonZeroFraction(x, y, w, h), 12);
        }
    }

    [Fact]
    public void Grid_on_a_slide_uses_the_resolved_resolution()
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var grid = PatchGrid.ForSlide(slide, Resolution.Mpp(0.998), 256);
        Assert.Equal(2.0, grid.Level0Downsample, 9);
        Assert.Equal(512, grid.Level0Size);
        Assert.Empty(grid.Warnings);
        using var tcga = Slide.Open(TestPaths.Tcga);
        var fallback = PatchGrid.ForSlide(tcga, Resolution.Mpp(0.5), 256);
        Assert.Equal(1.0, fallback.Level0Downsample);
        var noMpp = Assert.Single(fallback.Warnings);
        Assert.Equal(WarningCode.NoMpp, noMpp.Code);
        Assert.Contains("has no MPP", noMpp.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1, 0.0)]
    [InlineData(256, 0, 0.0)]
    [InlineData(256, 256, 1.5)]
    [InlineData(256, 256, -0.1)]
    public void Bad_grid_parameters_raise_a_typed_error(int size, int stride, double minTissue)
    {
        Assert.Throws<InvalidParameterException>(() => new PatchGrid(1000, 1000, 1.0, size, stride, null, minTissue));
    }

    [Fact]
    public void A_stride_under_one_level_0_pixel_is_refused()
    {
        Assert.Throws<InvalidParameterException>(() => new PatchGrid(1000, 1000, 0.25, 256, 2));
    }
}
