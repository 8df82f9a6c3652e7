using System.Globalization;
using System.Text.Json;
using Histo.Imaging;
using Histo.Inference;
using Histo.Learning.Models;
using Histo.Outputs;
using Histo.Slides;
using Histo.Tests.Cli;

namespace Histo.Tests.Inference;

/// <summary><c>summary.json</c> says what made it: version, model id, engine, time, sampling, and figures a pathologist reads.</summary>
public sealed class SummaryProvenanceTests
{
    [Fact]
    public void Histo_slide_records_version_model_id_engine_time_and_sampling_in_the_summary()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var before = DateTime.UtcNow;
        var run = CliRunner.Run("slide", SlideTestModel.Directory, TestPaths.CmuSmall, "-o", output, "--stride-pixels", "25", "--min-tissue", "0.1", "--threads", "2");
        var after = DateTime.UtcNow;
        Assert.True(run.ExitCode == 0, run.StdErr);
        string dir = Path.Combine(output, "cmu-1-small-region");
        Assert.False(File.Exists(Path.Combine(dir, "run.json")), "the run's times live in summary.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        var root = doc.RootElement;

        Assert.Equal(SlideProvenance.SoftwareVersion, root.GetProperty("software_version").GetString());
        Assert.Equal(PatchClassifier.ComputeId(SlideTestModel.Directory), root.GetProperty("model").GetProperty("id").GetString());
        Assert.Equal("fused-fp32", root.GetProperty("engine").GetProperty("name").GetString());

        var runInfo = root.GetProperty("run");
        var started = DateTime.Parse(runInfo.GetProperty("started_utc").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        Assert.Equal(DateTimeKind.Utc, started.Kind);
        Assert.InRange(started, before.AddMilliseconds(-1), after);
        double seconds = runInfo.GetProperty("wall_seconds").GetDouble();
        Assert.InRange(seconds, 0.001, (after - started).TotalSeconds);
        Assert.Equal(25, runInfo.GetProperty("stride_pixels").GetInt32());
        double mpp;
        using (var slide = Slide.Open(TestPaths.CmuSmall))
        {
            mpp = slide.MppX!.Value;
        }

        Assert.Equal(25 * 4.0 / mpp, runInfo.GetProperty("level0_stride_pixels").GetDouble(), 0.01);
        Assert.Equal(0.1, runInfo.GetProperty("min_tissue_fraction").GetDouble());
        Assert.Equal("tissue", runInfo.GetProperty("region").GetString());
        Assert.Equal(JsonValueKind.Null, runInfo.GetProperty("region_file").ValueKind);
        Assert.Equal("lab", runInfo.GetProperty("tissue_method").GetString());

        // Per class: the mean probability, and the largest focus's longest extent in mm (max Feret diameter), which
        // lies between the longer side and the diagonal of its bounding box.
        var classes = root.GetProperty("classes").EnumerateArray().ToList();
        Assert.Equal(1.0, classes.Sum(c => c.GetProperty("mean_probability").GetDouble()), 4);
        int foci = 0;
        foreach (var focus in classes.Select(c => c.GetProperty("largest_focus")).Where(f => f.ValueKind == JsonValueKind.Object))
        {
            double w = focus.GetProperty("level0_width").GetDouble() * mpp / 1000, h = focus.GetProperty("level0_height").GetDouble() * mpp / 1000;
            Assert.InRange(focus.GetProperty("max_feret_mm").GetDouble(), Math.Max(w, h) - 1e-4, Math.Sqrt((w * w) + (h * h)) + 1e-4);
            foci++;
        }

        Assert.True(foci > 0);

        // The cohort table reads the wall seconds from there.
        var csv = File.ReadAllLines(Path.Combine(output, "cohort.csv"));
        int column = Array.IndexOf(csv[0].Split(','), "seconds");
        Assert.Equal(seconds.ToString("0.##", CultureInfo.InvariantCulture), csv[1].Split(',')[column]);
    }

    [Fact]
    public void Mean_probabilities_are_over_the_tissue_cells_and_a_mask_region_is_named()
    {
        string root = TestPaths.NewTempDirectory();
        string maskPath = Path.Combine(root, "upper-half.png");
        using (var slide = Slide.Open(TestPaths.CmuSmall))
        {
            int w = (int)slide.Width / 10, h = (int)slide.Height / 10;
            var mask = new byte[w * h];
            Array.Fill(mask, (byte)255, 0, w * (h / 2));
            ImageIO.SaveGray(maskPath, mask, w, h);
        }

        using var model = SlideTestModel.Load();
        var result = new SlideInference(model, new SlideInferenceOptions { ReaderThreads = 2, StridePixels = 64, Region = RegionOfInterest.FromPath(maskPath) }).Run(TestPaths.CmuSmall);
        Assert.Equal(new SlideSampling(64, result.Sampling!.Level0StridePixels, 0.05, "mask", "upper-half.png", null), result.Sampling);
        string outRoot = TestPaths.NewTempDirectory();
        var started = DateTime.UtcNow;
        SlideOutputs.Write(outRoot, result, new SlideProvenance("m", null, started));
        string dir = Path.Combine(outRoot, "cmu-1-small-region");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        var tissue = Enumerable.Range(0, result.ClassMap.Length).Where(c => result.ClassMap[c] != SlideInferenceResult.NoTissue).ToList();
        Assert.NotEmpty(tissue);
        var classes = doc.RootElement.GetProperty("classes").EnumerateArray().ToList();
        for (int k = 0; k < classes.Count; k++)
        {
            Assert.Equal(tissue.Average(c => result.ProbabilityMaps[k][c]), classes[k].GetProperty("mean_probability").GetDouble(), 5);
        }

        var run = doc.RootElement.GetProperty("run");
        Assert.Equal(started.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), run.GetProperty("started_utc").GetString());
        Assert.Equal("mask", run.GetProperty("region").GetString());
        Assert.Equal("upper-half.png", run.GetProperty("region_file").GetString());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("tissue_method").ValueKind);

        // Rebuilt from the files (as tune and mine do), the result keeps its sampling.
        Assert.Equal(result.Sampling, SlideOutputs.Read(dir, model.Card).Sampling);
    }
}
