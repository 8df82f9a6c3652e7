using Histo.Color;
using Histo.Imaging;
using Histo.Slides;
using Histo.Tests.Cli;

namespace Histo.Tests.Color;

/// <summary>The <c>histo normalize</c> verb, run as a real process.</summary>
public class NormalizeCliTests
{
    private static string Target => TestPaths.Shared("tissue-tiles", "tiatoolbox", "target_image.png");

    [Theory]
    [InlineData("macenko")]
    [InlineData("reinhard")]
    public void A_slide_region_is_normalised_as_the_library_does(string method)
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out.png");
        var run = CliRunner.Run("normalize", TestPaths.CmuSmall, "--x", "1000", "--y", "1200", "--width", "300", "--height", "200",
            "--method", method, "--target", Target, "-o", output);
        Assert.True(run.ExitCode == 0, run.StdErr);
        using var slide = Slide.Open(TestPaths.CmuSmall);
        var region = slide.ReadRegion(1000, 1200, 0, 300, 200).CompositeOverWhite();
        var expected = StainNormalizer.Fit(StainNormalizer.ParseMethod(method), ImageIO.Load(Target).CompositeOverWhite()).Normalize(region);
        Assert.True(expected.Applied);
        var written = ImageIO.Load(output);
        Assert.Equal(expected.Image.Pixels, written.Pixels);
        Assert.NotEqual(region.Pixels, written.Pixels);
    }

    [Fact]
    public void A_white_tile_is_written_unchanged_with_a_warning()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out.png");
        string input = TestPaths.Shared("tissue-tiles", "histolab", "almost-white-1.png");
        var run = CliRunner.Run("normalize", input, "--target", Target, "-o", output);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("warning: not normalised", run.StdErr, StringComparison.Ordinal);
        Assert.Equal(ImageIO.Load(input).Pixels, ImageIO.Load(output).Pixels);
    }

    [Fact]
    public void Missing_target_or_a_target_without_tissue_is_one_error_line_and_no_output()
    {
        string dir = TestPaths.NewTempDirectory();
        string output = Path.Combine(dir, "out.png");
        var missing = CliRunner.Run("normalize", TestPaths.CmuSmall, "--x", "0", "--y", "0", "--width", "64", "--height", "64",
            "--target", Path.Combine(dir, "nope.png"), "-o", output);
        Assert.Equal(1, missing.ExitCode);
        CliRunner.AssertOneLineError(missing, "nope.png");
        var blank = CliRunner.Run("normalize", TestPaths.CmuSmall, "--x", "0", "--y", "0", "--width", "64", "--height", "64",
            "--target", TestPaths.Shared("tissue-tiles", "histolab", "no-tissue.png"), "-o", output);
        Assert.Equal(1, blank.ExitCode);
        CliRunner.AssertOneLineError(blank, "target");
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Theory]
    [InlineData("--method", "vahadane", "method")]
    [InlineData("--x", "5", "region")]
    public void Bad_options_are_usage_errors(string option, string value, string mentioned)
    {
        string dir = TestPaths.NewTempDirectory();
        var run = CliRunner.Run("normalize", TestPaths.CmuSmall, "--target", Target, "-o", Path.Combine(dir, "o.png"), option, value);
        Assert.Equal(2, run.ExitCode);
        CliRunner.AssertOneLineError(run, mentioned);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void A_whole_slide_within_the_size_limit_needs_no_region()
    {
        string dir = TestPaths.NewTempDirectory();
        var run = CliRunner.Run("normalize", TestPaths.CmuSmall, "--target", Target, "-o", Path.Combine(dir, "o.png"));
        Assert.True(run.ExitCode == 0, run.StdErr); // 2220 x 2967 is within the 64 Mpx limit
        var written = ImageIO.Load(Path.Combine(dir, "o.png"));
        Assert.Equal((2220, 2967), (written.Width, written.Height));
    }
}
