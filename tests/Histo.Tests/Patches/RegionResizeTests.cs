using Histo.Imaging;

namespace Histo.Tests.Patches;

public sealed class RegionResizeTests
{
    [Theory]
    [InlineData(49, 0, 748, 224)]   // a BACH crop: shrink 748 -> 224 (area interpolation)
    [InlineData(276, 20, 748, 96)]
    [InlineData(10, 30, 100, 300)]  // enlarge (linear interpolation)
    [InlineData(5, 7, 64, 64)]      // same size: a plain crop
    public void Resizing_a_region_gives_the_pixels_of_resizing_its_crop(int x, int y, int side, int size)
    {
        RgbaImage field = ImageIO.Load(Directory.GetFiles(Path.Combine(TestPaths.SharedData, "bach-parta", "Photos", "Benign"), "*.tif").Order().First());
        RgbaImage expected = ImageIO.Resize(field.Crop(x, y, side, side), size, size);
        RgbaImage actual = ImageIO.Resize(field, x, y, side, side, size, size);
        Assert.Equal((size, size), (actual.Width, actual.Height));
        Assert.Equal(expected.Pixels, actual.Pixels);
    }

    [Fact]
    public void A_region_outside_the_image_is_refused()
    {
        var image = new RgbaImage(100, 80);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageIO.Resize(image, 60, 0, 50, 50, 10, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageIO.Resize(image, 0, -1, 50, 50, 10, 10));
    }
}
