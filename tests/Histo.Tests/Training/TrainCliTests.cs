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
