using System.Text.Json.Nodes;
using Histo.Tests.Cli;

namespace Histo.Tests.Inference;

/// <summary>The README's first command, with a given model so the test does not spend minutes training.</summary>
public sealed class DemoCliTests
{
    [Fact]
    public void Demo_with_a_model_runs_slide_inference_on_the_bundled_slide_and_scores_the_A01_window()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "demo");
        var result = CliRunner.RunWithTimeout(TimeSpan.FromMinutes(8), "demo", "-o", output, "--model", SlideTestModel.Directory, "--threads", "2");
        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr);

        Assert.True(File.Exists(Path.Combine(output, "thumbnail.png")));
        string cmu = Path.Combine(output, "slides", "cmu-1-small-region");
        foreach (string file in new[] { "heatmap.png", "heatmap-layer.png", "overlay.png", "classmap.png", "bach.png", "geometry.json", "patches.csv", "prediction.geojson", "summary.json" })
        {
            Assert.True(File.Exists(Path.Combine(cmu, file)), $"{file} missing in {cmu}");
        }

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(cmu, "summary.json")))!;
        Assert.NotNull(summary);
        Assert.True(Directory.Exists(Path.Combine(output, "slides", "A01-window")));
        Assert.Contains("Part B", result.StdOut, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("histo serve", result.StdOut, StringComparison.Ordinal);
        // The command to copy is one line even in a log (Spectre wraps at 80 columns when stdout is not a terminal).
        string serveLine = result.StdOut.Split('\n').Single(l => l.Contains("browse them with", StringComparison.Ordinal));
        Assert.True(serveLine.Length > 80, serveLine);
        Assert.EndsWith($"--predictions {Path.Combine(output, "slides")}", serveLine.TrimEnd(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(output, "model")), "a given model must not be trained again");
    }

    [Fact]
    public void Demo_without_a_model_or_the_shared_data_says_what_it_needs()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "demo");
        string noData = TestPaths.NewTempDirectory();
        var result = CliRunner.RunWithEnvironment(TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["HISTO_SHARED_DATA"] = noData }, "demo", "-o", output);
        CliRunner.AssertOneLineError(result, "--model");
        Assert.False(Directory.Exists(Path.Combine(output, "model")));
    }
}
