using System.Text.Json;
using Histo.Bach;
using Histo.Datasets;
using Histo.Imaging;
using Histo.Inference;
using Histo.Maps;
using Histo.Models;
using Histo.Outputs;
using Histo.Scoring;
using Histo.Tests.Cli;

namespace Histo.Tests.Inference;

public sealed class TuneAndMineTests
{
    [Fact]
    public void Tuned_thresholds_score_what_histo_score_measures_and_beat_the_seed_thresholds()
    {
        using var model = SlideTestModel.Load();
        var result = new SlideInference(model, new SlideInferenceOptions { Rule = ClassMapRule.Argmax, StridePixels = 64 }).Run(TestPaths.A01Window);
        var truth = GroundTruth.Load(TestPaths.A01Labels, result.Geometry);
        Assert.True(truth.Pixels.Count(v => v == 1) > 0, "the benign duct is on the truth grid");
        var tuner = new ThresholdTuner();
        tuner.Add(result, truth);
        var tuned = tuner.Tune();
        Assert.Equal(0, tuned.Thresholds[0]);
        Assert.True(tuned.Thresholds.Zip(tuned.Thresholds.Skip(1)).All(p => p.First <= p.Second));
        Assert.True(tuned.Score >= tuned.SeedScore);
        Assert.True(tuner.Tune(0.05).Score <= tuned.Score + 1e-12, "a finer grid contains the coarse one");

        // The argmax score the tuner reports is the one histo score computes on bach.png.
        string argmaxOut = TestPaths.NewTempDirectory();
        SlideOutputs.Write(argmaxOut, result, new SlideProvenance("m"));
        Assert.Equal(tuned.ArgmaxScore, SlideScorer.Score(Path.Combine(argmaxOut, "A01-window"), TestPaths.A01Labels).Score.Score!.Value, 9);

        // The written outputs give the maps back (probabilities stored to 6 decimals).
        var read = SlideOutputs.Read(Path.Combine(argmaxOut, "A01-window"), model.Card);
        Assert.Equal(result.Geometry, read.Geometry with { Classes = result.Geometry.Classes, ClassColors = result.Geometry.ClassColors });
        Assert.Equal(result.ClassMap.Select(v => v == 255), read.ClassMap.Select(v => v == 255));
        for (int i = 0; i < result.Intensity.Length; i++)
        {
            double a = result.Intensity[i], b = read.Intensity[i];
            Assert.True(double.IsNaN(a) ? double.IsNaN(b) : Math.Abs(a - b) < 1e-5, $"cell {i}: {a} vs {b}");
        }

        Assert.Throws<HistoException>(() => SlideOutputs.Read(argmaxOut, model.Card));

        // Running the slide with the tuned thresholds gives exactly the tuned score.
        var rerun = new SlideInference(model, new SlideInferenceOptions { Rule = ClassMapRule.WithThresholds(tuned.Thresholds), StridePixels = 64 }).Run(TestPaths.A01Window);
        string output = TestPaths.NewTempDirectory();
        SlideOutputs.Write(output, rerun, new SlideProvenance("m"));
        var scored = SlideScorer.Score(Path.Combine(output, "A01-window"), TestPaths.A01Labels);
        Assert.Equal(tuned.Score, scored.Score.Score!.Value, 9);
        var seeded = BachScore.Compute(rerun.Geometry.CreateMask(MapBach(result, ClassMapRule.WithThresholds(ClassMapRule.SeedThresholds))), truth);
        Assert.Equal(tuned.SeedScore, seeded.Score!.Value, 9);
    }

    private static byte[] MapBach(SlideInferenceResult result, ClassMapRule rule) =>
        result.ClassMapWith(rule).Select(v => v == 255 ? (byte)0 : (byte)result.Card.BachCodes![v]).ToArray();

    [Fact]
    public void Slides_pair_with_truth_files_by_name()
    {
        var pairs = GroundTruth.Pair(["/s/A02.svs", "/s/A01-window.tif"], ["/t/A01-window-labels.png", "/t/A02.xml"]);
        Assert.Equal([("/s/A02.svs", "/t/A02.xml"), ("/s/A01-window.tif", "/t/A01-window-labels.png")], pairs);
        Assert.Throws<ScoringException>(() => GroundTruth.Pair(["/s/A02.svs"], ["/t/A03.xml"]));
        Assert.Throws<ScoringException>(() => GroundTruth.Pair(["/s/A02.svs"], ["/t/A02.xml", "/t/A02_mask.png"]));
    }

    [Fact]
    public void Histo_tune_writes_the_thresholds_into_the_card_and_histo_slide_uses_them()
    {
        string model = SlideTestModel.Copy();
        Assert.Null(ModelCard.Load(model).Thresholds);
        var run = CliRunner.Run("tune", model, TestPaths.A01Window, TestPaths.A01Labels, "--threads", "2", "--step", "0.05");
        Assert.True(run.ExitCode == 0, run.StdErr);
        var card = ModelCard.Load(model);
        Assert.NotNull(card.Thresholds);
        Assert.Equal(4, card.Thresholds!.Count);
        Assert.Contains($"thresholds {string.Join(",", card.Thresholds.Select(t => t.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)))}", run.StdOut, StringComparison.Ordinal);
        Assert.True(card.Extra!.ContainsKey("thresholds_tuning"));
        Assert.Equal(["Normal", "Benign", "InSitu", "Invasive"], card.Classes);
        Assert.Empty(Directory.EnumerateFiles(model, ".*"));

        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var slide = CliRunner.Run("slide", model, TestPaths.A01Window, "-o", output, "--threads", "2");
        Assert.True(slide.ExitCode == 0, slide.StdErr);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "A01-window", "summary.json")));
        Assert.Equal("thresholds", summary.RootElement.GetProperty("rule").GetString());
        Assert.Equal(card.Thresholds, summary.RootElement.GetProperty("thresholds").EnumerateArray().Select(e => e.GetDouble()));

        var reused = CliRunner.Run("tune", model, TestPaths.A01Window, TestPaths.A01Labels, "--outputs", output, "--dry-run", "--step", "0.05");
        Assert.True(reused.ExitCode == 0, reused.StdErr);
        Assert.Contains("(reused ", reused.StdErr, StringComparison.Ordinal);
        Assert.Contains("dry run", reused.StdErr, StringComparison.Ordinal);
        Assert.Equal(card.Thresholds, ModelCard.Load(model).Thresholds);

        var unpaired = CliRunner.Run("tune", model, TestPaths.A01Window, TestPaths.Shared("annotations", "bach", "A02.xml"));
        CliRunner.AssertOneLineError(unpaired, "no ground truth named like the slide");
    }

    [Fact]
    public void Mining_keeps_the_hardest_tissue_patches_balanced_across_classes_as_a_loadable_dataset()
    {
        string dir = Path.Combine(TestPaths.NewTempDirectory(), "mined");
        MiningResult result;
        using (var model = SlideTestModel.Load())
        {
            result = new HardExampleMiner(model, new MiningOptions { SampleCount = 12, ReaderThreads = 2 }).Mine(TestPaths.A01Window, TestPaths.A01Labels, dir);
        }

        Assert.NotEmpty(result.Candidates);
        Assert.Equal((int)Math.Ceiling(result.Candidates.Count * 0.4), result.Hardest.Count);
        double cut = result.Hardest.Min(h => h.Difficulty);
        Assert.All(result.Candidates.Except(result.Hardest), c => Assert.True(c.Difficulty <= cut));
        Assert.All(result.Hardest, h => Assert.Equal(Math.Abs(h.TruthCode - h.PredictedClass) * (double)h.Probability, h.Difficulty, 6));
        Assert.Equal(Math.Min(12, result.Hardest.Count), result.Selected.Count);
        Assert.Contains(result.Candidates, c => c.TruthCode == 1);

        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToList();
        Assert.Equal(result.Selected.Count, files.Count);
        Assert.All(files, f => Assert.Equal((64, 64), (ImageIO.Load(f).Width, ImageIO.Load(f).Height)));
        // TIFFs whose resolution tags carry the card's 4 µm/px, so training on them knows their scale
        Assert.All(files, f => Assert.Equal(".tif", Path.GetExtension(f)));
        Assert.All(files, f => Assert.Equal(4.0, Histo.Slides.ImageFileResolution.TryReadMpp(f) ?? 0, 3));

        // "Part A + mined": both folders load as one dataset with the classes matched by name.
        var dataset = DatasetLoader.Load([TestPaths.Shared("microscopy", "bach"), dir]);
        Assert.Equal(4 + result.Selected.Count, dataset.Items.Count);
        using var again = SlideTestModel.Load();
        var notEmpty = Assert.Throws<HistoException>(() => new HardExampleMiner(again).Mine(TestPaths.A01Window, TestPaths.A01Labels, dir));
        Assert.Contains("not empty", notEmpty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Balanced_sampling_takes_classes_in_turn()
    {
        var patches = Enumerable.Range(0, 10).Select(i => new MinedPatch(i, 0, 1, i < 8 ? 0 : 2, 0, 1, 1)).ToList();
        var sample = HardExampleMiner.BalancedSample(patches, 5, 1);
        Assert.Equal(3, sample.Count(p => p.TruthCode == 0));
        Assert.Equal(2, sample.Count(p => p.TruthCode == 2));
        Assert.Equal(sample, HardExampleMiner.BalancedSample(patches, 5, 1));
    }
}
