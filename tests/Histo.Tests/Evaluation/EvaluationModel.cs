using Histo.Imaging;
using Histo.Learning.Models;
using Histo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Tests.Evaluation;

/// <summary>
/// A small real model shared by the evaluation tests: the pretrained ResNet18 backbone with a linear head fitted
/// (logistic regression on pooled features, a few lines of TorchSharp) to the IDC patches of twelve patients, saved as a
/// model directory; plus a folder of symlinks to four other patients for evaluation.
/// </summary>
public static class EvaluationModel
{
    /// <summary>Patients whose patches fit the head.</summary>
    public static readonly string[] TrainPatients = ["10253", "10256", "10257", "10260", "10261", "10262", "10268", "10272", "10285", "10286", "10290", "10295"];

    /// <summary>Patients held out for evaluation (never seen by the head).</summary>
    public static readonly string[] TestPatients = ["10274", "10275", "10276", "10279"];

    private static readonly Lazy<(string Model, string TestData)> Built = new(Build);

    /// <summary>The model directory.</summary>
    public static string ModelDirectory => Built.Value.Model;

    /// <summary>A folder holding symlinks to the test patients' IDC folders (<c>&lt;patient&gt;/&lt;0|1&gt;/*.png</c>).</summary>
    public static string TestDataset => Built.Value.TestData;

    /// <summary>The test patches, sorted by path.</summary>
    public static List<string> TestFiles() =>
        [.. Directory.EnumerateFiles(TestDataset, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    /// <summary>IDC's class from a patch name (<c>..._class1.png</c> → 1).</summary>
    public static int ClassOf(string path) => Path.GetFileNameWithoutExtension(path).EndsWith("class1", StringComparison.Ordinal) ? 1 : 0;

    /// <summary>The card the test model is saved with.</summary>
    public static ModelCard Card() => new()
    {
        Classes = ["0", "1"],
        BachCodes = ModelCard.InferBachCodes(["0", "1"]),
        PatchSizePixels = 50,
        InputSizePixels = 50,
        Mpp = 4.0,
    };

    private static (string, string) Build()
    {
        torch.set_num_threads(2);
        string root = TestPaths.NewTempDirectory();
        string model = Path.Combine(root, "model");
        string data = Path.Combine(root, "idc-test");
        Directory.CreateDirectory(data);
        foreach (string patient in TestPatients)
        {
            Directory.CreateSymbolicLink(Path.Combine(data, patient), TestPaths.Shared("idc", patient));
        }

        using var classifier = new PatchClassifier(ResNet18OnnxImporter.Load(classCount: 2), Card());
        classifier.Network.eval();
        List<string> files = [.. TrainPatients.SelectMany(p => Directory.EnumerateFiles(TestPaths.Shared("idc", p), "*.png", SearchOption.AllDirectories)).Order(StringComparer.Ordinal)];
        float[][] features = classifier.Embed([.. files.Select(ImageIO.Load)]);
        FitHead(classifier, features, [.. files.Select(ClassOf)]);
        classifier.Save(model);
        return (model, data);
    }

    /// <summary>
    /// Class-weighted logistic regression with Adam on standardised features; the standardisation is folded into the
    /// weights copied into the network's head (w / sd, b - sum(w mean / sd)).
    /// </summary>
    private static void FitHead(PatchClassifier classifier, float[][] features, int[] labels)
    {
        using var scope = NewDisposeScope();
        Tensor raw = tensor(features.SelectMany(f => f).ToArray(), [features.Length, features[0].Length]);
        Tensor mean = raw.mean([0]);
        Tensor sd = raw.std(0).clamp_min(1e-3);
        Tensor x = (raw - mean) / sd;
        Tensor y = tensor(labels.Select(l => (long)l).ToArray());
        double positives = labels.Count(l => l == 1);
        Tensor weights = tensor(new[] { (float)(labels.Length / (2 * (labels.Length - positives))), (float)(labels.Length / (2 * positives)) });
        using var head = nn.Linear(features[0].Length, 2);
        using (var generator = new Generator(5)) // not torch's global generator, which other test classes draw from meanwhile
        using (no_grad())
        {
            double bound = 1 / Math.Sqrt(features[0].Length);
            head.weight!.uniform_(-bound, bound, generator);
            head.bias!.uniform_(-bound, bound, generator);
        }

        var optimizer = optim.Adam(head.parameters(), lr: 0.01, weight_decay: 0.1);
        for (int step = 0; step < 200; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = nn.functional.cross_entropy(head.call(x), y, weights);
            loss.backward();
            optimizer.step();
        }

        using var noGrad = no_grad();
        var parameters = classifier.Network.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Tensor w = head.weight! / sd;
        parameters["fc.weight"].copy_(w);
        parameters["fc.bias"].copy_(head.bias! - (w * mean).sum(1));
    }
}
