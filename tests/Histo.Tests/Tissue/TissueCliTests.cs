using Histo.Imaging;
using Histo.Maps;
using Histo.Slides;
using Histo.Tests.Cli;
using Histo.Tissue;

namespace Histo.Tests.Tissue;

/// <summary>The <c>histo tissue</c> verb, run as a real process.</summary>
public class TissueCliTests
{
    [Fact]
    public void Writes_the_mask_and_the_overlay()
    {
        string dir = TestPaths.NewTempDirectory();
        string mask = Path.Combine(dir, "mask.png"), overlay = Path.Combine(dir, "overlay.png");
        var run = CliRunner.Run("tissue", TestPaths.CmuSmall, "-o", mask, "--overlay", overlay);
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Contains("tissue: ", run.StdErr, StringComparison.Ordinal);
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var expected = new TissueDetector().Detect(slide).Mask;
        Assert.Equal(expected.Pixels, RasterMask.Load(mask, slide.Width, slide.Height).Pixels);
        var drawn = ImageIO.Load(overlay);
        Assert.Equal(1024, Math.Max(drawn.Width, drawn.Height));
    }

    [Fact]
    public void Otsu_method_and_mask_resolution_options_are_used()
    {
        string dir = TestPaths.NewTempDirectory();
        string mask = Path.Combine(dir, "mask.png");
        var run = CliRunner.Run("tissue", TestPaths.A01Window, "-o", mask, "--method", "otsu", "--mask-mpp", "7.5");
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Contains("saturation >", run.StdErr, StringComparison.Ordinal);
        var (_, width, height) = ImageIO.LoadGray(mask);
        Assert.Equal((512, 512), (width, height)); // 7.5 µm/px would be 312 px; the 512 px minimum applies
    }

    [Fact]
    public void A_blank_image_writes_an_empty_mask_with_a_warning_and_succeeds()
    {
        string dir = TestPaths.NewTempDirectory();
        string mask = Path.Combine(dir, "mask.png");
        var run = CliRunner.Run("tissue", TestPaths.Shared("tissue-tiles", "histolab", "no-tissue.png"), "-o", mask);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("warning: no tissue found", run.StdErr, StringComparison.Ordinal);
        var (pixels, _, _) = ImageIO.LoadGray(mask);
        Assert.All(pixels, v => Assert.Equal(0, v));
    }

    [Theory]
    [InlineData("--method", "kmeans")]
    [InlineData("--mask-mpp", "0")]
    public void Bad_options_are_usage_errors_and_write_nothing(string option, string value)
    {
        string dir = TestPaths.NewTempDirectory();
        string mask = Path.Combine(dir, "mask.png");
        var run = CliRunner.Run("tissue", TestPaths.CmuSmall, "-o", mask, option, value);
        Assert.Equal(2, run.ExitCode);
        CliRunner.AssertOneLineError(run, option.TrimStart('-'));
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void A_mask_that_is_not_png_is_refused()
    {
        string dir = TestPaths.NewTempDirectory();
        var run = CliRunner.Run("tissue", TestPaths.CmuSmall, "-o", Path.Combine(dir, "mask.jpg"));
        Assert.Equal(2, run.ExitCode);
        CliRunner.AssertOneLineError(run, ".png");
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void A_broken_slide_is_one_error_line_and_no_output()
    {
        string dir = TestPaths.NewTempDirectory();
        var run = CliRunner.Run("tissue", TestPaths.BrokenSvs, "-o", Path.Combine(dir, "mask.png"), "--overlay", Path.Combine(dir, "o.png"));
        Assert.Equal(1, run.ExitCode);
        CliRunner.AssertOneLineError(run, "broken.svs");
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }
}
