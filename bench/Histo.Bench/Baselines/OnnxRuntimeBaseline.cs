using System.Reflection;
using Microsoft.ML.OnnxRuntime;

namespace Histo.Bench.Baselines;

/// <summary>
/// The ONNX Runtime inference baseline: the ImageNet ResNet18 (blocks [2,2,2,3], 512-d pooled features; NuGet
/// package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, fetched by the bench project with PackageDownload) in
/// ONNX Runtime's CPU provider, fp32, made batch- and size-dynamic by <see cref="OnnxGraphEdit"/>. One session per
/// instance; create it once and reuse it.
/// </summary>
public sealed class OnnxRuntimeBaseline : IDisposable
{
    /// <summary>The NuGet package that carries the model.</summary>
    public const string ModelPackage = "microsoft.ml.dnnimagefeaturizer.resnet18";

    /// <summary>Its version (the one the bench project downloads).</summary>
    public const string ModelPackageVersion = "0.23.1";

    /// <summary>Length of the pooled feature vector per image.</summary>
    public const int FeatureLength = 512;

    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;

    /// <summary>Loads the model (at <paramref name="modelPath"/>, default <see cref="FindModel"/>) with the given intra-op threads.</summary>
    public OnnxRuntimeBaseline(int intraOpThreads = 2, string? modelPath = null)
    {
        byte[] model = OnnxGraphEdit.MakeBatchAndSizeDynamic(File.ReadAllBytes(modelPath ?? FindModel()));
        using var options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(model, options);
        _inputName = _session.InputNames.Single();
        _outputName = _session.OutputNames.Single();
        IntraOpThreads = intraOpThreads;
    }

    /// <summary>Threads ONNX Runtime uses inside one operator.</summary>
    public int IntraOpThreads { get; }

    /// <summary>ONNX Runtime's version string (from the native library).</summary>
    public static string Version => OrtEnv.Instance().GetVersionString();

    /// <summary>
    /// Where ResNet18.onnx is: under the NuGet packages folder the bench was restored with (recorded at build time),
    /// else $NUGET_PACKAGES, else ~/.nuget/packages.
    /// </summary>
    public static string FindModel()
    {
        string? built = typeof(OnnxRuntimeBaseline).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value;
        var roots = new[]
        {
            built,
            Environment.GetEnvironmentVariable("NUGET_PACKAGES"),
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
        };
        foreach (string? root in roots.Where(r => !string.IsNullOrEmpty(r)))
        {
            string path = Path.Combine(root!, ModelPackage, ModelPackageVersion, "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException($"ResNet18.onnx not found: restore bench/Histo.Bench (it downloads NuGet package {ModelPackage} {ModelPackageVersion})");
    }

    /// <summary>
    /// Runs the network on <paramref name="batch"/> images of <paramref name="sizePixels"/> x <paramref name="sizePixels"/>,
    /// NCHW float32 (the model expects BGR 0..255 minus the per-channel means), and returns batch x 512 pooled features.
    /// </summary>
    public float[] Features(float[] input, int batch, int sizePixels)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Length != (long)batch * 3 * sizePixels * sizePixels)
        {
            throw new ArgumentException($"expected {batch}x3x{sizePixels}x{sizePixels} floats, got {input.Length}", nameof(input));
        }

        using var tensor = OrtValue.CreateTensorValueFromMemory(input, [batch, 3, sizePixels, sizePixels]);
        using var results = _session.Run(new RunOptions(), [_inputName], [tensor], [_outputName]);
        var output = results[0].GetTensorDataAsSpan<float>();
        if (output.Length != batch * FeatureLength)
        {
            throw new InvalidOperationException($"expected {batch * FeatureLength} features, got {output.Length}");
        }

        return output.ToArray();
    }

    /// <summary>
    /// Inference throughput: images per second on batches of <paramref name="batch"/> random images of
    /// <paramref name="sizePixels"/> px, median of <paramref name="repetitions"/> timed runs after
    /// <paramref name="warmup"/> untimed ones.
    /// </summary>
    public double ImagesPerSecond(int batch, int sizePixels, int warmup = 2, int repetitions = 5)
    {
        var random = new Random(7);
        var input = new float[batch * 3 * sizePixels * sizePixels];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)(random.NextDouble() * 255 - 120);
        }

        using var tensor = OrtValue.CreateTensorValueFromMemory(input, [batch, 3, sizePixels, sizePixels]);
        using var runOptions = new RunOptions();
        string[] inputNames = [_inputName], outputNames = [_outputName];
        OrtValue[] inputs = [tensor];
        double seconds = BenchContext.MedianSeconds(() =>
        {
            using var results = _session.Run(runOptions, inputNames, inputs, outputNames);
        }, warmup, repetitions);
        return batch / seconds;
    }

    /// <summary>
    /// Binds <paramref name="input"/> (NCHW float32, <paramref name="batch"/> x 3 x <paramref name="sizePixels"/>^2) once,
    /// so that a benchmark can time single runs of it (<see cref="PreparedRun.Run"/>) interleaved with other engines.
    /// </summary>
    public PreparedRun Prepare(float[] input, int batch, int sizePixels) => new(this, input, batch, sizePixels);

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    /// <summary>One input bound to the session; <see cref="Run"/> runs the network once on it.</summary>
    public sealed class PreparedRun : IDisposable
    {
        private readonly OnnxRuntimeBaseline _owner;
        private readonly OrtValue _tensor;
        private readonly RunOptions _runOptions = new();
        private readonly OrtValue[] _inputs;

        internal PreparedRun(OnnxRuntimeBaseline owner, float[] input, int batch, int sizePixels)
        {
            _owner = owner;
            _tensor = OrtValue.CreateTensorValueFromMemory(input, [batch, 3, sizePixels, sizePixels]);
            _inputs = [_tensor];
        }

        /// <summary>Runs the network once (the output is discarded).</summary>
        public void Run()
        {
            using var results = _owner._session.Run(_runOptions, [_owner._inputName], _inputs, [_owner._outputName]);
        }

        /// <summary>Runs the network once and returns the pooled features.</summary>
        public float[] Features()
        {
            using var results = _owner._session.Run(_runOptions, [_owner._inputName], _inputs, [_owner._outputName]);
            return results[0].GetTensorDataAsSpan<float>().ToArray();
        }

        /// <inheritdoc />
        public void Dispose()
        {
            _tensor.Dispose();
            _runOptions.Dispose();
        }
    }
}
