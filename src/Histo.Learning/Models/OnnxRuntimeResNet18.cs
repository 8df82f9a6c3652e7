using Histo.Learning.Onnx;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Histo.Learning.Models;

/// <summary>
/// A <see cref="ResNet18Variant"/> run by ONNX Runtime (CPU provider): the network's batch normalisation is folded
/// (<see cref="FusedResNet18"/>), the result written as ONNX in memory (<see cref="OnnxModelWriter"/>) and loaded into
/// an inference session with as many intra-op threads as TorchSharp uses. A snapshot of the weights, like
/// <see cref="FusedResNet18"/>.
/// </summary>
public sealed class OnnxRuntimeResNet18 : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    private OnnxRuntimeResNet18(InferenceSession session, int classCount)
    {
        _session = session;
        ClassCount = classCount;
    }

    /// <summary>Number of classes of the head, or 0 if the source network has none.</summary>
    public int ClassCount { get; }

    /// <summary>Builds the session from <paramref name="network"/>'s current weights (evaluation statistics).</summary>
    /// <param name="network">The source network; it is not modified.</param>
    /// <param name="intraOpThreads">ONNX Runtime's intra-op threads; default <c>torch.get_num_threads()</c>.</param>
    public static OnnxRuntimeResNet18 Create(ResNet18Variant network, int? intraOpThreads = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        byte[] model;
        using (FusedResNet18 fused = FusedResNet18.Create(network, ScalarType.Float32, channelsLast: false))
        {
            model = OnnxModelWriter.Write(fused);
        }

        using var options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads ?? get_num_threads(),
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        return new OnnxRuntimeResNet18(new InferenceSession(model, options), network.ClassCount);
    }

    /// <summary>Pooled features <c>[N, 512]</c> of preprocessed float32 images <c>[N, 3, H, W]</c>.</summary>
    public Tensor Features(Tensor input) => Run(input, OnnxModelWriter.FeaturesName, ResNet18Variant.FeatureCount);

    /// <summary>Class logits <c>[N, ClassCount]</c>, or the features if the source network has no head.</summary>
    public Tensor Logits(Tensor input) =>
        ClassCount == 0 ? Features(input) : Run(input, OnnxModelWriter.LogitsName, ClassCount);

    /// <inheritdoc />
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    private Tensor Run(Tensor input, string outputName, int columns)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != 3)
        {
            throw new ArgumentException($"expected [N, 3, H, W] images, got [{string.Join(", ", input.shape)}]", nameof(input));
        }

        float[] values = input.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(values, input.shape);
        using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(_runOptions, [OnnxModelWriter.InputName], [value], [outputName]);
        float[] output = results[0].GetTensorDataAsSpan<float>().ToArray();
        return tensor(output, [input.shape[0], columns]);
    }
}
