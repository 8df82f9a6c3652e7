using System.Globalization;
using System.Text.Json.Nodes;
using Histo.Datasets;
using Histo.Learning.Evaluation;
using Histo.Learning.Models;
using Histo.Models;
using Histo.Tests.Evaluation;
using Histo.Tests.Inference;
using Histo.Tests.Training;

namespace Histo.Tests.Cli;

/// <summary>
/// The start-up self-check's fallback and refusal as a user meets them, driven by the test-only fault switch
/// (<see cref="EngineSelfCheck.FaultVariable"/>) in child processes, since every engine is right on a healthy machine.
/// </summary>
public sealed class EngineFallbackTests
{
    private static Dictionary<string, string> Fault(string engine) => new() { [EngineSelfCheck.FaultVariable] = engine };

    private static string[] WarningLines(CliRunner.Result result) =>
        [.. result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("warning:", StringComparison.Ordinal))];

    private static void AssertOneFallbackWarning(CliRunner.Result result, string engine)
    {
        Assert.True(result.ExitCode == 0, result.StdErr);
        string[] warnings = WarningLines(result);
        Assert.True(warnings.Length == 1, "expected one warning line, got:\n" + result.StdErr);
        Assert.Contains($"the {engine} engine computes wrong features", warnings[0], StringComparison.Ordinal);
        Assert.Contains(EngineSelfCheck.ReferenceName, warnings[0], StringComparison.Ordinal);
    }

    private static void AssertFallback(JsonNode? engine, string replaced)
    {
        Assert.Equal(EngineSelfCheck.ReferenceName, (string?)engine?["name"]);
        Assert.True((bool?)engine?["fallback"]);
        Assert.Equal(replaced, (string?)engine?["replaced"]);
    }

    [Fact]
    public void Evaluate_with_a_wrong_fused_engine_warns_once_records_the_fallback_and_predicts_as_the_nchw_network()
    {
        string csv = Path.Combine(TestPaths.NewTempDirectory(), "predictions.csv");
        var result = CliRunner.RunWithEnvironment(TimeSpan.FromMinutes(5), Fault("fused-fp32"),
            "evaluate", EvaluationModel.ModelDirectory, EvaluationModel.TestDataset, "--json", "--predictions", csv, "--batch", "64", "--threads", "2");
        AssertOneFallbackWarning(result, "fused-fp32");
        AssertFallback(JsonNode.Parse(result.StdOut)?["engine"], "fused-fp32");

        // The same evaluation through the NCHW fp32 network in this process (no fault here).
        using var classifier = PatchClassifier.Load(EvaluationModel.ModelDirectory);
        classifier.Inference = InferenceEngine.Plain;
        classifier.Network.ChannelsLast = false;
        EvaluationResult expected = Evaluator.Evaluate(classifier, DatasetLoader.Load(EvaluationModel.TestDataset), new ImagePredictionOptions { BatchSize = 64 });
        Assert.Equal(new EngineUsage(EngineSelfCheck.ReferenceName), expected.Engine);

        Dictionary<string, string[]> rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')).ToDictionary(r => r[0], StringComparer.Ordinal);
        Assert.Equal(expected.Predictions.Count, rows.Count);
        foreach (ImagePrediction p in expected.Predictions)
        {
            string[] row = rows[p.Path];
            Assert.Equal(p.Probabilities[0], double.Parse(row[3], CultureInfo.InvariantCulture), 1e-5);
            Assert.Equal(p.Probabilities[1], double.Parse(row[4], CultureInfo.InvariantCulture), 1e-5);
        }
    }

    [Fact]
    public void Predict_with_a_wrong_fused_engine_warns_once_and_succeeds()
    {
        string csv = Path.Combine(TestPaths.NewTempDirectory(), "predictions.csv");
        var result = CliRunner.RunWithEnvironment(TimeSpan.FromMinutes(5), Fault("fused-fp32"),
            "predict", EvaluationModel.ModelDirectory, EvaluationModel.TestDataset, "--csv", "-o", csv, "--batch", "64", "--threads", "2");
        AssertOneFallbackWarning(result, "fused-fp32");
        Assert.Equal(EvaluationModel.TestFiles().Count + 1, File.ReadAllLines(csv).Length);
    }

    [Fact]
    public void Slide_with_a_wrong_fused_engine_records_the_fallback_in_summary_json()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var result = CliRunner.RunWithEnvironment(TimeSpan.FromMinutes(5), Fault("fused-fp32"),
            "slide", SlideTestModel.Directory, TestPaths.CmuSmall, "-o", output, "--threads", "2");
        AssertOneFallbackWarning(result, "fused-fp32");
        string summary = File.ReadAllText(Path.Combine(output, "cmu-1-small-region", "summary.json"));
        AssertFallback(JsonNode.Parse(summary)?["engine"], "fused-fp32");
    }

    [Fact]
    public void Train_with_a_wrong_channels_last_network_warns_once_trains_in_nchw_and_records_it_in_the_card()
    {
        string dir = TestPaths.NewTempDirectory();
        string manifest = TrainingTestData.WriteIdcManifest(dir, patients: 3, perClass: 3);
        string model = Path.Combine(dir, "model");
        var result = CliRunner.RunWithEnvironment(TimeSpan.FromMinutes(10), Fault("plain-channels-last-fp32"), TrainingTestData.FastCliArgs(manifest, model));
        AssertOneFallbackWarning(result, "plain-channels-last-fp32");
        AssertFallback(ModelCard.Load(model).Training?["engine"], "plain-channels-last-fp32");
    }

    [Fact]
    public void A_wrong_reference_is_refused_with_one_error_line()
    {
        var predict = CliRunner.RunWithEnvironment(TimeSpan.FromMinutes(5), Fault(EngineSelfCheck.ReferenceName),
            "predict", EvaluationModel.ModelDirectory, EvaluationModel.TestDataset, "--csv", "--threads", "2");
        CliRunner.AssertOneLineError(predict, "no inference engine is known to compute correct results");
        Assert.Equal("", predict.StdOut);

        string dir = TestPaths.NewTempDirectory();
        string manifest = TrainingTestData.WriteIdcManifest(dir, patients: 3, perClass: 3);
        var train = CliRunner.RunWithEnvironment(TimeSpan.FromMinutes(5), Fault(EngineSelfCheck.ReferenceName), TrainingTestData.FastCliArgs(manifest, Path.Combine(dir, "model")));
        Assert.NotEqual(0, train.ExitCode);
        string[] errors = [.. train.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:", StringComparison.Ordinal))];
        Assert.True(errors.Length == 1 && errors[0].Contains("no inference engine is known", StringComparison.Ordinal), train.StdErr);
        Assert.DoesNotContain("   at ", train.StdErr, StringComparison.Ordinal);
    }
}
