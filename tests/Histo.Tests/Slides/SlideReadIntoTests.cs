using Histo.Imaging;
using Histo.Slides;

namespace Histo.Tests.Slides;

/// <summary>
/// The buffer-reusing read (<see cref="Slide.ReadRegion(long, long, int, RgbaImage)"/>) and the in-place
/// premultiplied-ARGB conversion behind both OpenSlide reads.
/// </summary>
public class SlideReadIntoTests
{
    [Theory]
    [InlineData("cmu", 1000, 1200, 0, 64, 64)]
    [InlineData("cmu", 2200, 0, 0, 40, 10)]
    [InlineData("tcga", 2000, 1500, 1, 48, 40)]
    [InlineData("a01", 4990, 4990, 0, 30, 20)]
    public void Read_into_a_reused_dirty_image_equals_a_fresh_read(string which, long x, long y, int level, int w, int h)
    {
        using var slide = Slide.Open(which switch { "cmu" => TestPaths.CmuSmall, "tcga" => TestPaths.Tcga, _ => TestPaths.A01Window });
        var destination = new RgbaImage(w, h);
        Array.Fill(destination.Pixels, (byte)0x5A);
        slide.ReadRegion(x, y, level, destination);
        Assert.Equal(slide.ReadRegion(x, y, level, w, h).Pixels, destination.Pixels);
        slide.ReadRegion(0, 0, level, destination);
        Assert.Equal(slide.ReadRegion(0, 0, level, w, h).Pixels, destination.Pixels);
    }

    [Fact]
    public void Read_into_on_a_plain_image_equals_a_fresh_read_including_the_transparent_outside()
    {
        using var slide = Slide.Open(TestPaths.Shared("microscopy", "bach", "Normal", "normal.png"));
        var destination = new RgbaImage(32, 16);
        Array.Fill(destination.Pixels, (byte)0xA5);
        slide.ReadRegion(570, 430, 0, destination);
        Assert.Equal(slide.ReadRegion(570, 430, 0, 32, 16).Pixels, destination.Pixels);
        Assert.Equal(0, destination.GetPixel(31, 15).A);
    }

    [Fact]
    public void Read_into_validates_like_read()
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        Assert.Throws<InvalidRegionException>(() => slide.ReadRegion(5000, 0, 0, new RgbaImage(8, 8)));
        Assert.Throws<InvalidRegionException>(() => slide.ReadRegion(0, 0, 3, new RgbaImage(8, 8)));
        Assert.Throws<ArgumentNullException>(() => slide.ReadRegion(0, 0, 0, null!));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(67)]
    [InlineData(4099)]
    public void In_place_conversion_matches_the_per_pixel_definition(int pixelCount)
    {
        var random = new Random(pixelCount);
        var argb = new uint[pixelCount];
        for (int i = 0; i < pixelCount; i++)
        {
            // Mostly opaque runs (the vector path) with transparent and partly transparent pixels mixed in.
            uint a = (i / 16 % 3) switch { 0 => 255u, 1 => (uint)random.Next(4) switch { 0 => 0u, 1 => 255u, _ => (uint)random.Next(1, 255) }, _ => 255u };
            uint r = (uint)random.Next((int)a + 1), g = (uint)random.Next((int)a + 1), b = (uint)random.Next((int)a + 1);
            argb[i] = a << 24 | r << 16 | g << 8 | b;
        }

        var bytes = new byte[pixelCount * 4];
        Buffer.BlockCopy(argb, 0, bytes, 0, bytes.Length);
        OpenSlideSlide.PremultipliedArgbToRgbaInPlace(bytes);
        for (int i = 0; i < pixelCount; i++)
        {
            uint p = argb[i], a = p >> 24;
            byte[] expected = a == 0
                ? [0, 0, 0, 0]
                : [Straight(p >> 16, a), Straight(p >> 8, a), Straight(p, a), (byte)a];
            Assert.Equal(expected, bytes[(i * 4)..(i * 4 + 4)]);
        }
    }

    private static byte Straight(uint premultiplied, uint alpha) => (byte)Math.Min(255, (premultiplied & 0xFF) * 255 / alpha);
}
