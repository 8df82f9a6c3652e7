using Histo.Imaging;
using Histo.Slides;

namespace Histo.Tests.Slides;

public class SlideTests
{
    [Fact]
    public void Aperio_jpeg_slide_reports_openslide_geometry_and_vendor_mpp()
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        Assert.IsType<OpenSlideSlide>(slide);
        Assert.Equal(2220, slide.Width);
        Assert.Equal(2967, slide.Height);
        Assert.Equal(1, slide.LevelCount);
        Assert.Equal("aperio", slide.Vendor);
        Assert.Equal(0.499, slide.MppX!.Value, 6);
        Assert.Equal(0.499, slide.MppY!.Value, 6);
        Assert.Equal(MppSource.Vendor, slide.MppSource);
        Assert.Equal(20, slide.ObjectivePower);
        Assert.Equal(["label", "macro", "thumbnail"], slide.AssociatedImageNames.Order().ToArray());
        var thumb = slide.ReadAssociatedImage("thumbnail");
        Assert.Equal((574, 768), (thumb.Width, thumb.Height));
        Assert.Equal("CMU-1", slide.Properties["aperio.Filename"]);
    }

    [Fact]
    public void Jpeg2000_slide_has_two_levels_and_no_mpp()
    {
        using var slide = Slide.Open(TestPaths.Tcga);
        Assert.Equal(2, slide.LevelCount);
        Assert.Equal(new SlideLevel(4443, 3567, 1.0), slide.Levels[0]);
        Assert.Equal(2221, slide.Levels[1].Width);
        Assert.Equal(1783, slide.Levels[1].Height);
        Assert.InRange(slide.Levels[1].Downsample, 2.0, 2.002);
        Assert.Null(slide.MppX);
        Assert.Null(slide.MppY);
        Assert.Equal(MppSource.None, slide.MppSource);
    }

    [Fact]
    public void Tiny_svs_with_tile_larger_than_image_opens()
    {
        using var slide = Slide.Open(TestPaths.TinySvs);
        Assert.Equal((16L, 16L), (slide.Width, slide.Height));
        var region = slide.ReadRegion(0, 0, 0, 16, 16);
        Assert.All(Enumerable.Range(0, 256), i => Assert.Equal(255, region.Pixels[i * 4 + 3]));
    }

    [Fact]
    public void Generic_tiff_mpp_comes_from_resolution_tags()
    {
        using var slide = Slide.Open(TestPaths.A01Window);
        Assert.Equal("generic-tiff", slide.Vendor);
        Assert.Equal(6, slide.LevelCount);
        Assert.Equal((5000L, 5000L), (slide.Width, slide.Height));
        Assert.Equal(MppSource.TiffResolution, slide.MppSource);
        Assert.Equal(0.4667, slide.MppX!.Value, 4);
        Assert.Equal(0.4667, slide.MppY!.Value, 4);
        Assert.Equal(2, slide.GetBestLevelForDownsample(5.0));
        Assert.Equal(0, slide.GetBestLevelForDownsample(0.5));
        Assert.Equal(5, slide.GetBestLevelForDownsample(1000));
    }

    [Theory]
    [InlineData("cmu-1000-1200-64.png", "cmu", 1000, 1200, 0, 64, 64)]
    [InlineData("tcga-2000-1500-l1-48x40.png", "tcga", 2000, 1500, 1, 48, 40)]
    public void Region_pixels_match_openslide_python_reference(string reference, string which, long x, long y, int level, int w, int h)
    {
        using var slide = Slide.Open(which == "cmu" ? TestPaths.CmuSmall : TestPaths.Tcga);
        var region = slide.ReadRegion(x, y, level, w, h);
        var expected = ImageIO.Load(TestPaths.Fixture(reference));
        Assert.Equal((expected.Width, expected.Height), (region.Width, region.Height));
        Assert.Equal(expected.Pixels, region.Pixels);
    }

    [Fact]
    public void Region_partly_outside_is_transparent_there()
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var region = slide.ReadRegion(2200, 0, 0, 40, 10);
        Assert.Equal(255, region.GetPixel(5, 5).A);
        Assert.Equal(0, region.GetPixel(30, 5).A);
    }

    [Theory]
    [InlineData(5000, 0, 0, 10, 10)]
    [InlineData(-100, -100, 0, 50, 50)]
    [InlineData(0, 0, 3, 10, 10)]
    [InlineData(0, 0, 0, 0, 10)]
    [InlineData(0, 0, 0, 100000, 100000)]
    public void Invalid_regions_raise_typed_error(long x, long y, int level, int w, int h)
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        Assert.Throws<InvalidRegionException>(() => slide.ReadRegion(x, y, level, w, h));
    }

    [Fact]
    public void Broken_svs_raises_typed_open_error()
    {
        var e = Assert.Throws<SlideOpenException>(() => Slide.Open(TestPaths.BrokenSvs));
        Assert.Contains("broken.svs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_and_directory_raise_typed_open_error()
    {
        Assert.Throws<SlideOpenException>(() => Slide.Open("/no/such/slide.svs"));
        Assert.Throws<SlideOpenException>(() => Slide.Open(TestPaths.SharedData));
    }

    [Fact]
    public void Flat_tiff_rejected_by_openslide_opens_as_plain_image()
    {
        Assert.Throws<SlideOpenException>(() => OpenSlideSlide.OpenFile(TestPaths.KidneyTif));
        using var slide = Slide.Open(TestPaths.KidneyTif);
        Assert.IsType<ImageSlide>(slide);
        Assert.Equal((1493L, 901L), (slide.Width, slide.Height));
        Assert.Equal(1, slide.LevelCount);
        Assert.Equal("image", slide.Vendor);
        var region = slide.ReadRegion(700, 400, 0, 8, 8);
        Assert.Equal(255, region.GetPixel(0, 0).A);
    }

    [Fact]
    public void Rgba_png_microscopy_image_opens_as_one_level_slide()
    {
        using var slide = Slide.Open(TestPaths.Shared("microscopy", "bach", "Normal", "normal.png"));
        Assert.Equal((587L, 441L), (slide.Width, slide.Height));
        Assert.Null(slide.MppX);
        var thumb = slide.GetThumbnail(100);
        Assert.Equal(100, thumb.Width);
        Assert.Equal(75, thumb.Height);
    }

    [Fact]
    public void Thumbnail_fits_max_size_and_keeps_aspect()
    {
        using var slide = Slide.Open(TestPaths.Tcga);
        var thumb = slide.GetThumbnail(512);
        Assert.Equal(512, thumb.Width);
        Assert.Equal(411, thumb.Height);
        Assert.True(ImageIO.IsOpaque(thumb));
    }

    [Fact]
    public void Concurrent_reads_on_one_slide_are_correct()
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var positions = Enumerable.Range(0, 24).Select(i => (X: (i * 97) % 1900L, Y: (i * 131) % 2600L)).ToArray();
        var expected = positions.Select(p => slide.ReadRegion(p.X, p.Y, 0, 96, 96).Pixels).ToArray();
        var results = new byte[positions.Length][];
        Parallel.For(0, positions.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            int i = k % positions.Length;
            var pixels = slide.ReadRegion(positions[i].X, positions[i].Y, 0, 96, 96).Pixels;
            Assert.Equal(expected[i], pixels);
            results[i] = pixels;
        });
        Assert.All(results, r => Assert.NotNull(r));
    }

    [Fact]
    public void Reads_after_dispose_raise_and_dispose_twice_is_safe()
    {
        var slide = Slide.Open(TestPaths.CmuSmall);
        slide.Dispose();
        slide.Dispose();
        Assert.Throws<ObjectDisposedException>(() => slide.ReadRegion(0, 0, 0, 8, 8));
    }

    [Theory]
    [InlineData(21427.04, 3, 0.4667)]
    [InlineData(54425.68, 2, 0.4667)]
    public void Tiff_resolution_converts_cm_and_inch(double pixelsPerUnit, int unit, double expected)
    {
        Assert.Equal(expected, Slide.MppFromTiffResolution(pixelsPerUnit, unit)!.Value, 4);
    }

    [Theory]
    [InlineData(72.0, 2)]
    [InlineData(21427.04, 1)]
    [InlineData(300.0, 3)]
    [InlineData(0.0, 3)]
    public void Implausible_or_unitless_resolution_gives_no_mpp(double pixelsPerUnit, int unit)
    {
        Assert.Null(Slide.MppFromTiffResolution(pixelsPerUnit, unit));
    }
}
