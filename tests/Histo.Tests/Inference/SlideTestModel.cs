using Histo.Learning.Models;
using Histo.Models;

namespace Histo.Tests.Inference;

/// <summary>
/// A small real model for whole-slide tests: the pretrained ImageNet ResNet18 backbone with an untrained 4-class BACH
/// head, 64-px patches at 4 µm/px (a slide becomes a few dozen patches), saved once per test run.
/// </summary>
internal static class SlideTestModel
{
    private static readonly Lazy<string> Saved = new(() =>
    {
        TorchSharp.torch.set_num_threads(2);
        TorchSharp.torch.manual_seed(7);
        string dir = Path.Combine(TestPaths.NewTempDirectory(), "bach-test-model");
        using var classifier = new PatchClassifier(ResNet18OnnxImporter.Load(classCount: 4), Card());
        classifier.Save(dir);
        return dir;
    });

    /// <summary>The model directory (do not modify; copy it with <see cref="Copy"/> first).</summary>
    public static string Directory => Saved.Value;

    public static ModelCard Card() => new()
    {
        Classes = ["Normal", "Benign", "InSitu", "Invasive"],
        BachCodes = [0, 1, 2, 3],
        PatchSizePixels = 64,
        InputSizePixels = 64,
        Mpp = 4.0,
        Terms = "test model: pretrained ImageNet backbone, untrained head",
    };

    /// <summary>A private copy of the model directory (for tests that rewrite the card).</summary>
    public static string Copy()
    {
        string dir = Path.Combine(TestPaths.NewTempDirectory(), "model");
        System.IO.Directory.CreateDirectory(dir);
        foreach (string file in System.IO.Directory.EnumerateFiles(Directory))
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        }

        return dir;
    }

    /// <summary>Loads the model with torch limited to two threads.</summary>
    public static PatchClassifier Load(string? directory = null)
    {
        TorchSharp.torch.set_num_threads(2);
        return PatchClassifier.Load(directory ?? Directory);
    }
}
