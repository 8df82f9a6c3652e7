using Histo.Color;
using Histo.Imaging;
using Histo.Patches;

namespace Histo.Tests.Patches;

public class AugmentationTests
{
    private static RgbaImage Tissue() =>
        ImageIO.Load(TestPaths.Shared("tissue-tiles", "histolab", "tissue-level2-1784-6289-5880-10386.png")).Crop(0, 0, 200, 160);

    /// <summary>A 3 x 2 image whose pixels are all different: (x, y) has R = 10 x + y.</summary>
    private static RgbaImage Numbered()
    {
        var image = new RgbaImage(3, 2);
        for (int y = 0; y < 2; y++)
        {
            for (int x = 0; x < 3; x++)
            {
                int i = (y * 3 + x) * 4;
                (image.Pixels[i], image.Pixels[i + 3]) = ((byte)(10 * x + y), 255);
            }
        }

        return image;
    }

    [Theory]
    [InlineData(DihedralTransform.Identity, 3, 2, new byte[] { 0, 10, 20, 1, 11, 21 })]
    [InlineData(DihedralTransform.Rotate90, 2, 3, new byte[] { 1, 0, 11, 10, 21, 20 })]
    [InlineData(DihedralTransform.Rotate180, 3, 2, new byte[] { 21, 11, 1, 20, 10, 0 })]
    [InlineData(DihedralTransform.Rotate270, 2, 3, new byte[] { 20, 21, 10, 11, 0, 1 })]
    [InlineData(DihedralTransform.FlipHorizontal, 3, 2, new byte[] { 20, 10, 0, 21, 11, 1 })]
    [InlineData(DihedralTransform.FlipVertical, 3, 2, new byte[] { 1, 11, 21, 0, 10, 20 })]
    [InlineData(DihedralTransform.Transpose, 2, 3, new byte[] { 0, 1, 10, 11, 20, 21 })]
    [InlineData(DihedralTransform.AntiTranspose, 2, 3, new byte[] { 21, 20, 11, 10, 1, 0 })]
    public void Each_dihedral_transform_moves_pixels_as_named(DihedralTransform t, int width, int height, byte[] reds)
    {
        var result = Dihedral.Apply(Numbered(), t);
        Assert.Equal((width, height), (result.Width, result.Height));
        Assert.Equal(reds, Enumerable.Range(0, reds.Length).Select(i => result.Pixels[i * 4]));
    }

    [Fact]
    public void Dihedral_transforms_form_the_group_d4()
    {
        var image = Tissue();
        var outputs = Dihedral.All.Select(t => Dihedral.Apply(image, t)).ToList();
        // Eight different images.
        for (int i = 0; i < 8; i++)
        {
            for (int j = i + 1; j < 8; j++)
            {
                Assert.False(outputs[i].Width == outputs[j].Width && outputs[i].Pixels.AsSpan().SequenceEqual(outputs[j].Pixels), $"{Dihedral.All[i]} == {Dihedral.All[j]}");
            }
        }

        foreach (var a in Dihedral.All)
        {
            // Inverse undoes; composing matches applying one after the other (closure).
            Assert.Equal(image.Pixels, Dihedral.Apply(Dihedral.Apply(image, a), Dihedral.Inverse(a)).Pixels);
            Assert.Equal(DihedralTransform.Identity, Dihedral.Compose(a, Dihedral.Inverse(a)));
            foreach (var b in Dihedral.All)
            {
                var composed = Dihedral.Compose(a, b);
                Assert.Equal(Dihedral.Apply(Dihedral.Apply(image, a), b).Pixels, outputs[(int)composed].Pixels);
            }
        }

        var four = image;
        for (int i = 0; i < 4; i++)
        {
            four = Dihedral.Apply(four, DihedralTransform.Rotate90);
        }

        Assert.Equal(image.Pixels, four.Pixels);
        Assert.Equal(DihedralTransform.Rotate180, Dihedral.Compose(DihedralTransform.Rotate90, DihedralTransform.Rotate90));
        Assert.Equal(DihedralTransform.Transpose, Dihedral.Compose(DihedralTransform.Rotate90, DihedralTransform.FlipHorizontal));
    }

    [Fact]
    public void Same_seed_gives_identical_bytes_and_different_seeds_differ()
    {
        var image = Tissue();
        var augmenter = new Augmenter();
        var a = augmenter.Augment(image, 42);
        var b = new Augmenter().Augment(image, 42);
        Assert.Equal(a.Pixels, b.Pixels);
        var distinct = Enumerable.Range(0, 12).Select(s => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(augmenter.Augment(image, (ulong)s).Pixels))).ToHashSet();
        Assert.Equal(12, distinct.Count);
        Assert.NotEqual(image.Pixels, a.Pixels);
    }

    [Fact]
    public void Seeded_parameters_are_stable_and_stay_in_the_stated_ranges()
    {
        var augmenter = new Augmenter();
        // SplitMix64 output for seed 0 is fixed forever (reference value of the published algorithm).
        Assert.Equal(0xE220A8397B1DCDAFUL, new SplitMix64(0).Next());
        var transforms = new int[8];
        for (ulong seed = 0; seed < 2000; seed++)
        {
            var p = augmenter.Parameters(seed);
            transforms[(int)p.Transform]++;
            Assert.InRange(p.Hsv.HueShiftDegrees, -10, 10);
            Assert.InRange(p.Hsv.SaturationScale, 0.8, 1.2);
            Assert.InRange(p.Hsv.ValueScale, 0.9, 1.1);
            Assert.InRange(p.Stain!.HematoxylinScale, 0.95, 1.05);
            Assert.InRange(p.Stain.EosinShift, -0.05, 0.05);
        }

        Assert.All(transforms, n => Assert.InRange(n, 180, 320)); // about 250 each
        Assert.Equal(augmenter.Parameters(7), augmenter.Parameters(7));
        Assert.NotEqual(Augmenter.SeedFor(1, 0), Augmenter.SeedFor(1, 1));
    }

    [Fact]
    public void Identity_colour_jitters_leave_the_pixels_unchanged()
    {
        var image = Tissue();
        Assert.Equal(image.Pixels, StainJitter.Identity.Apply(image).Pixels);
        var hsv = HsvJitter.Identity.Apply(image);
        Assert.Equal(image.Pixels, hsv.Pixels);
        var off = new Augmenter(new AugmentationOptions { Dihedral = false, Hsv = null, Stain = null });
        Assert.Equal(image.Pixels, off.Augment(image, 99).Pixels);
    }

    [Fact]
    public void Hsv_jitter_rotates_hue_and_scales_saturation_and_value()
    {
        var red = new RgbaImage(1, 1, [255, 0, 0, 255]);
        Assert.Equal(new byte[] { 0, 255, 0, 255 }, new HsvJitter(120, 1, 1).Apply(red).Pixels);
        Assert.Equal(new byte[] { 255, 128, 128, 255 }, new HsvJitter(0, 0.5, 1).Apply(red).Pixels);
        Assert.Equal(new byte[] { 128, 0, 0, 255 }, new HsvJitter(0, 1, 0.5).Apply(red).Pixels);
        Assert.Throws<InvalidParameterException>(() => HsvJitter.Sample(new HsvJitterRanges { MaxSaturationChange = 1.5 }, 1));
    }

    [Fact]
    public void Stain_jitter_raises_the_haematoxylin_of_tissue_when_its_scale_grows()
    {
        var image = Tissue();
        var more = new StainJitter(StainMatrix.Ruifrok, 1.3, 0, 1, 0).Apply(image);
        Assert.True(MeanHematoxylin(more) > 1.2 * MeanHematoxylin(image));
        var glass = new RgbaImage(4, 4);
        Array.Fill(glass.Pixels, (byte)255);
        Assert.Equal(glass.Pixels, new StainJitter(StainMatrix.Ruifrok, 1.3, 0, 0.7, 0).Apply(glass).Pixels); // no stain to scale
    }

    private static double MeanHematoxylin(RgbaImage image)
    {
        var (toH, _) = MacenkoEstimator.PseudoInverse(StainMatrix.Ruifrok);
        double sum = 0;
        for (int i = 0; i < image.Pixels.Length; i += 4)
        {
            var od = new System.Numerics.Vector3(
                (float)-Math.Log((image.Pixels[i] + 1) / 256.0), (float)-Math.Log((image.Pixels[i + 1] + 1) / 256.0), (float)-Math.Log((image.Pixels[i + 2] + 1) / 256.0));
            sum += System.Numerics.Vector3.Dot(toH, od);
        }

        return sum / (image.Pixels.Length / 4);
    }
}
