using System.Diagnostics;
using System.Text.Json.Nodes;
using Histo.Learning.Models;
using Histo.Learning.Training;
using Histo.Models;
using Histo.Tests.Cli;

namespace Histo.Tests.Training;

public sealed class TrainCliTests
{
    [Fact]
    public void SingleClassDatasetIsOneErrorLine()
    {
        string dir = TestPaths.NewTempDirectory();
        string manifest = TrainingTestData.WriteIdcManifest(dir, patients: 3, perClass: 3);
        File.WriteAllLines(manifest, File.ReadAllLines(manifest).Where(l => !l.Contains(",1,", StringComparison.Ordinal)));
        string model = Path.Combine(dir, "model");
        CliRunner.AssertOneLineError(CliRunner.Run(TrainingTestData.FastCliArgs(manifest, model)), "class");
        Assert.False(Directory.Exists(model));

        string empty = Path.Combine(dir, "empty.csv");
        File.WriteAllText(empty, "path,label,group\n");
        CliRunner.AssertOneLineError(CliRunner.Run(TrainingTestData.FastCliArgs(empty, model)), "no images");
        Assert.False(Directory.Exists(model));
    }

    [Fact]
    public void FewerGroupsThanFoldsIsOneErrorLine()
    {
        string dir = TestPaths.NewTempDirectory();
        string manifest = TrainingTestData.WriteIdcManifest(dir, patients: 3, perClass: 3);
        string model = Path.Combine(dir, "model");
        CliRunner.AssertOneLineError(CliRunner.Run(TrainingTestData.FastCliArgs(manifest, model, folds: 5)), "groups");
        Assert.False(Directory.Exists(model));
    }

    [Fact]
    public void UnreadableImageIsOneErrorLine()
    {
        string dir = TestPaths.NewTempDirectory();
        string manifest = TrainingTestData.WriteIdcManifest(dir, patients: 3, perClass: 3);
        string[] lines = File.ReadAllLines(manifest);
        string first = lines[1].Split(',')[0];
        string broken = Path.Combine(dir, "truncated.png");
        byte[] bytes = File.ReadAllBytes(first);
        File.WriteAllBytes(broken, bytes.AsSpan(0, bytes.Length / 3).ToArray());
        File.WriteAllLines(manifest, lines.Append($"{broken},0,{lines[1].Split(',')[2]}"));
        string model = Path.Combine(dir, "model");
        var result = CliRunner.Run(TrainingTestData.FastCliArgs(manifest, model));
        CliRunner.AssertOneLineError(result);
        Assert.Contains("truncated.png", result.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(model));
    }

    [Fact]
    public void LeakySplitIsRefusedUnlessAllowed()
    {
        string dir = TestPaths.NewTempDirectory();
        string manifest = TrainerTests.WriteLeakyManifest(dir);
        string model = Path.Combine(dir, "model");
        CliRunner.AssertOneLineError(CliRunner.Run(TrainingTestData.FastCliArgs(manifest, model)), "leak");
        Assert.False(Directory.Exists(model));

        var allowed = CliRunner.RunWithTimeout(TimeSpan.FromMinutes(15), [.. TrainingTestData.FastCliArgs(manifest, model), "--allow-leaks"]);
        Assert.True(allowed.ExitCode == 0, allowed.StdErr);
        var card = ModelCard.Load(model);
        Assert.True((bool?)card.Training?["leak_check"]?["leaky"]);
        Assert.True((bool?)card.Training?["leak_check"]?["allowed"]);
    }

    [Fact]
    public void InitModelWithOtherClassesAndExistingModelAreRefusedLeavingOutputUntouched()
    {
        string dir = TestPaths.NewTempDirectory();
        string manifest = TrainingTestData.WriteIdcManifest(dir, patients: 3, perClass: 3);

        string threeClass = Path.Combine(dir, "three");
        var card = new ModelCard { Classes = ["Normal", "Benign", "Invasive"], PatchSizePixels = 50, InputSizePixels = 32 };
        using (var classifier = new PatchClassifier(ResNet18OnnxImporter.Load(classCount: 3), card))
        {
            classifier.Save(threeClass);
        }

        string model = Path.Combine(dir, "model");
        CliRunner.AssertOneLineError(CliRunner.Run([.. TrainingTestData.FastCliArgs(manifest, model), "--init", threeClass]), "classes");
        Assert.False(Directory.Exists(model));

        // an existing complete model directory is not overwritten without --force
        string existingCard = Path.Combine(threeClass, ModelCard.FileName);
        string before = File.ReadAllText(existingCard);
        DateTime stamp = File.GetLastWriteTimeUtc(Path.Combine(threeClass, PatchClassifier.WeightsFileName));
        CliRunner.AssertOneLineError(CliRunner.Run(TrainingTestData.FastCliArgs(manifest, threeClass)), "--force");
        Assert.Equal(before, File.ReadAllText(existingCard));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(threeClass, PatchClassifier.WeightsFileName)));

        CliRunner.AssertOneLineError(CliRunner.Run([.. TrainingTestData.FastCliArgs(manifest, Path.Combine(dir, "nothing")), "--resume"]), "resume");
        Assert.Equal(2, CliRunner.Run([.. TrainingTestData.FastCliArgs(manifest, model), "--optimizer", "rmsprop"]).ExitCode);
    }

    /// <summary>
    /// Class folders of small BACH-named TIFF fields at 0.84 µm/px (random textures, a class-specific tint), plus one
    /// PNG field without a recorded scale.
    /// </summary>
    private static string WriteBachLikeFields(string dir, int perClass = 4)
    {
        string root = Path.Combine(dir, "Photos");
        var random = new Random(11);
        string[] classes = ["Normal", "Benign", "InSitu", "Invasive"];
        for (int c = 0; c < classes.Length; c++)
        {
            for (int i = 0; i < perClass; i++)
            {
                string path = Path.Combine(root, classes[c], $"{classes[c].ToLowerInvariant()}{i:000}.tif");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var image = new OpenCvSharp.Mat(48, 48, OpenCvSharp.MatType.CV_8UC3);
                var pixels = new byte[48 * 48 * 3];
                random.NextBytes(pixels);
                for (int p = 0; p < pixels.Length; p += 3)
                {
                    pixels[p + (c % 3)] = (byte)(128 + pixels[p + (c % 3)] / 2);
                }

                System.Runtime.InteropServices.Marshal.Copy(pixels, 0, image.Data, pixels.Length);
                const int pixelsPerCm = 11905; // 0.84 µm/px
                Assert.True(OpenCvSharp.Cv2.ImWrite(path, image,
                [
                    new OpenCvSharp.ImageEncodingParam(OpenCvSharp.ImwriteFlags.TiffResUnit, 3),
                    new OpenCvSharp.ImageEncodingParam(OpenCvSharp.ImwriteFlags.TiffXDpi, pixelsPerCm),
                    new OpenCvSharp.ImageEncodingParam(OpenCvSharp.ImwriteFlags.TiffYDpi, pixelsPerCm),
                ]));
            }
        }

        using (var png = new OpenCvSharp.Mat(48, 48, OpenCvSharp.MatType.CV_8UC3))
        {
            OpenCvSharp.Cv2.Randu(png, new OpenCvSharp.Scalar(0, 0, 0), new OpenCvSharp.Scalar(255, 255, 255));
            Assert.True(OpenCvSharp.Cv2.ImWrite(Path.Combine(root, "Benign", "untagged.png"), png));
        }

        return root;
    }

    [Fact]
    public void BachRunPrintsTableFourFiguresAndRecordsTheImagesScale()
    {
        string dir = TestPaths.NewTempDirectory();
        string photos = WriteBachLikeFields(dir);
        string model = Path.Combine(dir, "model");
        string[] args = ["train", photos, "-o", model, "--folds", "2", "--epochs", "1", "--batch", "16", "--input", "32", "--threads", "2", "--seed", "7"];
        var run = CliRunner.RunWithTimeout(TimeSpan.FromMinutes(15), args);
        Assert.True(run.ExitCode == 0, run.StdErr);

        // the untagged field is named in one warning line; the others' 0.84 µm/px reaches the card
        Assert.Contains("warning: 1 of 17 images record no µm/px (" + Path.Combine("Benign", "untagged.png") + "): 0.84 µm/px assumed", run.StdErr, StringComparison.Ordinal);
        var card = ModelCard.Load(model);
        Assert.Equal(0.84, card.Mpp!.Value, 4);
        Assert.Equal(0.84, (double)card.Training!["dataset"]!["mpp"]!, 4);
        Assert.Equal("imagefiles", (string?)card.Training["dataset"]!["mpp_source"]);

        // per-fold binary accuracy, CV accuracy, pooled binary accuracy, the Se/Sp table and the confusion matrix
        string output = run.StdOut;
        Assert.Contains("binary acc", output, StringComparison.Ordinal);
        Assert.Matches(@"CV \(2-fold, grouped by source image\): accuracy \d\.\d{4} ± \d\.\d{4}, binary accuracy \d\.\d{4} ± \d\.\d{4}", output);
        Assert.Matches(@"pooled out-of-fold \(17 images\): accuracy \d\.\d{4}, binary accuracy \(carcinoma vs not\) \d\.\d{4}", output);
        Assert.Contains("as in the BACH paper's Table 4", output, StringComparison.Ordinal);
        Assert.Matches(@"│ class\s+│ sensitivity │ specificity │ precision │ F1\s+│ support │", output);
        Assert.Matches(@"│ Invasive\s+│ \d\.\d{4}\s+│ \d\.\d{4}\s+│", output);
        Assert.Matches(@"│ truth / predicted │ Normal │ Benign │ InSitu │ Invasive │", output);
        Assert.Contains("0.84 µm/px", output, StringComparison.Ordinal);

        // the printed pooled figures are the card's
        JsonNode pooled = card.Training["cv"]!["pooled"]!;
        double se = (double)pooled["per_class"]!["InSitu"]!["sensitivity"]!;
        double sp = (double)pooled["per_class"]!["InSitu"]!["specificity"]!;
        Assert.Matches($@"│ InSitu\s+│ {se.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture)}\s+│ {sp.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture)}\s+│", output);
        Assert.NotNull(card.Training["cv"]!["accuracy_mean"]);
        Assert.NotNull(card.Training["cv"]!["binary_accuracy_mean"]);
        Assert.NotNull(pooled["binary_accuracy"]);
        Assert.Equal(17, pooled["confusion"]!["matrix"]!.AsArray().Sum(row => row!.AsArray().Sum(v => (int)v!)));

        // the HTML report shows the same tables
        var report = CliRunner.Run("report", model);
        Assert.True(report.ExitCode == 0, report.StdErr);
        string html = File.ReadAllText(Path.Combine(model, "report", "index.html"));
        Assert.Contains("<th>truth / predicted</th><th>Normal</th><th>Benign</th><th>InSitu</th><th>Invasive</th>", html, StringComparison.Ordinal);
        Assert.Contains("<th>binary accuracy (carcinoma vs not)</th>", html, StringComparison.Ordinal);
        Assert.Contains("<th>sensitivity</th><th>specificity</th>", html, StringComparison.Ordinal);

        // evaluate prints the same tables (and brings each field to the card's scale)
        var evaluate = CliRunner.Run("evaluate", model, photos);
        Assert.True(evaluate.ExitCode == 0, evaluate.StdErr);
        Assert.Contains("binary accuracy (carcinoma vs not)", evaluate.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"│ class\s+│ sensitivity │ specificity │", evaluate.StdOut);
        Assert.Contains("│ truth / predicted │", evaluate.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void FieldsOfScalesMoreThanTenPercentApartAreRefusedUnlessMppIsGiven()
    {
        string dir = TestPaths.NewTempDirectory();
        string photos = WriteBachLikeFields(dir, perClass: 2);
        string odd = Path.Combine(photos, "Normal", "odd.tif");
        using (var image = new OpenCvSharp.Mat(48, 48, OpenCvSharp.MatType.CV_8UC3, new OpenCvSharp.Scalar(10, 200, 30)))
        {
            OpenCvSharp.Cv2.ImWrite(odd, image,
            [
                new OpenCvSharp.ImageEncodingParam(OpenCvSharp.ImwriteFlags.TiffResUnit, 3),
                new OpenCvSharp.ImageEncodingParam(OpenCvSharp.ImwriteFlags.TiffXDpi, 23810), // 0.42 µm/px
                new OpenCvSharp.ImageEncodingParam(OpenCvSharp.ImwriteFlags.TiffYDpi, 23810),
            ]);
        }

        string model = Path.Combine(dir, "model");
        string[] args = ["train", photos, "-o", model, "--folds", "2", "--epochs", "1", "--batch", "16", "--input", "32", "--threads", "2"];
        var refused = CliRunner.Run(args);
        CliRunner.AssertOneLineError(refused, "different scales");
        Assert.Contains("odd.tif", refused.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(model));
        Assert.Equal(2, CliRunner.Run([.. args, "--image-mpp", "-1"]).ExitCode);
    }

    [Fact]
    public void KilledRunResumesToTheSameWeightsAsAnUninterruptedRun()
    {
        string dir = TestPaths.NewTempDirectory();
        string manifest = TrainingTestData.WriteIdcManifest(dir, patients: 4, perClass: 8);
        string reference = Path.Combine(dir, "reference");
        string killed = Path.Combine(dir, "killed");
        string[] Args(string model) => TrainingTestData.FastCliArgs(manifest, model, folds: 2, epochs: 2);
        var limit = TimeSpan.FromMinutes(15); // the machine is shared: generous, never a timing assert

        var full = CliRunner.RunWithTimeout(limit, Args(reference));
        Assert.True(full.ExitCode == 0, full.StdErr);
        Assert.Contains("CV (2-fold", full.StdOut, StringComparison.Ordinal);

        // start the same run, kill -9 it once a checkpoint exists (mid-run), then resume
        string state = Path.Combine(killed, TrainingFiles.CheckpointDirectoryName, "state.json");
        using (Process process = StartCli(Args(killed)))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(state) && !process.HasExited && clock.Elapsed < limit)
            {
                Thread.Sleep(20);
            }

            Assert.False(process.HasExited, "the run ended before a checkpoint was seen");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        Assert.False(File.Exists(Path.Combine(killed, ModelCard.FileName)), "an interrupted run must not look complete");
        var epochsDone = (int?)JsonNode.Parse(File.ReadAllText(state))?["epochs_done"];
        Assert.True(epochsDone >= 1);

        var restart = CliRunner.Run(Args(killed));
        CliRunner.AssertOneLineError(restart, "--resume");

        var resumed = CliRunner.RunWithTimeout(limit, [.. Args(killed), "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.StdErr);
        Assert.Contains("(resumed)", resumed.StdOut, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, PatchClassifier.WeightsFileName)), File.ReadAllBytes(Path.Combine(killed, PatchClassifier.WeightsFileName)));
        Assert.Equal(File.ReadAllText(Path.Combine(reference, TrainingFiles.PredictionsFileName)), File.ReadAllText(Path.Combine(killed, TrainingFiles.PredictionsFileName)));
        string[] Losses(string model) => [.. File.ReadAllLines(Path.Combine(model, TrainingFiles.HistoryFileName)).Select(l => string.Join(',', l.Split(',').Take(7)))];
        Assert.Equal(Losses(reference), Losses(killed));
        Assert.False(Directory.Exists(Path.Combine(killed, TrainingFiles.CheckpointDirectoryName)));
    }

    /// <summary>Starts histo like <see cref="CliRunner"/> does, without waiting (the caller kills it).</summary>
    private static Process StartCli(string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Histo.Cli.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        const string tcmalloc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
        if (File.Exists(tcmalloc))
        {
            start.Environment["LD_PRELOAD"] = tcmalloc;
        }

        start.Environment["NO_COLOR"] = "1";
        Process process = Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
