using Histo.Maps;
using Histo.Slides;
using Histo.Tissue;

namespace Histo.Tests.Tissue;

/// <summary>Tissue detection on whole slides, against a committed reference mask and the slides' known layout.</summary>
public class TissueSlideTests
{
    /// <summary>
    /// Reference: <c>Fixtures/cmu-1-small-region-tissue-lab.png</c>, the default (lab) mask of the CC0 OpenSlide test
    /// slide, checked by eye against the slide (tissue strip, epidermis and the detached fragment on the left in, glass
    /// and the small debris on the right out). Tolerance: at least 98 % of mask pixels agree.
    /// </summary>
    [Fact]
    public void Cmu_small_region_matches_the_reference_mask()
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var result = new TissueDetector().Detect(slide);
        var reference = RasterMask.Load(TestPaths.Fixture("cmu-1-small-region-tissue-lab.png"), slide.Width, slide.Height);
        Assert.Equal((reference.Width, reference.Height), (result.Mask.Width, result.Mask.Height));
        double agreement = Agreement(result.Mask, reference);
        Assert.True(agreement >= 0.98, $"agreement {agreement:0.0000}");
        Assert.InRange(result.TissueFraction, 0.3, 0.5);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Cmu_mask_geometry_follows_the_mpp_and_the_minimum_mask_size()
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var result = new TissueDetector().Detect(slide);
        // 8 µm/px would give a 185-pixel mask; the 512-pixel minimum long side wins: 2967 / 512 = 5.79 level-0 px per mask px.
        Assert.Equal(512, result.Mask.Height);
        Assert.Equal(383, result.Mask.Width);
        Assert.Equal(2967.0 / 512, result.Mask.Level0PerPixelY, 6);
        Assert.Equal(2220.0 / 383, result.Mask.Level0PerPixelX, 6);
        Assert.Equal(0.499 * 2220 / 383, result.MaskMpp!.Value, 6);
        Assert.InRange(result.TissueAreaMm2!.Value, 0.5, 0.8);
        // The saved mask reloads with the same geometry.
        string path = Path.Combine(TestPaths.NewTempDirectory(), "mask.png");
        result.Mask.Save(path);
        var loaded = RasterMask.Load(path, slide.Width, slide.Height);
        Assert.Equal(result.Mask.Level0PerPixelX, loaded.Level0PerPixelX, 9);
        Assert.Equal(result.Mask.Pixels, loaded.Pixels);
    }

    [Fact]
    public void Lab_and_otsu_agree_on_the_cmu_slide()
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var lab = new TissueDetector().Detect(slide);
        var otsu = new TissueDetector(new TissueOptions { Method = TissueMethod.Otsu }).Detect(slide);
        Assert.True(Agreement(lab.Mask, otsu.Mask) >= 0.95);
    }

    [Theory]
    [InlineData(TissueMethod.Lab)]
    [InlineData(TissueMethod.Otsu)]
    public void A01_window_top_third_is_glass_and_the_stroma_below_is_tissue(TissueMethod method)
    {
        using var slide = Slide.Open(TestPaths.A01Window);
        var result = new TissueDetector(new TissueOptions { Method = method }).Detect(slide);
        var mask = result.Mask;
        double top = RowsFraction(mask, 0, (int)(mask.Height * 0.35));
        double stroma = RowsFraction(mask, (int)(mask.Height * 0.60), (int)(mask.Height * 0.85));
        Assert.True(top <= 0.005, $"top 35 %: {top:0.0000}");
        Assert.True(stroma >= 0.9, $"stroma band: {stroma:0.000}");

        // The annotated benign duct (label code 1) is tissue.
        var labels = RasterMask.Load(TestPaths.A01Labels, slide.Width, slide.Height);
        long benign = 0, benignInTissue = 0;
        for (int y = 0; y < labels.Height; y += 4)
        {
            for (int x = 0; x < labels.Width; x += 4)
            {
                if (labels[x, y] == 1)
                {
                    benign++;
                    int mx = (int)(x / mask.Level0PerPixelX), my = (int)(y / mask.Level0PerPixelY);
                    benignInTissue += mask[mx, my] != 0 ? 1 : 0;
                }
            }
        }

        Assert.True(benign > 1000);
        Assert.True(benignInTissue >= 0.9 * benign, $"{benignInTissue} of {benign} benign samples in the tissue mask");
    }

    [Fact]
    public void Slide_without_mpp_uses_the_level_nearest_2048_pixels_and_says_so()
    {
        using var slide = Slide.Open(TestPaths.Tcga);
        var plan = TissueDetector.PlanMask(slide, new TissueOptions());
        Assert.Equal(new MaskPlan(1, 2221, 1783, 4443.0 / 2221, 3567.0 / 1783, true), plan);
        var result = new TissueDetector().Detect(slide);
        Assert.Null(result.MaskMpp);
        Assert.Null(result.TissueAreaMm2);
        Assert.Equal(1, result.LevelIndex);
        Assert.Contains(result.Warnings, w => w.Code == WarningCode.NoMpp && w.Message.Contains("has no MPP", StringComparison.Ordinal));
        Assert.InRange(result.TissueFraction, 0.5, 0.8);
    }

    [Fact]
    public void A01_plan_resizes_from_the_level_below_the_wanted_downsample()
    {
        using var slide = Slide.Open(TestPaths.A01Window);
        var plan = TissueDetector.PlanMask(slide, new TissueOptions());
        // 8 µm/px at 0.4667 µm/px is a downsample of 17; the 512-pixel minimum makes it 9.77, between levels 3 (8) and 4 (16).
        Assert.Equal(3, plan.LevelIndex);
        Assert.False(plan.IsWholeLevel);
        Assert.Equal((512, 512), (plan.Width, plan.Height));
        var coarse = TissueDetector.PlanMask(slide, new TissueOptions { MaskMpp = 7.5, MinMaskLongSidePixels = 64 });
        Assert.Equal(4, coarse.LevelIndex); // 16.07 is within 10 % of level 4's downsample 16: read as it is
        Assert.True(coarse.IsWholeLevel);
    }

    [Fact]
    public void Reading_the_mask_image_in_small_tiles_gives_the_same_pixels_as_one_read()
    {
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var plan = TissueDetector.PlanMask(slide, new TissueOptions());
        var whole = TissueDetector.ReadMaskImage(slide, plan, null, CancellationToken.None, maxReadSide: 100_000);
        var tiled = TissueDetector.ReadMaskImage(slide, plan, null, CancellationToken.None, maxReadSide: 300);
        double diff = 0;
        for (int i = 0; i < whole.Pixels.Length; i++)
        {
            diff += Math.Abs(whole.Pixels[i] - tiled.Pixels[i]);
        }

        // Tiles start on whole level pixels, so each is shifted by under a fifth of a mask pixel: small differences
        // on the texture, none in the mask. A misplaced tile would differ by tens of levels.
        Assert.True(diff / whole.Pixels.Length < 1.5, $"mean absolute difference {diff / whole.Pixels.Length:0.000}");
        var detector = new TissueDetector();
        var a = detector.DetectImage(whole, slide.MppX * plan.Level0PerPixelX).Mask;
        var b = detector.DetectImage(tiled, slide.MppX * plan.Level0PerPixelX).Mask;
        Assert.True(Agreement(a, b) >= 0.995, $"agreement {Agreement(a, b):0.0000}");
    }

    [Fact]
    public void Progress_reaches_one_and_cancellation_is_honoured()
    {
        using var slide = Slide.Open(TestPaths.A01Window);
        var reports = new List<double>();
        new TissueDetector().Detect(slide, new SyncProgress(reports.Add));
        Assert.Equal(1.0, reports[^1], 9);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new TissueDetector().Detect(slide, null, cancelled.Token));
    }

    [Fact]
    public void Overlay_tints_tissue_and_leaves_glass()
    {
        using var slide = Slide.Open(TestPaths.A01Window);
        var result = new TissueDetector().Detect(slide);
        var overlay = TissueOverlay.Render(result, 512);
        Assert.Equal((512, 512), (overlay.Width, overlay.Height));
        // Glass (top) keeps the slide's colours; tissue (lower band) is tinted green: G rises relative to R.
        var (gr, gg, _, _) = overlay.GetPixel(256, 50);
        var (sr, sg, _, _) = result.Image.GetPixel(256, 50);
        Assert.Equal((sr, sg), (gr, gg));
        var (tr, tg, _, _) = overlay.GetPixel(256, 380);
        var (or, og, _, _) = result.Image.GetPixel(256, 380);
        Assert.True(tg - tr > og - or + 40, $"tinted ({tr},{tg}) vs original ({or},{og})");
    }

    private static double Agreement(RasterMask a, RasterMask b)
    {
        long same = 0;
        for (int i = 0; i < a.Pixels.Length; i++)
        {
            same += (a.Pixels[i] != 0) == (b.Pixels[i] != 0) ? 1 : 0;
        }

        return (double)same / a.Pixels.Length;
    }

    private static double RowsFraction(RasterMask mask, int fromRow, int toRow)
    {
        long on = 0;
        for (int y = fromRow; y < toRow; y++)
        {
            foreach (byte v in mask.Row(y))
            {
                on += v != 0 ? 1 : 0;
            }
        }

        return (double)on / ((long)(toRow - fromRow) * mask.Width);
    }

    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
