using Histo.Imaging;
using Histo.Learning.Models;
using Histo.Learning.Onnx;
using Histo.Models;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Tests.Learning;

/// <summary>
/// The inference engines of <see cref="PatchClassifier"/> (batch-norm-folded TorchSharp copy, ONNX Runtime on the
/// exported graph, bf16) against the plain network, on real IDC patches (64 px) and real tissue tiles (224 px) with
/// the pretrained backbone.
/// </summary>
public sealed class InferenceEngineTests
{
    static InferenceEngineTests() => torch.set_num_threads(2);

    private static ModelCard Card(int inputSizePixels) => new()
    {
        Classes = ["benign", "malignant"],
        PatchSizePixels = 50,
        InputSizePixels = inputSizePixels,
        Mpp = 4.0,
    };

    private static List<RgbaImage> IdcPatches(int count) =>
        [.. Directory.EnumerateFiles(TestPaths.Shared("idc"), "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Where((_, i) => i % 97 == 0).Take(count).Select(ImageIO.Load)];

    private static List<RgbaImage> TissueTiles(int count) =>
        [.. Directory.EnumerateFiles(TestPaths.Shared("tissue-tiles", "histolab"), "tissue-level0-*.png").Order(StringComparer.Ordinal).Take(count).Select(ImageIO.Load)];

    /// <summary>Largest |a - b| over all entries, relative to the largest |a| (at least 1).</summary>
    private static double MaxRelativeDifference(float[][] a, float[][] b)
    {
        Assert.Equal(a.Length, b.Length);
        double scale = Math.Max(1, a.SelectMany(r => r).Max(Math.Abs));
        double diff = 0;
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i].Length, b[i].Length);
            for (int j = 0; j < a[i].Length; j++)
            {
                diff = Math.Max(diff, Math.Abs(a[i][j] - b[i][j]));
            }
        }

        return diff / scale;
    }

    private static double MaxAbsDifference(float[][] a, float[][] b) =>
        a.Zip(b, (x, y) => x.Zip(y, (p, q) => Math.Abs(p - q)).Max()).Max();

    [Theory]
    [InlineData(InferenceEngine.Fused, 64)]
    [InlineData(InferenceEngine.OnnxRuntime, 64)]
    [InlineData(InferenceEngine.Fused, 224)]
    [InlineData(InferenceEngine.OnnxRuntime, 224)]
    public void FusedAndOnnxRuntimeEnginesEqualThePlainNetworkOnRealImages(InferenceEngine engine, int inputSizePixels)
    {
        List<RgbaImage> patches = inputSizePixels == 64 ? IdcPatches(12) : TissueTiles(4);
        using var classifier = new PatchClassifier(ResNet18OnnxImporter.Load(classCount: 2), Card(inputSizePixels)) { Inference = InferenceEngine.Plain };
        float[][] plainProbabilities = classifier.Predict(patches);
        float[][] plainFeatures = classifier.Embed(patches);

        classifier.Inference = engine;
        float[][] probabilities = classifier.Predict(patches);
        float[][] features = classifier.Embed(patches);

        Assert.True(MaxAbsDifference(plainProbabilities, probabilities) <= 1e-4, $"probabilities differ by {MaxAbsDifference(plainProbabilities, probabilities)}");
        Assert.True(MaxRelativeDifference(plainFeatures, features) <= 1e-4, $"features differ by {MaxRelativeDifference(plainFeatures, features)} (relative)");
        // Real images give different features: the comparison is not between constant outputs.
        Assert.True(MaxRelativeDifference(features[..1], features[1..2]) > 1e-2);
    }

    [Fact]
    public void Bf16EngineStaysCloseToFp32AndKeepsTheFeatureDirection()
    {
        List<RgbaImage> patches = IdcPatches(12);
        using var classifier = new PatchClassifier(ResNet18OnnxImporter.Load(classCount: 2), Card(64));
        float[][] fp32 = classifier.Embed(patches);
        classifier.Inference = InferenceEngine.FusedBFloat16;
        float[][] bf16 = classifier.Embed(patches);

        double relative = MaxRelativeDifference(fp32, bf16);
        Assert.True(relative > 0, "bf16 features are bit-identical to fp32: the bf16 engine did not run in bf16");
        for (int i = 0; i < fp32.Length; i++)
        {
            double dot = 0, a = 0, b = 0;
            for (int j = 0; j < fp32[i].Length; j++)
            {
                dot += fp32[i][j] * bf16[i][j];
                a += fp32[i][j] * fp32[i][j];
                b += bf16[i][j] * bf16[i][j];
            }

            Assert.True(dot / Math.Sqrt(a * b) > 0.995, $"patch {i}: cosine {dot / Math.Sqrt(a * b)}");
        }
    }

    [Theory]
    [InlineData(InferenceEngine.Fused)]
    [InlineData(InferenceEngine.OnnxRuntime)]
    public void WeightsChangedInTrainingModeAreSeenByTheNextPrediction(InferenceEngine engine)
    {
        List<RgbaImage> patches = IdcPatches(4);
        using var classifier = new PatchClassifier(ResNet18OnnxImporter.Load(classCount: 2), Card(64)) { Inference = engine };
        float[][] before = classifier.Predict(patches);
        Assert.Contains(before, row => Math.Abs(row[0] - 0.5f) > 1e-3);

        // What a training step does: train mode, weights change. A zero head gives 0.5 / 0.5 everywhere.
        classifier.Network.train();
        using (no_grad())
        {
            foreach ((string name, var parameter) in classifier.Network.named_parameters())
            {
                if (name.StartsWith("fc.", StringComparison.Ordinal))
                {
                    parameter.zero_();
                }
            }
        }

        float[][] after = classifier.Predict(patches);
        Assert.All(after, row => Assert.Equal(0.5f, row[0], 5));
        Assert.False(classifier.Network.training);
    }

    [Fact]
    public void ExportedOnnxModelHasDynamicBatchAndSizeAndBothOutputs()
    {
        using ResNet18Variant network = ResNet18OnnxImporter.Load(classCount: 3);
        using FusedResNet18 fused = FusedResNet18.Create(network, channelsLast: false);
        byte[] model = OnnxModelWriter.Write(fused);
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);

        Assert.Equal([OnnxModelWriter.InputName], session.InputNames);
        Assert.Equal([OnnxModelWriter.FeaturesName, OnnxModelWriter.LogitsName], session.OutputNames);
        Assert.Equal([-1, 3, -1, -1], session.InputMetadata[OnnxModelWriter.InputName].Dimensions);
        Assert.Equal([-1, 3], session.OutputMetadata[OnnxModelWriter.LogitsName].Dimensions);

        using FusedResNet18 bf16 = FusedResNet18.Create(network, ScalarType.BFloat16);
        Assert.Throws<ArgumentException>(() => OnnxModelWriter.Write(bf16));
    }
}
