using System.Globalization;
using System.Text.Json.Nodes;
using Histo.Evaluation;
using Histo.Imaging;
using Histo.IO;
using Histo.Learning.Evaluation;
using Histo.Learning.Models;
using Histo.Tests.Cli;
using SkiaSharp;

namespace Histo.Tests.Evaluation;

public sealed class EvaluationCliTests
{
    private static string Model => EvaluationModel.ModelDirectory;

    private static string BachInvasive => TestPaths.Shared("microscopy", "bach", "Invasive", "invasive.png");

    private static CliRunner.Result Histo(params string[] args)
    {
        var result = CliRunner.Run([.. args, "--threads", "2"]);
        return result;
    }

    private static List<string[]> ReadCsv(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(','))];

    [Fact]
    public void EvaluateJsonHasTheRequiredKeysAndAgreesWithPredictOutput()
    {
        var evaluate = Histo("evaluate", Model, EvaluationModel.TestDataset, "--json", "--batch", "64");
        Assert.True(evaluate.ExitCode == 0, evaluate.StdErr);
        JsonObject json = JsonNode.Parse(evaluate.StdOut)!.AsObject();
        foreach (string key in new[] { "accuracy", "balanced_accuracy", "macro_f1", "binary_accuracy", "per_class", "confusion", "auc", "bootstrap" })
        {
            Assert.True(json.ContainsKey(key), $"missing {key}");
        }

        foreach (string cls in new[] { "0", "1" })
        {
            JsonObject perClass = json["per_class"]![cls]!.AsObject();
            Assert.All(new[] { "sensitivity", "specificity", "precision", "f1", "support" }, k => Assert.True(perClass.ContainsKey(k), k));
        }

        Assert.Equal(["0", "1"], json["confusion"]!["labels"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("fused-fp32", json["engine"]!["name"]!.GetValue<string>()); // the default engine, passed its self-check
        Assert.False(json["engine"]!["fallback"]!.GetValue<bool>());

        // The same images through predict --csv, scored independently with the truth from the IDC file names.
        string csvPath = Path.Combine(TestPaths.NewTempDirectory(), "predictions.csv");
        var predict = Histo("predict", Model, EvaluationModel.TestDataset, "--csv", "-o", csvPath, "--batch", "64");
        Assert.True(predict.ExitCode == 0, predict.StdErr);
        List<string[]> rows = ReadCsv(File.ReadAllText(csvPath));
        Assert.Equal(["path", "predicted", "p_0", "p_1"], rows[0]);
        List<string[]> data = rows.Skip(1).ToList();
        Assert.Equal(EvaluationModel.TestFiles().Count, data.Count);
        int[] truth = [.. data.Select(r => EvaluationModel.ClassOf(r[0]))];
        float[][] probabilities = [.. data.Select(r => new[] { float.Parse(r[2], CultureInfo.InvariantCulture), float.Parse(r[3], CultureInfo.InvariantCulture) })];
        var expected = ClassificationMetrics.Compute(["0", "1"], truth, probabilities, [0, 3]);
        Assert.Equal(expected.Count, json["count"]!.GetValue<int>());
        Assert.Equal(expected.Accuracy, json["accuracy"]!.GetValue<double>(), 1e-5);
        Assert.Equal(expected.BalancedAccuracy, json["balanced_accuracy"]!.GetValue<double>(), 1e-5);
        Assert.Equal(expected.MacroF1, json["macro_f1"]!.GetValue<double>(), 1e-5);
        Assert.Equal(expected.BinaryAccuracy!.Value, json["binary_accuracy"]!.GetValue<double>(), 1e-5);
        Assert.Equal(expected.Auc!.Value, json["auc"]!.GetValue<double>(), 1e-3);
        for (int r = 0; r < 2; r++)
        {
            Assert.Equal(expected.Confusion[r], json["confusion"]!["matrix"]![r]!.AsArray().Select(n => n!.GetValue<int>()));
        }

        double[] interval = [.. json["bootstrap"]!["balanced_accuracy"]!.AsArray().Select(n => n!.GetValue<double>())];
        Assert.InRange(expected.BalancedAccuracy, interval[0], interval[1]);
        Assert.All(data, r => Assert.Equal(float.Parse(r[3], CultureInfo.InvariantCulture) > float.Parse(r[2], CultureInfo.InvariantCulture) ? "1" : "0", r[1]));
    }

    [Fact]
    public void EvaluateTextShowsTablesAndReportWritesConfusionAndHtml()
    {
        string report = Path.Combine(TestPaths.NewTempDirectory(), "eval-report");
        string predictions = Path.Combine(TestPaths.NewTempDirectory(), "predictions.csv");
        var result = Histo("evaluate", Model, EvaluationModel.TestDataset, "--report", report, "--predictions", predictions, "--batch", "64");
        Assert.True(result.ExitCode == 0, result.StdErr);
        List<string[]> rows = ReadCsv(File.ReadAllText(predictions));
        Assert.Equal(["path", "truth", "predicted", "p_0", "p_1"], rows[0]);
        Assert.Equal(EvaluationModel.TestFiles().Count, rows.Count - 1);
        Assert.All(rows.Skip(1), r => Assert.Equal(EvaluationModel.ClassOf(r[0]).ToString(CultureInfo.InvariantCulture), r[1]));
        Assert.Contains("balanced accuracy", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("truth / predicted", result.StdOut, StringComparison.Ordinal);
        AssertPng(Path.Combine(report, "confusion.png"));
        string html = File.ReadAllText(Path.Combine(report, "index.html"));
        Assert.Contains("src=\"confusion.png\"", html, StringComparison.Ordinal);
        Assert.Contains("balanced accuracy", html, StringComparison.Ordinal);
    }

    [Fact]
    public void PredictOnAFolderAndOnATiledMicroscopyImage()
    {
        string folder = TestPaths.NewTempDirectory();
        List<string> files = [.. EvaluationModel.TestFiles().Take(5)];
        foreach (string f in files)
        {
            File.CreateSymbolicLink(Path.Combine(folder, Path.GetFileName(f)), f);
        }

        string jsonPath = Path.Combine(TestPaths.NewTempDirectory(), "out.json");
        var many = Histo("predict", Model, folder, "-o", jsonPath);
        Assert.True(many.ExitCode == 0, many.StdErr);
        JsonArray images = JsonNode.Parse(File.ReadAllText(jsonPath))!["images"]!.AsArray();
        Assert.Equal(5, images.Count);
        using var classifier = PatchClassifier.Load(Model);
        float[][] direct = classifier.Predict([.. files.Select(ImageIO.Load)]);
        for (int i = 0; i < 5; i++)
        {
            double p1 = images[i]!["probabilities"]!["1"]!.GetValue<double>();
            Assert.Equal(1.0, p1 + images[i]!["probabilities"]!["0"]!.GetValue<double>(), 1e-5);
            Assert.Equal(direct[i][1], p1, 1e-4);
            Assert.Equal(direct[i][1] > direct[i][0] ? "1" : "0", images[i]!["class"]!.GetValue<string>());
        }

        // One 584 x 438 BACH field: 12 x 9 tiles of 50 px, probabilities averaged.
        var single = Histo("predict", Model, BachInvasive, "--json");
        Assert.True(single.ExitCode == 0, single.StdErr);
        JsonObject image = JsonNode.Parse(single.StdOut)!["images"]![0]!.AsObject();
        float[][] tiles = classifier.Predict(ImageTiling.Cut(ImageIO.Load(BachInvasive), 50));
        Assert.Equal(tiles.Average(t => t[1]), image["probabilities"]!["1"]!.GetValue<double>(), 1e-4);
    }

    [Fact]
    public void TtaChangesPredictionsButRowsStillSumToOne()
    {
        var plain = Histo("predict", Model, EvaluationModel.TestDataset, "--csv", "--batch", "64");
        var tta = Histo("predict", Model, EvaluationModel.TestDataset, "--csv", "--tta", "--batch", "64");
        Assert.True(plain.ExitCode == 0 && tta.ExitCode == 0, plain.StdErr + tta.StdErr);
        float[] P(string[] r) => [float.Parse(r[2], CultureInfo.InvariantCulture), float.Parse(r[3], CultureInfo.InvariantCulture)];
        List<float[]> a = [.. ReadCsv(plain.StdOut).Skip(1).Select(P)];
        List<float[]> b = [.. ReadCsv(tta.StdOut).Skip(1).Select(P)];
        Assert.Equal(a.Count, b.Count);
        Assert.All(b, row => Assert.Equal(1.0, row[0] + row[1], 4));
        Assert.True(a.Zip(b).Max(pair => Math.Abs(pair.First[1] - pair.Second[1])) > 1e-3, "TTA made no difference");
    }

    [Fact]
    public void EmbedWritesCsvAndNpyWithTheNetworksFeatures()
    {
        string dir = TestPaths.NewTempDirectory();
        string csv = Path.Combine(dir, "features.csv");
        string npy = Path.Combine(dir, "features.npy");
        var a = Histo("embed", Model, EvaluationModel.TestDataset, "-o", csv, "--batch", "64");
        var b = Histo("embed", Model, EvaluationModel.TestDataset, "-o", npy, "--batch", "64");
        Assert.True(a.ExitCode == 0 && b.ExitCode == 0, a.StdErr + b.StdErr);
        List<string> files = EvaluationModel.TestFiles();
        List<string[]> rows = ReadCsv(File.ReadAllText(csv));
        Assert.Equal(files.Count + 1, rows.Count);
        Assert.Equal(3 + 512, rows[0].Length);
        Assert.Equal(["path", "label", "group", "f0"], rows[0].Take(4));
        Assert.All(rows.Skip(1), r => Assert.Equal(EvaluationModel.ClassOf(r[0]).ToString(CultureInfo.InvariantCulture), r[1]));
        Assert.All(rows.Skip(1), r => Assert.StartsWith("idc:", r[2], StringComparison.Ordinal));

        float[][] matrix = NpyFile.ReadFloat32(npy);
        Assert.Equal(files.Count, matrix.Length);
        Assert.All(matrix, r => Assert.Equal(512, r.Length));
        List<string[]> sidecar = ReadCsv(File.ReadAllText(OutputTables.SidecarPathOf(npy)));
        Assert.Equal(["index", "path", "label", "group"], sidecar[0]);
        Assert.Equal(files.Count + 1, sidecar.Count);

        using var classifier = PatchClassifier.Load(Model);
        int[] pick = [0, files.Count / 2, files.Count - 1];
        float[][] direct = classifier.Embed([.. pick.Select(i => ImageIO.Load(sidecar[i + 1][1]))]);
        for (int k = 0; k < pick.Length; k++)
        {
            float[] fromCsv = [.. rows[pick[k] + 1].Skip(3).Select(v => float.Parse(v, CultureInfo.InvariantCulture))];
            Assert.Equal(rows[pick[k] + 1][0], sidecar[pick[k] + 1][1]);
            for (int j = 0; j < 512; j++)
            {
                Assert.Equal(direct[k][j], matrix[pick[k]][j], 1e-3);
                Assert.Equal(matrix[pick[k]][j], fromCsv[j], 1e-5);
            }
        }

        // NumPy itself reads the file (Debian's python3 with numpy, when installed).
        if (File.Exists("/usr/bin/python3"))
        {
            var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("import sys, numpy; a = numpy.load(sys.argv[1]); print(a.dtype, a.shape[0], a.shape[1], repr(float(a.astype('float64').sum())))");
            start.ArgumentList.Add(npy);
            using var python = System.Diagnostics.Process.Start(start)!;
            string output = python.StandardOutput.ReadToEnd();
            string error = python.StandardError.ReadToEnd();
            python.WaitForExit();
            if (!error.Contains("No module named 'numpy'", StringComparison.Ordinal))
            {
                string[] parts = output.Trim().Split(' ');
                Assert.True(parts.Length == 4, output + error);
                Assert.Equal(["float32", files.Count.ToString(CultureInfo.InvariantCulture), "512"], parts.Take(3));
                Assert.Equal(matrix.Sum(r => r.Sum(v => (double)v)), double.Parse(parts[3], CultureInfo.InvariantCulture), 2);
            }
        }
    }

    internal static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), path);
        using SKBitmap? bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.True(bitmap.Width >= 300 && bitmap.Height >= 300, $"{path}: {bitmap.Width}x{bitmap.Height}");
        // A real figure, not a blank canvas: many distinct colours.
        var colours = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 3)
        {
            for (int x = 0; x < bitmap.Width; x += 3)
            {
                colours.Add((uint)bitmap.GetPixel(x, y));
            }
        }

        Assert.True(colours.Count > 20, $"{path}: only {colours.Count} colours");
    }
}
