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
        string dir = Path.Combine(TestPaths.NewTempDirectory(), "bach-test-model");
        var network = ResNet18OnnxImporter.Load(classCount: 4);
        SetHead(network);
        using var classifier = new PatchClassifier(network, Card());
        classifier.Save(dir);
        return dir;
    });

    /// <summary>
    /// Gives the untrained head its fixed weights: those torch.manual_seed(7) drew in a process of its own (the
    /// thresholds and pictures the tests expect were chosen on them). Drawing them here instead would race with the
    /// other test classes that use torch's global generator at the same time.
    /// </summary>
    private static void SetHead(ResNet18Variant network)
    {
        var head = network.Head!;
        byte[] bytes = File.ReadAllBytes(TestPaths.Fixture("bach-test-head.bin"));
        float[] values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        int classes = (int)head.weight!.shape[0], features = (int)head.weight.shape[1];
        Assert.Equal((classes * features) + classes, values.Length);
        using var noGrad = TorchSharp.torch.no_grad();
        using var weight = TorchSharp.torch.tensor(values[..(classes * features)], [classes, features]);
        using var bias = TorchSharp.torch.tensor(values[(classes * features)..]);
        head.weight.copy_(weight);
        head.bias!.copy_(bias);
    }

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
