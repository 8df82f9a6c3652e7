using System.Diagnostics;
using Histo.Imaging;
using Histo.Tests.Cli;

namespace Histo.Tests.Inference;

public sealed class SlideCliTests
{
    private static readonly string[] OutputFiles =
        ["heatmap.png", "heatmap-layer.png", "overlay.png", "classmap.png", "bach.png", "geometry.json", "patches.csv", "prediction.geojson", "summary.json"];

    /// <summary>A folder of symbolic links to real slides, named so that they sort in the given order.</summary>
    private static string Cohort(params (string Name, string Target)[] slides)
    {
        string dir = Path.Combine(TestPaths.NewTempDirectory(), "slides");
        Directory.CreateDirectory(dir);
        foreach (var (name, target) in slides)
        {
            File.CreateSymbolicLink(Path.Combine(dir, name), target);
        }

        return dir;
    }

    /// <summary>A summary.json without <c>run.started_utc</c> and <c>run.wall_seconds</c>, as text.</summary>
    private static string WithoutRunTimes(string summaryPath)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(summaryPath))!.AsObject();
        var run = root["run"]!.AsObject();
        Assert.True(run.Remove("started_utc") && run.Remove("wall_seconds"), "summary.json records the run's times");
        return root.ToJsonString();
    }

    /// <summary>histo slide with the test model, its patches edge to edge (64 px: a few dozen per slide, unlike the finer default).</summary>
    private static CliRunner.Result Slide(params string[] args) =>
        CliRunner.Run(["slide", SlideTestModel.Directory, .. args, "--threads", "2", "--stride-pixels", "64"]);

    [Fact]
    public void A_cohort_run_writes_every_output_skips_finished_slides_and_score_reads_them()
    {
        string slides = Cohort(("a01.tif", TestPaths.A01Window), ("cmu.svs", TestPaths.CmuSmall));
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var first = Slide(slides, "-o", output);
        Assert.True(first.ExitCode == 0, first.StdErr);
        Assert.Contains("patches/s", first.StdErr, StringComparison.Ordinal);
        foreach (string slide in new[] { "a01", "cmu" })
        {
            foreach (string file in OutputFiles)
            {
                Assert.True(File.Exists(Path.Combine(output, slide, file)), $"{slide}/{file} missing");
            }
        }

        var csv = File.ReadAllLines(Path.Combine(output, "cohort.csv"));
        Assert.Equal("slide,status,tissue_mm2,Normal_mm2,Benign_mm2,InSitu_mm2,Invasive_mm2,Normal_fraction,Benign_fraction,InSitu_fraction,Invasive_fraction,"
            + "patch_count,seconds,model,model_id,software_version,error", csv[0]);
        Assert.StartsWith("a01,done,", csv[1], StringComparison.Ordinal);
        Assert.StartsWith("cmu,done,", csv[2], StringComparison.Ordinal);
        var areas = csv[1].Split(',')[2..7].Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(areas[0] > 1, "the A01 window holds a few mm² of tissue");
        Assert.Equal(areas[0], areas[1..].Sum(), 4);

        DateTime written = File.GetLastWriteTimeUtc(Path.Combine(output, "cmu", "summary.json"));
        var second = Slide(slides, "-o", output);
        Assert.True(second.ExitCode == 0, second.StdErr);
        Assert.Contains("cmu: skipped", second.StdErr, StringComparison.Ordinal);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(output, "cmu", "summary.json")));
        Assert.StartsWith("cmu,done,", File.ReadAllLines(Path.Combine(output, "cohort.csv"))[2], StringComparison.Ordinal);

        var score = CliRunner.Run("score", Path.Combine(output, "a01"), TestPaths.A01Labels, "--json");
        Assert.True(score.ExitCode == 0, score.StdErr);
        Assert.Contains("\"score\"", score.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Shards_partition_the_cohort_and_a_failing_slide_does_not_stop_the_others()
    {
        string broken = Path.Combine(TestPaths.NewTempDirectory(), "broken.svs");
        File.WriteAllText(broken, "not a slide");
        string slides = Cohort(("a-broken.svs", broken), ("b-cmu.svs", TestPaths.CmuSmall), ("c-cmu.svs", TestPaths.CmuSmall));
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");

        var shard1 = Slide(slides, "-o", output, "--shard", "1/2");
        Assert.True(shard1.ExitCode == 0, shard1.StdErr);
        Assert.True(Directory.Exists(Path.Combine(output, "b-cmu")));
        Assert.False(Directory.Exists(Path.Combine(output, "c-cmu")));
        Assert.Contains("c-cmu,pending,", File.ReadAllText(Path.Combine(output, "cohort.csv")), StringComparison.Ordinal);

        var shard0 = Slide(slides, "-o", output, "--shard", "0/2");
        Assert.NotEqual(0, shard0.ExitCode);
        Assert.Contains("error: a-broken", shard0.StdErr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(output, "c-cmu", "summary.json")));
        Assert.False(Directory.Exists(Path.Combine(output, "a-broken")));
        Assert.True(File.Exists(Path.Combine(output, "a-broken.failed.json")), "a failure is recorded per slide");
        var csv = File.ReadAllLines(Path.Combine(output, "cohort.csv"));
        Assert.StartsWith("a-broken,failed,", csv[1], StringComparison.Ordinal);
        Assert.StartsWith("b-cmu,done,", csv[2], StringComparison.Ordinal);
        Assert.StartsWith("c-cmu,done,", csv[3], StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(output, "b-cmu", "classmap.png")), File.ReadAllBytes(Path.Combine(output, "c-cmu", "classmap.png")));
    }

    [Fact]
    public void Bad_inputs_give_one_error_line_and_no_output_folder()
    {
        string root = TestPaths.NewTempDirectory();
        string output = Path.Combine(root, "out");

        var missingModel = CliRunner.Run("slide", Path.Combine(root, "no-model"), TestPaths.CmuSmall, "-o", output);
        CliRunner.AssertOneLineError(missingModel, "model directory not found");
        Assert.False(Directory.Exists(output));

        var badShard = Slide(TestPaths.CmuSmall, "-o", output, "--shard", "2/2");
        CliRunner.AssertOneLineError(badShard, "--shard");
        Assert.Equal(2, badShard.ExitCode);

        var missingSlide = Slide(Path.Combine(root, "none.svs"), "-o", output);
        CliRunner.AssertOneLineError(missingSlide, "not found");
        Assert.False(Directory.Exists(output));

        string wrongRoi = Path.Combine(root, "roi.png");
        ImageIO.SaveGray(wrongRoi, new byte[100 * 20], 100, 20);
        var wrongSize = Slide(TestPaths.CmuSmall, "-o", output, "--roi", wrongRoi);
        CliRunner.AssertOneLineError(wrongSize, "does not match the slide's shape");
        Assert.False(Directory.Exists(Path.Combine(output, "cmu-1-small-region")));
        Assert.Empty(Directory.Exists(output) ? Directory.EnumerateDirectories(output) : []);

        var badThresholds = Slide(TestPaths.CmuSmall, "-o", output, "--thresholds", "0,0.5,x");
        CliRunner.AssertOneLineError(badThresholds, "--thresholds");
    }

    [Fact]
    public void A_slide_without_tissue_gives_a_valid_empty_output()
    {
        string root = TestPaths.NewTempDirectory();
        string empty = Path.Combine(root, "empty.png");
        using (var slide = Histo.Slides.Slide.Open(TestPaths.CmuSmall))
        {
            ImageIO.SaveGray(empty, new byte[(slide.Width / 10) * (slide.Height / 10)], (int)slide.Width / 10, (int)slide.Height / 10);
        }

        string output = Path.Combine(root, "out");
        var run = Slide(TestPaths.CmuSmall, "-o", output, "--roi", empty);
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Contains("warning: cmu-1-small-region: no tissue found", run.StdErr, StringComparison.Ordinal);
        Assert.All(ImageIO.LoadGray(Path.Combine(output, "cmu-1-small-region", "classmap.png")).Pixels, v => Assert.Equal(255, v));
        Assert.Single(File.ReadAllLines(Path.Combine(output, "cmu-1-small-region", "patches.csv")));
    }

    [Fact]
    public void A_run_killed_mid_cohort_resumes_to_the_same_outputs_as_an_uninterrupted_run()
    {
        string slides = Cohort(("1-cmu.svs", TestPaths.CmuSmall), ("2-a01.tif", TestPaths.A01Window), ("3-a01.tif", TestPaths.A01Window));
        string reference = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var whole = Slide(slides, "-o", reference);
        Assert.True(whole.ExitCode == 0, whole.StdErr);

        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "Histo.Cli.dll"), "slide", SlideTestModel.Directory, slides, "-o", output, "--threads", "2", "--stride-pixels", "64" })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["LD_PRELOAD"] = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
        bool interrupted;
        using (var process = Process.Start(start)!)
        {
            _ = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(output, "1-cmu", "summary.json")) && !process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
            {
                Thread.Sleep(20);
            }

            interrupted = !process.HasExited;
            process.Kill(); // SIGKILL on Linux: no cleanup runs
            process.WaitForExit();
        }

        Assert.True(interrupted, "the run finished before it could be killed");
        Assert.False(File.Exists(Path.Combine(output, "3-a01", "summary.json")));
        var resumed = Slide(slides, "-o", output);
        Assert.True(resumed.ExitCode == 0, resumed.StdErr);
        Assert.Contains("1-cmu: skipped", resumed.StdErr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateDirectories(output, ".*"));
        foreach (string slide in new[] { "1-cmu", "2-a01", "3-a01" })
        {
            Assert.Equal(OutputFiles.Order(), Directory.EnumerateFiles(Path.Combine(output, slide)).Select(Path.GetFileName).Order()!);
            foreach (string file in OutputFiles.Where(f => f != "summary.json"))
            {
                Assert.True(File.ReadAllBytes(Path.Combine(reference, slide, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(output, slide, file))),
                    $"{slide}/{file} differs from the uninterrupted run");
            }

            // summary.json differs only in the run's start time and wall seconds.
            Assert.Equal(WithoutRunTimes(Path.Combine(reference, slide, "summary.json")), WithoutRunTimes(Path.Combine(output, slide, "summary.json")));
        }
    }
}
