using Histo.Imaging;
using Histo.Slides;

namespace Histo.Tests.Scoring;

/// <summary>
/// Scoring decodes masks with OpenCV in the same process where slides are read with OpenSlide. If OpenCV's native
/// library loads first, OpenSlide's libjpeg binds to OpenCV's copy and the first JPEG tile crashes the process;
/// Histo loads OpenSlide first (Native/NativeLoadOrder.cs). A crash here aborts the whole test run.
/// </summary>
public class NativeLoadOrderTests
{
    [Fact]
    public void Opencv_decoding_then_aperio_jpeg_reads_work()
    {
        var (mask, width, _) = ImageIO.LoadGray(TestPaths.A01Labels);
        Assert.Equal(5000, width);
        Assert.Contains((byte)1, mask);
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var region = slide.ReadRegion(1000, 1200, 0, 64, 64);
        Assert.Equal(ImageIO.Load(TestPaths.Fixture("cmu-1000-1200-64.png")).Pixels, region.Pixels);
    }
}
