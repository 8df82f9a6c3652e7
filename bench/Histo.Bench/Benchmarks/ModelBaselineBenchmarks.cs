using System.Globalization;
using System.Text.Json;
using Histo.Bench.Baselines;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// <c>onnxruntime_alone*</c>: the ONNX Runtime baseline's inference throughput on its own (fp32, 224 px, batch 16
/// and 64, 2 intra-op threads). Histo's side is added with its model (<c>infer_vs_onnxruntime</c>); until then the
/// rows carry the baseline only, so the figure is visible.
/// </summary>
public sealed class OnnxRuntimeAloneBenchmark : IBenchmark
{
    /// <inheritdoc />
    public string Name => "onnxruntime_alone";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var ort = new OnnxRuntimeBaseline(intraOpThreads: 2);
        int reps = context.Quick ? 3 : 5;
        foreach (int batch in new[] { 16, 64 })
        {
            double ips = ort.ImagesPerSecond(batch, 224, warmup: 1, repetitions: reps);
            yield return BenchResult.BaselineOnly(batch == 16 ? Name : $"{Name}_b{batch}", ips, "img/s",
                $"onnxruntime {OnnxRuntimeBaseline.Version}", $"ResNet18 [2,2,2,3] fp32, batch {batch}, 224 px, 2 threads");
        }
    }
}

/// <summary>
/// <c>pytorch_alone*</c> and <c>pytorch_train_alone</c>: python3-torch on the same network (bench/python/torch_bench.py),
/// inference fp32 and bf16 at batch 16 and 64, and one fine-tuning step at batch 16, 224 px, 2 threads. Histo's side
/// comes with its model (<c>infer_vs_pytorch</c>, <c>train_vs_pytorch</c>).
/// </summary>
public sealed class PyTorchAloneBenchmark : IBenchmark
{
    /// <inheritdoc />
    public string Name => "pytorch_alone pytorch_train_alone";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string reps = context.Quick ? "3" : "5";
        var json = PythonBaseline.Run(context, "torch_bench.py",
            ["--batches", "16,64", "--sizes", "224", "--train-batch", "16", "--train-sizes", "224", "--classes", "4", "--threads", "2", "--warmup", "1", "--reps", reps]);
        string torch = "python3-torch " + json.GetProperty("torch").GetString();
        foreach (var row in json.GetProperty("infer").EnumerateArray())
        {
            string dtype = row.GetProperty("dtype").GetString()!;
            int batch = row.GetProperty("batch").GetInt32();
            string name = "pytorch_alone" + (dtype == "fp32" ? "" : "_" + dtype) + (batch == 16 ? "" : $"_b{batch}");
            yield return BenchResult.BaselineOnly(name, row.GetProperty("img_per_s").GetDouble(), "img/s", torch,
                string.Create(CultureInfo.InvariantCulture, $"ResNet18 [2,2,2,3] inference {dtype}, batch {batch}, {row.GetProperty("size").GetInt32()} px, 2 threads"));
        }

        foreach (var row in json.GetProperty("train").EnumerateArray())
        {
            yield return BenchResult.BaselineOnly("pytorch_train_alone", row.GetProperty("img_per_s").GetDouble(), "img/s", torch,
                string.Create(CultureInfo.InvariantCulture, $"fine-tuning step (SGD Nesterov, cross-entropy) fp32, batch {row.GetProperty("batch").GetInt32()}, {row.GetProperty("size").GetInt32()} px, 2 threads"));
        }
    }
}
