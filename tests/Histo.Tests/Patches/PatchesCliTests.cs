using System.Globalization;
using Histo.Imaging;
using Histo.Patches;
using Histo.Slides;
using Histo.Tests.Cli;

namespace Histo.Tests.Patches;

/// <summary>The <c>histo patches</c> verb and the exporter behind it, on real slides and images.</summary>
public class PatchesCliTests
{
    private sealed record Row(string Slide, string File, long X, long Y, long Level0Size, int SizePx, string Tissue, string Label, string LabelFraction);

    private static List<Row> ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        Assert.Equal(PatchCsvWriter.Header, lines[0]);
        return lines.Skip(1).Select(l => l.Split(','))
            .Select(f => new Row(f[0], f[1], long.Parse(f[2], CultureInfo.InvariantCulture), long.Parse(f[3], CultureInfo.InvariantCulture),
                long.Parse(f[4], CultureInfo.InvariantCulture), int.Parse(f[5], CultureInfo.InvariantCulture), f[6], f[7], f[8]))
            .ToList();
    }

    [Fact]
    public void A01_with_labels_writes_pngs_and_a_csv_that_agree_with_the_library()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var run = CliRunner.Run("patches", TestPaths.A01Window, "-o", output, "--size", "256", "--mpp", "0.5",
            "--labels", TestPaths.A01Labels);
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Contains("patches/s", run.StdErr, StringComparison.Ordinal);
        var rows = ReadCsv(Path.Combine(output, "patches.csv"));
        var pngs = Directory.GetFiles(Path.Combine(output, "A01-window"), "*.png");
        Assert.Equal(rows.Count, pngs.Length);
        Assert.True(rows.Count > 100);
        Assert.Equal(new[] { "A01-window", "patches.csv" }, Directory.GetFileSystemEntries(output).Select(Path.GetFileName).Order());

        using var slide = Slide.Open(TestPaths.A01Window);
        long level0Size = (long)Math.Round(256 * 0.5 / slide.MppX!.Value);
        Assert.All(rows, r => Assert.Equal(level0Size, r.Level0Size));
        Assert.All(rows, r => Assert.True(double.Parse(r.Tissue, CultureInfo.InvariantCulture) >= 0.05));
        Assert.All(rows, r => Assert.True(r.Y >= 1500, $"patch at y {r.Y} lies in the glass at the top")); // top ~35 % is glass
        Assert.Contains(rows, r => r.Label == "1"); // patches over the benign duct
        Assert.All(rows.Where(r => r.X + r.Level0Size <= 4425), r => Assert.Equal(("0", "0"), (r.Label, r.LabelFraction)));

        // The PNG holds exactly the library's read of that patch.
        var sample = rows[rows.Count / 2];
        var expected = PatchReader.Read(slide, new PatchPosition(0, 0, sample.X, sample.Y, sample.Level0Size, null), 256);
        var written = ImageIO.Load(Path.Combine(output, sample.File));
        Assert.Equal((256, 256), (written.Width, written.Height));
        Assert.Equal(expected.Pixels, written.Pixels);
    }

    [Fact]
    public void A_real_2048_by_1536_field_gives_the_seed_14_crops()
    {
        string dir = TestPaths.NewTempDirectory();
        string field = Path.Combine(dir, "field.png");
        using (var slide = Slide.Open(TestPaths.CmuSmall))
        {
            ImageIO.Save(field, slide.ReadRegion(100, 700, 0, 2048, 1536));
        }

        string output = Path.Combine(dir, "out");
        var run = CliRunner.Run("patches", field, "-o", output, "--size", "1495", "--stride-pixels", "99", "--min-tissue", "0");
        Assert.True(run.ExitCode == 0, run.StdErr);
        var rows = ReadCsv(Path.Combine(output, "patches.csv"));
        Assert.Equal(14, rows.Count);
        Assert.Equal(new long[] { 0, 99, 198, 297, 396, 495, 553 }, rows.Select(r => r.X).Distinct().Order());
        Assert.Equal(new long[] { 0, 41 }, rows.Select(r => r.Y).Distinct().Order());
        var crop = ImageIO.Load(Path.Combine(output, rows.Single(r => r.X == 553 && r.Y == 41).File));
        Assert.Equal((1495, 1495), (crop.Width, crop.Height));
        var source = ImageIO.Load(field);
        Assert.Equal(source.Crop(553, 41, 1495, 1495).Pixels, crop.Pixels);
    }

    [Fact]
    public void A_folder_is_cut_slide_by_slide_and_other_files_are_ignored()
    {
        string dir = TestPaths.NewTempDirectory();
        string input = Path.Combine(dir, "in");
        Directory.CreateDirectory(input);
        File.Copy(TestPaths.Shared("tissue-tiles", "histolab", "tissue-level2-1784-6289-5880-10386.png"), Path.Combine(input, "a.png"));
        File.Copy(TestPaths.Shared("tissue-tiles", "histolab", "no-tissue.png"), Path.Combine(input, "b.png"));
        File.WriteAllText(Path.Combine(input, "notes.txt"), "not a slide");
        Directory.CreateDirectory(Path.Combine(input, ".hidden"));
        File.Copy(TestPaths.Shared("tissue-tiles", "histolab", "no-tissue.png"), Path.Combine(input, ".hidden", "c.png"));
        string output = Path.Combine(input, "out"); // inside the input folder: never read back as input
        Directory.CreateDirectory(Path.Combine(output, "old"));
        File.Copy(TestPaths.Shared("tissue-tiles", "histolab", "no-tissue.png"), Path.Combine(output, "old", "d.png"));
        var run = CliRunner.Run("patches", input, "-o", output, "--size", "128");
        Assert.True(run.ExitCode == 0, run.StdErr);
        var rows = ReadCsv(Path.Combine(output, "patches.csv"));
        Assert.All(rows, r => Assert.Equal("a.png", r.Slide)); // b.png is glass: no patch passes 5 % tissue
        Assert.InRange(rows.Count, 10, 16);
        Assert.True(Directory.Exists(Path.Combine(output, "b")));
        Assert.Empty(Directory.GetFiles(Path.Combine(output, "b")));
        Assert.Contains("warning: b.png: no tissue found", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("has no MPP", run.StdErr, StringComparison.Ordinal); // the tissue masks' fallback
        Assert.DoesNotContain("c.png", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("d.png", run.StdErr, StringComparison.Ordinal);
        Assert.Equal(new[] { "a", "b", "old", "patches.csv" }, Directory.GetFileSystemEntries(output).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Sub_folders_are_searched_like_the_bach_part_a_layout()
    {
        var inputs = PatchExporter.FindInputs(TestPaths.Shared("microscopy", "bach"));
        Assert.Equal(new[] { "benign.png", "in_situ.png", "invasive.png", "normal.png" }, inputs.Select(Path.GetFileName));
    }

    [Fact]
    public void A_slide_without_mpp_falls_back_to_level_0_with_a_warning()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var run = CliRunner.Run("patches", TestPaths.Tcga, "-o", output, "--size", "1024", "--mpp", "0.5", "--min-tissue", "0.9");
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Contains("patches are cut at level 0", run.StdErr, StringComparison.Ordinal);
        var rows = ReadCsv(Path.Combine(output, "patches.csv"));
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.Equal(1024, r.Level0Size));
    }

    [Fact]
    public void A_failure_in_the_second_slide_leaves_no_output_behind()
    {
        string dir = TestPaths.NewTempDirectory();
        string input = Path.Combine(dir, "in");
        Directory.CreateDirectory(input);
        File.Copy(TestPaths.Shared("tissue-tiles", "histolab", "tissue-level2-1784-6289-5880-10386.png"), Path.Combine(input, "a.png"));
        File.Copy(TestPaths.BrokenSvs, Path.Combine(input, "b.svs"));
        string output = Path.Combine(dir, "out");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "user file");
        var run = CliRunner.Run("patches", input, "-o", output, "--size", "128");
        Assert.Equal(1, run.ExitCode);
        CliRunner.AssertOneLineError(run, "b.svs");
        Assert.Equal(new[] { "keep.txt" }, Directory.GetFileSystemEntries(output).Select(Path.GetFileName));
    }

    /// <summary>A read error inside the parallel patch reads surfaces as the slide's own one-line error.</summary>
    [Fact]
    public void A_corrupt_tile_is_one_error_line_and_no_output()
    {
        string dir = TestPaths.NewTempDirectory();
        string slide = Path.Combine(dir, "corrupt.svs");
        var bytes = File.ReadAllBytes(TestPaths.CmuSmall);
        for (int i = 900_000; i < 940_000; i += 2)
        {
            (bytes[i], bytes[i + 1]) = (0xFF, 0xD9); // JPEG end markers over tile data in the middle of the file
        }

        File.WriteAllBytes(slide, bytes);
        string output = Path.Combine(dir, "out");
        var run = CliRunner.Run("patches", slide, "-o", output, "--size", "512", "--min-tissue", "0");
        Assert.Equal(1, run.ExitCode);
        CliRunner.AssertOneLineError(run, "corrupt.svs");
        Assert.DoesNotContain("Aggregate", run.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Theory]
    [InlineData("--size", "0", "size")]
    [InlineData("--stride-pixels", "0", "stride")]
    [InlineData("--min-tissue", "2", "min-tissue")]
    [InlineData("--mag", "twenty", "mag")]
    [InlineData("--label-rule", "median", "label-rule")]
    public void Bad_options_are_usage_errors(string option, string value, string mentioned)
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var run = CliRunner.Run("patches", TestPaths.CmuSmall, "-o", output, option, value);
        Assert.Equal(2, run.ExitCode);
        CliRunner.AssertOneLineError(run, mentioned);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Two_resolutions_or_labels_with_a_folder_are_usage_errors()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var both = CliRunner.Run("patches", TestPaths.CmuSmall, "-o", output, "--mpp", "0.5", "--mag", "20x");
        Assert.Equal(2, both.ExitCode);
        CliRunner.AssertOneLineError(both, "at most one");
        var folder = CliRunner.Run("patches", TestPaths.Shared("slides"), "-o", output, "--labels", TestPaths.A01Labels);
        Assert.Equal(2, folder.ExitCode);
        CliRunner.AssertOneLineError(folder, "folder");
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void A_label_mask_of_the_wrong_shape_is_an_error_without_output()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var run = CliRunner.Run("patches", TestPaths.CmuSmall, "-o", output, "--labels", TestPaths.A01Labels);
        Assert.Equal(1, run.ExitCode);
        CliRunner.AssertOneLineError(run, "does not match");
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Exporter_reports_progress_and_labels_through_the_raster_mask_seam()
    {
        using var slide = Slide.Open(TestPaths.A01Window);
        var labels = Histo.Maps.RasterMask.Load(TestPaths.A01Labels, slide.Width, slide.Height);
        string dir = TestPaths.NewTempDirectory();
        var exporter = new PatchExporter(new PatchExportOptions { SizePixels = 500, MinTissueFraction = 0.5, LabelRule = LabelRule.Majority });
        string csvPath = Path.Combine(dir, "p.csv");
        var reports = new List<(long Done, long Count, long Written)>();
        SlidePatchSummary summary;
        using (var csv = new PatchCsvWriter(csvPath))
        {
            summary = exporter.WriteSlidePatches(slide, labels, Path.Combine(dir, "tiles"), csv, new SyncProgress(reports.Add));
        }

        Assert.Equal(100, summary.PositionCount);
        Assert.Equal(summary.PatchCount, reports[^1].Written);
        Assert.Equal(100, reports[^1].Done);
        var rows = ReadCsv(csvPath);
        Assert.Equal(summary.PatchCount, rows.Count);
        Assert.Contains(rows, r => r.Label == "1");
        Assert.All(rows, r => Assert.StartsWith("tiles/", r.File, StringComparison.Ordinal));
    }

    private sealed class SyncProgress(Action<(long Done, long Count, long Written)> report) : IProgress<(long Done, long Count, long Written)>
    {
        public void Report((long Done, long Count, long Written) value) => report(value);
    }
}
