using System.Diagnostics;
using System.Globalization;
using Histo.Bench.Baselines;
using Histo.Learning.Models;
using Histo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// <c>infer_vs_onnxruntime</c>, <c>infer_vs_pytorch</c>, <c>infer_bf16_vs_onnxruntime</c> (and
/// <c>infer_bf16_vs_pytorch_bf16</c>, <c>infer_ortengine_vs_onnxruntime</c>): Histo's inference path
/// (<see cref="PatchClassifier.Logits"/> with its default engine, TorchSharp with batch norm folded, fp32; with
/// <see cref="InferenceEngine.FusedBFloat16"/>; and with <see cref="InferenceEngine.OnnxRuntime"/>) against the same weights in ONNX Runtime (fp32) and
/// in python3-torch (eval, no_grad; fp32 and bf16), 2 threads, on preprocessed batches. Main rows at 224 px batch 16;
/// suffixes <c>_b64</c> (batch 64), <c>_64px</c> (64 px input, the size for ~50 px IDC patches). Every engine runs
/// once per repetition in turn (1 warm-up, then the median), so machine noise hits them alike. The bf16 rows carry
/// the accuracy change measured on real IDC patches (<see cref="Bf16Accuracy"/>).
/// </summary>
public sealed class InferenceBenchmark : IBenchmark
{
    private static readonly (int SizePixels, int Batch, string Suffix)[] Configurations =
        [(224, 16, ""), (224, 64, "_b64"), (64, 16, "_64px"), (64, 64, "_64px_b64")];

    /// <inheritdoc />
    public string Name => "infer_vs_onnxruntime infer_vs_pytorch infer_bf16_vs_onnxruntime";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        torch.set_num_threads(2);
        int reps = context.Quick ? 3 : 7;
        var card = new ModelCard { Classes = ["0", "1"], PatchSizePixels = 50, InputSizePixels = 64, Mpp = 4.0 };
        ResNet18Variant network = ResNet18OnnxImporter.Load(classCount: 2);
        ResNet18Variant networkCopy = ResNet18OnnxImporter.Load(classCount: 2);
        ResNet18Variant networkCopy2 = ResNet18OnnxImporter.Load(classCount: 2);
        using var classifier = new PatchClassifier(network, card);
        using var classifierBf16 = new PatchClassifier(networkCopy, card) { Inference = InferenceEngine.FusedBFloat16 };
        using var classifierOrt = new PatchClassifier(networkCopy2, card) { Inference = InferenceEngine.OnnxRuntime };
        Bf16Accuracy accuracy = Bf16Accuracy.Measure(context, classifier, classifierBf16);
        classifier.Inference = InferenceEngine.Fused;
        networkCopy2.load_state_dict(network.state_dict());
        classifierOrt.RefreshInference();
        Console.Error.WriteLine($"  bf16 accuracy: {accuracy}");

        using var ort = new OnnxRuntimeBaseline(intraOpThreads: 2);
        using var python = new PythonTorchServer(context, threads: 2);
        python.LoadWeights(network, context.CacheDir);
        double pythonDiff = CheckSameLogits(context, classifier, python);
        string ortName = $"onnxruntime {OnnxRuntimeBaseline.Version} fp32";
        string torchName = $"python3-torch {python.Version}";

        foreach ((int size, int batch, string suffix) in Configurations)
        {
            float[] input = InferenceInputs.Random(batch, size);
            using Tensor x = tensor(input, [batch, 3, size, size]);
            using OnnxRuntimeBaseline.PreparedRun ortRun = ort.Prepare(input, batch, size);
            var histo = new List<double>();
            var histoBf16 = new List<double>();
            var onnx = new List<double>();
            var torchFp32 = new List<double>();
            var torchBf16 = new List<double>();
            var histoOrt = new List<double>();
            for (int rep = -1; rep < reps; rep++)
            {
                double h = Seconds(() => Run(classifier, x));
                double o = Seconds(ortRun.Run);
                double p = python.Infer("fp32", size, batch);
                double hb = Seconds(() => Run(classifierBf16, x));
                double pb = python.Infer("bf16", size, batch);
                double ht = Seconds(() => Run(classifierOrt, x));
                if (rep >= 0)
                {
                    histoOrt.Add(ht);
                    histo.Add(h);
                    onnx.Add(o);
                    torchFp32.Add(p);
                    histoBf16.Add(hb);
                    torchBf16.Add(pb);
                }
            }

            string conditions = string.Create(CultureInfo.InvariantCulture, $"ResNet18 [2,2,2,3] + 2-class head, batch {batch}, {size} px, 2 threads, median of {reps}");
            double histoIps = batch / Median(histo), histoBf16Ips = batch / Median(histoBf16), ortIps = batch / Median(onnx);
            yield return new BenchResult("infer_vs_onnxruntime" + suffix, histoIps, ortIps, "img/s", ortName,
                Notes: $"Histo default engine: TorchSharp, BN folded, channels-last, fp32; {conditions}");
            yield return new BenchResult("infer_vs_pytorch" + suffix, histoIps, batch / Median(torchFp32), "img/s", torchName + " fp32",
                Notes: string.Create(CultureInfo.InvariantCulture, $"Histo default engine vs torch eval+no_grad, same weights (logits differ by {pythonDiff:0.0e0}); {conditions}"));
            yield return new BenchResult("infer_ortengine_vs_onnxruntime" + suffix, batch / Median(histoOrt), ortIps, "img/s", ortName,
                Notes: $"Histo's OnnxRuntime engine (its BN-folded graph exported to ONNX Runtime) vs the original ONNX file; {conditions}");
            yield return new BenchResult("infer_bf16_vs_onnxruntime" + suffix, histoBf16Ips, ortIps, "img/s", ortName,
                Notes: suffix.Length == 0
                    ? $"Histo TorchSharp bf16 (BN folded, channels-last) vs ONNX Runtime fp32; accuracy change: {accuracy}; {conditions}"
                    : $"Histo TorchSharp bf16 vs ONNX Runtime fp32 (accuracy: see infer_bf16_vs_onnxruntime); {conditions}");
            yield return new BenchResult("infer_bf16_vs_pytorch_bf16" + suffix, histoBf16Ips, batch / Median(torchBf16), "img/s", torchName + " bf16",
                Notes: $"Histo TorchSharp bf16 vs torch bf16 weights+input; {conditions}");
        }
    }

    private static void Run(PatchClassifier classifier, Tensor x)
    {
        using DisposeScope scope = NewDisposeScope();
        classifier.Logits(x);
    }

    /// <summary>Max abs difference between Histo's and Python's fp32 logits on the same two 64 px inputs.</summary>
    private static double CheckSameLogits(BenchContext context, PatchClassifier classifier, PythonTorchServer python)
    {
        float[] input = InferenceInputs.Random(2, 64);
        float[] theirs = python.Logits(input, 2, 64, context.CacheDir);
        using DisposeScope scope = NewDisposeScope();
        float[] ours = classifier.Logits(tensor(input, [2, 3, 64, 64])).data<float>().ToArray();
        double diff = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        double scale = ours.Max(Math.Abs);
        if (ours.Length != theirs.Length || diff > 1e-3 * Math.Max(1, scale))
        {
            throw new InvalidOperationException($"python3-torch does not compute the same network: logits differ by {diff} (scale {scale})");
        }

        return diff;
    }

    private static double Seconds(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
