using System.Text.Json;
using Histo.Imaging;

namespace Histo.Tests.Cli;

public class SlideCommandTests
{
    [Fact]
    public void Info_json_reports_cmu_dimensions()
    {
        var r = CliRunner.Run("info", TestPaths.CmuSmall, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;
        Assert.Equal(2220, root.GetProperty("width").GetInt64());
        Assert.Equal(2967, root.GetProperty("height").GetInt64());
        Assert.Equal(1, root.GetProperty("level_count").GetInt32());
        Assert.Equal(2220, root.GetProperty("levels")[0].GetProperty("width").GetInt64());
        Assert.Equal(1.0, root.GetProperty("levels")[0].GetProperty("downsample").GetDouble());
        Assert.Equal(0.499, root.GetProperty("mpp_x").GetDouble(), 6);
        Assert.Equal("vendor", root.GetProperty("mpp_source").GetString());
        Assert.Equal("aperio", root.GetProperty("vendor").GetString());
        Assert.Equal("20", root.GetProperty("properties").GetProperty("aperio.AppMag").GetString());
    }

    [Fact]
    public void Info_json_gives_null_mpp_when_unknown()
    {
        var r = CliRunner.Run("info", TestPaths.Tcga, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("mpp_x").ValueKind);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("mpp_source").ValueKind);
    }

    [Fact]
    public void Broken_and_missing_slides_give_one_error_line()
    {
        CliRunner.AssertOneLineError(CliRunner.Run("info", TestPaths.BrokenSvs), "broken.svs");
        CliRunner.AssertOneLineError(CliRunner.Run("info", "/no/such/file.svs"), "not found");
    }

    [Fact]
    public void Usage_errors_exit_2()
    {
        var unknownOption = CliRunner.Run("info", TestPaths.CmuSmall, "--bogus");
        CliRunner.AssertOneLineError(unknownOption);
        Assert.Equal(2, unknownOption.ExitCode);
        var badSize = CliRunner.Run("thumbnail", TestPaths.CmuSmall, "-o", "/tmp/x.png", "--max-size", "0");
        CliRunner.AssertOneLineError(badSize, "--max-size");
        Assert.Equal(2, badSize.ExitCode);
        Assert.Equal(2, CliRunner.Run("no-such-command").ExitCode);
    }

    [Fact]
    public void Verbose_error_includes_stack_trace()
    {
        var r = CliRunner.Run("info", TestPaths.BrokenSvs, "--verbose");
        Assert.NotEqual(0, r.ExitCode);
        Assert.StartsWith("error: ", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("   at ", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Thumbnail_writes_png_of_requested_size()
    {
        string dir = TestPaths.NewTempDirectory();
        string output = Path.Combine(dir, "thumb.png");
        var r = CliRunner.Run("thumbnail", TestPaths.CmuSmall, "-o", output, "--max-size", "300");
        Assert.Equal(0, r.ExitCode);
        var image = ImageIO.Load(output);
        Assert.Equal(300, image.Height);
        Assert.Equal(224, image.Width);
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void Region_writes_png_matching_reference_and_fails_cleanly_outside()
    {
        string dir = TestPaths.NewTempDirectory();
        string output = Path.Combine(dir, "region.png");
        var ok = CliRunner.Run("region", TestPaths.CmuSmall, "--x", "1000", "--y", "1200", "--width", "64", "--height", "64", "-o", output);
        Assert.Equal(0, ok.ExitCode);
        Assert.Equal(ImageIO.Load(TestPaths.Fixture("cmu-1000-1200-64.png")).Pixels, ImageIO.Load(output).Pixels);

        string outside = Path.Combine(dir, "outside.png");
        var bad = CliRunner.Run("region", TestPaths.CmuSmall, "--x", "9000", "--y", "0", "--width", "64", "--height", "64", "-o", outside);
        CliRunner.AssertOneLineError(bad, "outside the slide");
        Assert.False(File.Exists(outside));
        Assert.Single(Directory.GetFiles(dir));
    }

    /// <summary>region requires all four region options; region and normalize share the same bounds.</summary>
    [Theory]
    [InlineData("region", "--height", "64", "are required")]
    [InlineData("region", "--height", "0", "must be positive")]
    [InlineData("normalize", "--height", "-3", "must be positive")]
    [InlineData("normalize", "--level", "-1", "--level")]
    public void Region_options_are_checked_before_reading(string verb, string option, string value, string mentioned)
    {
        string dir = TestPaths.NewTempDirectory();
        string output = Path.Combine(dir, "out.png");
        string[] region = option == "--height" && mentioned == "are required"
            ? ["--x", "0", "--y", "0", option, value]
            : ["--x", "0", "--y", "0", "--width", "64", "--height", "64", option, value];
        string[] extra = verb == "normalize" ? ["--target", TestPaths.CmuSmall] : [];
        var result = CliRunner.Run([verb, TestPaths.CmuSmall, .. region, .. extra, "-o", output]);
        CliRunner.AssertOneLineError(result, mentioned);
        Assert.Equal(2, result.ExitCode);
        Assert.Empty(Directory.GetFiles(dir));
    }
}
