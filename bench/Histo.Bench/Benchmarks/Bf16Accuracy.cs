using System.Globalization;
using Histo.Imaging;
using Histo.Learning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// What bf16 inference changes on real images: the pretrained backbone with a linear head fitted (logistic regression
/// on its fp32 features) to IDC patches of one half of the patients (/work/shared/data/idc, read in place, never
/// copied), then compared on patches of the other half: fp32 fused vs plain and bf16 fused vs fp32 fused.
/// </summary>
public sealed record Bf16Accuracy(int Images, double FusedMaxAbsProbDiff, double Bf16MaxAbsProbDiff, double Bf16MeanAbsProbDiff, double Bf16ArgmaxAgreement, double Fp32LabelAccuracy, double Bf16LabelAccuracy)
{
    private const int PerPatientPerClass = 3;

    /// <summary>Fits the head of <paramref name="fp32"/>, copies it to <paramref name="bf16"/> and compares them.</summary>
    public static Bf16Accuracy Measure(BenchContext context, PatchClassifier fp32, PatchClassifier bf16)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(fp32);
        ArgumentNullException.ThrowIfNull(bf16);
        string idc = Path.Combine(context.SharedData, "idc");
        string[] patients = [.. Directory.GetDirectories(idc).Order(StringComparer.Ordinal)];
        var (trainImages, trainLabels) = Load(patients.Where((_, i) => i % 2 == 0));
        var (testImages, testLabels) = Load(patients.Where((_, i) => i % 2 == 1));

        fp32.Inference = InferenceEngine.Plain;
        FitHead(fp32, Batched(trainImages, fp32.Embed), trainLabels);
        bf16.Network.load_state_dict(fp32.Network.state_dict());
        bf16.RefreshInference();

        float[][] plain = Batched(testImages, fp32.Predict);
        fp32.Inference = InferenceEngine.Fused;
        float[][] fused = Batched(testImages, fp32.Predict);
        float[][] reduced = Batched(testImages, bf16.Predict);
        double fusedDiff = 0, bf16Diff = 0, bf16Sum = 0;
        int agree = 0, fp32Right = 0, bf16Right = 0;
        for (int i = 0; i < testImages.Count; i++)
        {
            for (int c = 0; c < 2; c++)
            {
                fusedDiff = Math.Max(fusedDiff, Math.Abs(fused[i][c] - plain[i][c]));
                bf16Diff = Math.Max(bf16Diff, Math.Abs(reduced[i][c] - fused[i][c]));
            }

            bf16Sum += Math.Abs(reduced[i][1] - fused[i][1]);
            int a = fused[i][1] > fused[i][0] ? 1 : 0, b = reduced[i][1] > reduced[i][0] ? 1 : 0;
            agree += a == b ? 1 : 0;
            fp32Right += a == testLabels[i] ? 1 : 0;
            bf16Right += b == testLabels[i] ? 1 : 0;
        }

        int n = testImages.Count;
        return new Bf16Accuracy(n, fusedDiff, bf16Diff, bf16Sum / n, (double)agree / n, (double)fp32Right / n, (double)bf16Right / n);
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Images} IDC patches at 64 px, linear probe: max |p_bf16 - p_fp32| {Bf16MaxAbsProbDiff:0.0000} (mean {Bf16MeanAbsProbDiff:0.00000}), argmax agreement {Bf16ArgmaxAgreement:P1}, accuracy fp32 {Fp32LabelAccuracy:P1} / bf16 {Bf16LabelAccuracy:P1}; fused fp32 vs plain max {FusedMaxAbsProbDiff:0.0e0}");

    private static (List<RgbaImage> Images, List<int> Labels) Load(IEnumerable<string> patients)
    {
        var images = new List<RgbaImage>();
        var labels = new List<int>();
        foreach (string patient in patients)
        {
            for (int label = 0; label < 2; label++)
            {
                string folder = Path.Combine(patient, label.ToString(CultureInfo.InvariantCulture));
                if (!Directory.Exists(folder))
                {
                    continue;
                }

                foreach (string file in Directory.EnumerateFiles(folder, "*.png").Order(StringComparer.Ordinal).Take(PerPatientPerClass))
                {
                    images.Add(ImageIO.Load(file));
                    labels.Add(label);
                }
            }
        }

        return (images, labels);
    }

    private static float[][] Batched(List<RgbaImage> images, Func<IReadOnlyList<RgbaImage>, CancellationToken, float[][]> run) =>
        [.. images.Chunk(64).SelectMany(chunk => run(chunk, CancellationToken.None))];

    /// <summary>Logistic regression of the labels on the fp32 features (Adam, full batch), written into the head.</summary>
    private static void FitHead(PatchClassifier classifier, float[][] features, List<int> labels)
    {
        using DisposeScope scope = NewDisposeScope();
        int n = features.Length;
        Tensor x = tensor(features.SelectMany(f => f).ToArray(), [n, ResNet18Variant.FeatureCount]);
        Tensor mean = x.mean([0]), std = x.std(0) + 1e-6;
        Tensor xs = (x - mean) / std;
        Tensor y = tensor(labels.Select(l => (long)l).ToArray());
        var head = nn.Linear(ResNet18Variant.FeatureCount, 2);
        var optimizer = optim.Adam(head.parameters(), 0.01, weight_decay: 1e-3);
        for (int step = 0; step < 300; step++)
        {
            optimizer.zero_grad();
            nn.functional.cross_entropy(head.call(xs), y).backward();
            optimizer.step();
        }

        using var noGrad = no_grad();
        // Undo the standardisation: w' = w / std, b' = b - w' . mean.
        Tensor weight = head.weight! / std;
        Tensor bias = head.bias! - weight.matmul(mean);
        var parameters = classifier.Network.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        parameters["fc.weight"].copy_(weight);
        parameters["fc.bias"].copy_(bias);
    }
}
