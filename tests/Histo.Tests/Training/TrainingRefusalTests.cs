using Histo.Cli;
using Histo.Learning.Training;
using Histo.Models;

namespace Histo.Tests.Training;

/// <summary>
/// A run refused before anything is written: the library says why (<see cref="TrainingRefusal"/>) in a message that
/// names no command-line option, and <c>histo train</c> turns it into the text users have always seen.
/// </summary>
[Collection(TorchGlobalStateCollection.Name)]
public sealed class TrainingRefusalTests
{
    private const string StateFile = "checkpoints/state.json";

    [Fact]
    public void A_complete_model_is_not_replaced()
    {
        string model = ModelWith(ModelCard.FileName, "{}");
        var e = Refused(model, new TrainingRunOptions());
        AssertRefusal(e, TrainingRefusal.ModelExists, model, $"{model} already holds a trained model; use --force to replace it or choose another -o");
    }

    [Fact]
    public void An_interrupted_run_is_neither_resumed_nor_replaced_unasked()
    {
        string model = ModelWith(StateFile, """{"format":1,"recipe_key":"x"}""");
        var e = Refused(model, new TrainingRunOptions());
        AssertRefusal(e, TrainingRefusal.InterruptedRunExists, model, $"{model} holds an interrupted run; add --resume to continue it or --force to start again");
    }

    [Fact]
    public void A_folder_of_other_files_is_not_written_into()
    {
        string model = ModelWith("notes.txt", "mine");
        var e = Refused(model, new TrainingRunOptions());
        AssertRefusal(e, TrainingRefusal.OutputNotEmpty, model, $"{model} exists and is not empty; choose another -o or use --force");
    }

    [Fact]
    public void Resuming_needs_a_checkpoint()
    {
        string complete = ModelWith(ModelCard.FileName, "{}");
        AssertRefusal(Refused(complete, new TrainingRunOptions { Resume = true }), TrainingRefusal.ModelCompleteNothingToResume, complete,
            $"{complete} already holds a complete model: nothing to resume (use --force to train it again)");

        string empty = TestPaths.NewTempDirectory();
        AssertRefusal(Refused(empty, new TrainingRunOptions { Resume = true }), TrainingRefusal.NothingToResume, empty,
            $"{empty}: no interrupted run to resume (no checkpoints/state.json)");
    }

    [Fact]
    public void A_checkpoint_of_another_recipe_an_unknown_format_or_malformed_is_not_resumed()
    {
        string other = ModelWith(StateFile, """{"format":1,"recipe_key":"another recipe"}""");
        AssertRefusal(Refused(other, new TrainingRunOptions { Resume = true }), TrainingRefusal.CheckpointRecipeChanged, other,
            $"{other}: the checkpoint was made with another dataset or recipe; rerun with the same arguments, or start again with --force");

        string future = ModelWith(StateFile, """{"format":99}""");
        string futureState = Path.Combine(future, "checkpoints", "state.json");
        AssertRefusal(Refused(future, new TrainingRunOptions { Resume = true }), TrainingRefusal.CheckpointUnsupported, futureState,
            $"{futureState}: checkpoint format is not supported by this Histo; start again with --force");

        string broken = ModelWith(StateFile, "{");
        string brokenState = Path.Combine(broken, "checkpoints", "state.json");
        var e = Refused(broken, new TrainingRunOptions());
        Assert.Equal(TrainingRefusal.CheckpointMalformed, e.Reason);
        Assert.Equal(brokenState, e.Path);
        AssertNamesNoOption(e.Message);
        string shown = OptionRemedies.Error(e);
        Assert.StartsWith($"{brokenState}: malformed checkpoint (", shown, StringComparison.Ordinal);
        Assert.EndsWith("); start again with --force", shown, StringComparison.Ordinal);
    }

    [Fact]
    public void A_replacing_run_does_not_read_the_checkpoint_it_deletes()
    {
        string model = ModelWith(StateFile, "{");
        File.WriteAllText(Path.Combine(model, ModelCard.FileName), "{}");
        string data = TestPaths.NewTempDirectory();
        var dataset = TrainingTestData.Load(TrainingTestData.WriteIdcManifest(data, patients: 3, perClass: 3));
        new Trainer(TrainingTestData.Fast()).Run(dataset, model, new TrainingRunOptions { Force = true });
        Assert.Equal(2, ModelCard.Load(model).Classes.Count);
        Assert.False(Directory.Exists(Path.Combine(model, "checkpoints")));
    }

    [Fact]
    public void An_initial_model_needs_the_datasets_classes_and_weights()
    {
        string dir = TestPaths.NewTempDirectory();
        var dataset = TrainingTestData.Load(TrainingTestData.WriteIdcManifest(dir, patients: 3, perClass: 3));
        string[] classes = [.. dataset.Classes.Select(c => c.Name)];

        string otherClasses = Path.Combine(dir, "three");
        Directory.CreateDirectory(otherClasses);
        new ModelCard { Classes = ["Normal", "Benign", "Invasive"], PatchSizePixels = 50, InputSizePixels = 32 }.Save(otherClasses);
        string model = Path.Combine(dir, "model");
        var e = Assert.Throws<TrainingRefusedException>(() => new Trainer(TrainingTestData.Fast()).Run(dataset, model, new TrainingRunOptions { InitModelDirectory = otherClasses }));
        AssertRefusal(e, TrainingRefusal.InitialModelClassesDiffer, otherClasses,
            $"--init model {otherClasses} has classes [Normal, Benign, Invasive] but the dataset has [{string.Join(", ", classes)}]; they must match in name and order");

        string noWeights = Path.Combine(dir, "card-only");
        Directory.CreateDirectory(noWeights);
        new ModelCard { Classes = [.. classes], PatchSizePixels = 50, InputSizePixels = 32 }.Save(noWeights);
        e = Assert.Throws<TrainingRefusedException>(() => new Trainer(TrainingTestData.Fast()).Run(dataset, model, new TrainingRunOptions { InitModelDirectory = noWeights }));
        AssertRefusal(e, TrainingRefusal.InitialModelHasNoWeights, noWeights, $"--init model {noWeights} has no weights.bin");
        Assert.False(Directory.Exists(model));
    }

    /// <summary>A model directory holding one file (<paramref name="relativePath"/> with <paramref name="text"/>).</summary>
    private static string ModelWith(string relativePath, string text)
    {
        string model = Path.Combine(TestPaths.NewTempDirectory(), "model");
        string path = Path.Combine(model, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return model;
    }

    /// <summary>Runs a fast recipe into <paramref name="model"/>, expecting a refusal that leaves the directory as it was.</summary>
    private static TrainingRefusedException Refused(string model, TrainingRunOptions run)
    {
        string data = TestPaths.NewTempDirectory();
        var dataset = TrainingTestData.Load(TrainingTestData.WriteIdcManifest(data, patients: 3, perClass: 3));
        string[] before = Listing(model);
        var e = Assert.Throws<TrainingRefusedException>(() => new Trainer(TrainingTestData.Fast()).Run(dataset, model, run));
        Assert.Equal(before, Listing(model));
        return e;
    }

    private static string[] Listing(string directory) => Directory.Exists(directory)
        ? [.. Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories).Select(p => p + "=" + (File.Exists(p) ? File.ReadAllText(p) : "/")).Order(StringComparer.Ordinal)]
        : [];

    private static void AssertRefusal(TrainingRefusedException e, TrainingRefusal reason, string path, string shownByTheCli)
    {
        Assert.Equal(reason, e.Reason);
        Assert.Equal(path, e.Path);
        Assert.Contains(e.Problem, e.Message, StringComparison.Ordinal);
        AssertNamesNoOption(e.Message);
        Assert.Equal(shownByTheCli, OptionRemedies.Error(e));
    }

    private static void AssertNamesNoOption(string message)
    {
        Assert.DoesNotContain("--", message, StringComparison.Ordinal);
        Assert.DoesNotContain(" -o", message, StringComparison.Ordinal);
    }
}
