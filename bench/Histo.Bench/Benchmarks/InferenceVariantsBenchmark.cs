using System.Diagnostics;
using System.Globalization;
using Histo.Bench.Baselines;
using Histo.Learning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// <c>infer_variant_*</c>: the ways Histo can run its ResNet18 for inference, each against ONNX Runtime fp32 in the
/// same run (interleaved repetition by repetition), batch 16 at 224 px and at 64 px (suffix <c>_64px</c>): the plain
/// TorchSharp module NCHW and channels-last, the batch-norm-folded copy (<see cref="FusedResNet18"/>) NCHW,
/// channels-last and bf16, and the folded network written as ONNX and run by ONNX Runtime
/// (<see cref="OnnxRuntimeResNet18"/>). The evidence behind the choice of <see cref="PatchClassifier"/>'s engine.
/// </summary>
public sealed class InferenceVariantsBenchmark : IBenchmark
{
    /// <inheritdoc />
    public string Name => "infer_variant";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        torch.set_num_threads(2);
        int reps = context.Quick ? 3 : 5;
        using var ort = new OnnxRuntimeBaseline(intraOpThreads: 2);
        using ResNet18Variant network = ResNet18OnnxImporter.Load(classCount: 2);
        using FusedResNet18 fusedNchw = FusedResNet18.Create(network, channelsLast: false);
        using FusedResNet18 fused = FusedResNet18.Create(network);
        using FusedResNet18 fusedBf16 = FusedResNet18.Create(network, ScalarType.BFloat16);
        using OnnxRuntimeResNet18 histoOrt = OnnxRuntimeResNet18.Create(network, intraOpThreads: 2);
        foreach ((int size, string suffix) in new[] { (224, ""), (64, "_64px") })
        {
            foreach (BenchResult r in Measure(network, fusedNchw, fused, fusedBf16, histoOrt, ort, 16, size, reps))
            {
                yield return r with { Name = r.Name + suffix };
            }
        }
    }

    private IEnumerable<BenchResult> Measure(
        ResNet18Variant network, FusedResNet18 fusedNchw, FusedResNet18 fused, FusedResNet18 fusedBf16, OnnxRuntimeResNet18 histoOrt, OnnxRuntimeBaseline ort, int batch, int size, int reps)
    {
        float[] input = InferenceInputs.Random(batch, size);
        using Tensor x = tensor(input, [batch, 3, size, size]);
        var variants = new (string Name, Action Run)[]
        {
            ("plain_nchw", () => { network.ChannelsLast = false; Plain(network, x); }),
            ("plain_channels_last", () => { network.ChannelsLast = true; Plain(network, x); }),
            ("fused_nchw", () => Fused(fusedNchw, x)),
            ("fused_channels_last", () => Fused(fused, x)),
            ("fused_bf16", () => Fused(fusedBf16, x)),
            ("onnxruntime_engine", () => { using DisposeScope scope = NewDisposeScope(); histoOrt.Logits(x); }),
        };
        var times = new List<double>[variants.Length];
        var ortTimes = new List<double>();
        for (int i = 0; i < variants.Length; i++)
        {
            times[i] = [];
        }

        using var session = ort.Prepare(input, batch, size);
        for (int rep = -1; rep < reps; rep++)
        {
            for (int i = 0; i < variants.Length; i++)
            {
                double t = Seconds(variants[i].Run);
                if (rep >= 0)
                {
                    times[i].Add(t);
                }
            }

            double o = Seconds(session.Run);
            if (rep >= 0)
            {
                ortTimes.Add(o);
            }
        }

        double ortIps = batch / Median(ortTimes);
        for (int i = 0; i < variants.Length; i++)
        {
            yield return new BenchResult($"{Name}_{variants[i].Name}", batch / Median(times[i]), ortIps, "img/s",
                $"onnxruntime {OnnxRuntimeBaseline.Version} fp32",
                Notes: string.Create(CultureInfo.InvariantCulture, $"Histo {variants[i].Name}, batch {batch}, {size} px, 2 threads"));
        }
    }

    private static void Plain(ResNet18Variant network, Tensor x)
    {
        using DisposeScope scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.call(x);
    }

    private static void Fused(FusedResNet18 network, Tensor x)
    {
        using DisposeScope scope = NewDisposeScope();
        network.Logits(x);
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
