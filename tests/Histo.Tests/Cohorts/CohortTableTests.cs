using System.Diagnostics;
using System.Text.Json;
using Histo.Tests.Cli;
using Histo.Tests.Inference;

namespace Histo.Tests.Cohorts;

/// <summary>The cohort table is a view of what is on disk, whatever runs (successive, concurrent, killed) made it.</summary>
public sealed class CohortTableTests
{
    private static string Cohort(params string[] names)
    {
        string dir = Path.Combine(TestPaths.NewTempDirectory(), "slides");
        Directory.CreateDirectory(dir);
        foreach (string name in names)
        {
            File.CreateSymbolicLink(Path.Combine(dir, name), TestPaths.CmuSmall);
        }

        return dir;
    }

    private static string[] Rows(string output) => File.ReadAllLines(Path.Combine(output, "cohort.csv")).Skip(1).ToArray();

    private static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in (string[])[Path.Combine(AppContext.BaseDirectory, "Histo.Cli.dll"), "slide", SlideTestModel.Directory, .. args, "--threads", "1", "--stride-pixels", "64"])
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["LD_PRELOAD"] = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
        var process = Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        return process;
    }

    [Fact]
    public void Two_successive_runs_on_different_slides_into_one_folder_keep_both_rows_and_histo_cohort_reports_them()
    {
        string slides = Cohort("a.svs", "b.svs");
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var first = CliRunner.Run("slide", SlideTestModel.Directory, Path.Combine(slides, "a.svs"), "-o", output, "--threads", "2", "--stride-pixels", "64");
        Assert.True(first.ExitCode == 0, first.StdErr);
        var second = CliRunner.Run("slide", SlideTestModel.Directory, Path.Combine(slides, "b.svs"), "-o", output, "--threads", "2", "--stride-pixels", "64");
        Assert.True(second.ExitCode == 0, second.StdErr);
        var rows = Rows(output);
        Assert.Equal(2, rows.Length);
        Assert.StartsWith("a,done,", rows[0], StringComparison.Ordinal);
        Assert.StartsWith("b,done,", rows[1], StringComparison.Ordinal);
        Assert.Contains(",bach-test-model,", rows[0], StringComparison.Ordinal);

        File.Delete(Path.Combine(output, "cohort.csv"));
        var cohort = CliRunner.Run("cohort", output, "--json");
        Assert.True(cohort.ExitCode == 0, cohort.StdErr);
        using var json = JsonDocument.Parse(cohort.StdOut);
        Assert.Equal(2, json.RootElement.GetProperty("done").GetInt32());
        Assert.Equal(0, json.RootElement.GetProperty("pending").GetInt32());
        var model = Assert.Single(json.RootElement.GetProperty("models").EnumerateArray().ToList());
        Assert.Equal(16, model.GetProperty("id").GetString()!.Length);
        Assert.Equal(0, json.RootElement.GetProperty("slides_from_other_models").GetArrayLength());
        Assert.Equal(rows, Rows(output));

        // A slide made by another model (another card: another id) is flagged.
        string summary = Path.Combine(output, "b", "summary.json");
        File.WriteAllText(summary, File.ReadAllText(summary).Replace(model.GetProperty("id").GetString()!, "0000000000000000", StringComparison.Ordinal));
        var flagged = CliRunner.Run("cohort", output);
        Assert.True(flagged.ExitCode == 0, flagged.StdErr);
        Assert.Contains("made by another model than the others: ", flagged.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Three_shards_at_once_one_killed_mid_slide_then_rerun_give_a_complete_table_with_each_slide_once()
    {
        string slides = Cohort("s1.svs", "s2.svs", "s3.svs", "s4.svs", "s5.svs", "s6.svs");
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var shards = Enumerable.Range(0, 3).Select(i => Start(slides, "-o", output, "--shard", $"{i}/3")).ToList();

        // Shard 2 owns s3 and s6: kill it while it works on s6, once s3 is finished.
        var clock = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(output, "s3", "summary.json")) && !shards[2].HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            Thread.Sleep(10);
        }

        bool killedMidSlide = !shards[2].HasExited && !File.Exists(Path.Combine(output, "s6", "summary.json"));
        shards[2].Kill();
        foreach (var p in shards)
        {
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)));
        }

        Assert.True(killedMidSlide, "shard 2 finished its slide before it could be killed");
        Assert.Equal(0, shards[0].ExitCode);
        Assert.Equal(0, shards[1].ExitCode);
        foreach (var p in shards)
        {
            p.Dispose();
        }

        var before = Rows(output);
        Assert.Equal(6, before.Length);
        Assert.StartsWith("s3,done,", before[2], StringComparison.Ordinal);
        Assert.StartsWith("s6,pending,", before[5], StringComparison.Ordinal);

        var rerun = CliRunner.Run("slide", SlideTestModel.Directory, slides, "-o", output, "--shard", "2/3", "--threads", "2", "--stride-pixels", "64");
        Assert.True(rerun.ExitCode == 0, rerun.StdErr);
        var rows = Rows(output);
        Assert.Equal(["s1", "s2", "s3", "s4", "s5", "s6"], rows.Select(r => r.Split(',')[0]).ToArray());
        Assert.All(rows, r => Assert.Equal("done", r.Split(',')[1]));
        Assert.Empty(Directory.EnumerateDirectories(output, ".*"));
        Assert.Empty(Directory.EnumerateFiles(output, "*.failed.json"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(output, "s1", "classmap.png")), File.ReadAllBytes(Path.Combine(output, "s3", "classmap.png")));
    }
}
