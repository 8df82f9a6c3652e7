using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.Intrinsics.X86;
using Histo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Learning.Models;

/// <summary>The outcome of one engine's self-check against the NCHW fp32 reference.</summary>
/// <param name="Engine">The engine's name (<see cref="EngineSelfCheck.NameOf"/>): plain-channels-last-fp32, fused-fp32, fused-bf16 or onnxruntime-fp32.</param>
/// <param name="MaxRelativeDifference">Largest |engine - reference| of the pooled features, relative to the largest |reference|.</param>
/// <param name="Tolerance">The largest relative difference accepted for this engine's element type.</param>
public sealed record EngineCheckResult(string Engine, double MaxRelativeDifference, double Tolerance)
{
    /// <summary>Whether the engine computed the reference's features within the tolerance.</summary>
    public bool Passed => MaxRelativeDifference <= Tolerance;
}

/// <summary>
/// Runs a fixed probe batch through every inference path of a ResNet18 and compares each with an independent
/// reference computed in the same process: the plain TorchSharp network in NCHW fp32. oneDNN picks its kernels per
/// CPU (and per VM's CPUID answers), so a fast path can be wrong on one machine and right on the next; this makes such
/// a fault visible on the machine where it happens.
/// </summary>
public static class EngineSelfCheck
{
    /// <summary>Relative tolerance of the fp32 paths (rounding order only).</summary>
    public const double Fp32Tolerance = 1e-3;

    /// <summary>Relative tolerance of the bf16 path (8-bit mantissa through 20 layers).</summary>
    public const double BFloat16Tolerance = 0.05;

    private static readonly ConcurrentDictionary<string, EngineCheckResult> CheckedOnce = new(StringComparer.Ordinal);

    /// <summary>
    /// Raised (at most once per engine and process) when the self-check finds an engine wrong and a
    /// <see cref="PatchClassifier"/> or the trainer falls back to the NCHW fp32 network; the argument is a one-line message. Hosts
    /// show it (the CLI prints it as a <c>warning:</c> line); the library itself never prints.
    /// </summary>
    public static event Action<string>? EngineReplaced;

    /// <summary>
    /// Checks <paramref name="engine"/> of <paramref name="network"/> against its NCHW fp32 output on the fixed probe,
    /// once per engine and process (oneDNN chooses its kernels per process, not per model); later calls return the
    /// first result.
    /// </summary>
    /// <param name="engine">The engine; <see cref="InferenceEngine.Plain"/> checks the plain network channels-last.</param>
    /// <param name="network">The network; its mode and layout are restored afterwards.</param>
    /// <returns>The result of the first check of this engine in this process.</returns>
    public static EngineCheckResult CheckOnce(InferenceEngine engine, ResNet18Variant network)
    {
        ArgumentNullException.ThrowIfNull(network);
        string name = NameOf(engine, channelsLast: true);
        return CheckedOnce.GetOrAdd(name, _ => Run(network, only: name).Single());
    }

    /// <summary>The name of the NCHW fp32 network, the reference every engine is compared with.</summary>
    public const string ReferenceName = "plain-nchw-fp32";

    /// <summary>
    /// An engine's name as outputs record it (<see cref="EngineUsage.Name"/>): <c>fused-fp32</c>, <c>fused-bf16</c>,
    /// <c>onnxruntime-fp32</c>, <c>plain-channels-last-fp32</c> or <see cref="ReferenceName"/>.
    /// </summary>
    /// <param name="engine">The engine.</param>
    /// <param name="channelsLast">For <see cref="InferenceEngine.Plain"/>: the network's <see cref="ResNet18Variant.ChannelsLast"/>.</param>
    public static string NameOf(InferenceEngine engine, bool channelsLast) => engine switch
    {
        InferenceEngine.Fused => "fused-fp32",
        InferenceEngine.FusedBFloat16 => "fused-bf16",
        InferenceEngine.OnnxRuntime => "onnxruntime-fp32",
        InferenceEngine.Plain => channelsLast ? PlainChannelsLast : ReferenceName,
        _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, "unknown inference engine"),
    };

    /// <summary>
    /// Checks <paramref name="engine"/> (<see cref="CheckOnce"/>). When it is wrong, the NCHW fp32 network replaces it,
    /// but only once that reference has itself been confirmed against ONNX Runtime, whose CPU kernels (MLAS) share
    /// no code with oneDNN's; then <see cref="EngineReplaced"/> says so (once per engine and process).
    /// </summary>
    /// <param name="engine">The engine; <see cref="InferenceEngine.Plain"/> means the plain network channels-last.</param>
    /// <param name="network">The network; its mode and layout are restored afterwards (the caller switches it).</param>
    /// <returns>Null when the engine passed; otherwise its name, and the caller must run the NCHW fp32 network instead.</returns>
    /// <exception cref="HistoException">
    /// The engine is wrong and the NCHW fp32 network disagrees with ONNX Runtime: no path is known to be correct here.
    /// </exception>
    internal static string? ReplaceIfWrong(InferenceEngine engine, ResNet18Variant network)
    {
        EngineCheckResult result = CheckOnce(engine, network);
        if (result.Passed)
        {
            return null;
        }

        var c = CultureInfo.InvariantCulture;
        EngineCheckResult onnxRuntime = CheckOnce(InferenceEngine.OnnxRuntime, network);
        if (!onnxRuntime.Passed)
        {
            string engineClause = result.Engine == onnxRuntime.Engine
                ? ""
                : string.Create(c, $"{result.Engine} differs from the NCHW fp32 network by {result.MaxRelativeDifference:0.###} and ");
            throw new HistoException(string.Create(c,
                $"no inference engine is known to compute correct results on this CPU: {engineClause}the NCHW fp32 network differs from ONNX Runtime by {onnxRuntime.MaxRelativeDifference:0.###} (relative, tolerance {onnxRuntime.Tolerance}); 'histo doctor' shows the details, please report its output"));
        }

        if (Reported.TryAdd(result.Engine, 0))
        {
            EngineReplaced?.Invoke(string.Create(c,
                $"the {result.Engine} engine computes wrong features on this CPU (relative difference {result.MaxRelativeDifference:0.###} against NCHW fp32, which agrees with ONNX Runtime); running the NCHW fp32 network ({ReferenceName}) instead (slower); 'histo doctor' shows the details"));
        }

        return result.Engine;
    }

    /// <summary>
    /// Before the first training batch: checks the training network's channels-last fp32 forward (evaluation mode, on
    /// the fixed probe) against its NCHW fp32 forward, once per process (<see cref="ReplaceIfWrong"/>); when it is
    /// wrong, sets <paramref name="network"/> to NCHW (<see cref="ResNet18Variant.ChannelsLast"/> false).
    /// </summary>
    /// <param name="network">The network about to be trained.</param>
    /// <returns>The engine the network trains with.</returns>
    /// <exception cref="HistoException">No path is known to be correct on this CPU.</exception>
    public static EngineUsage PrepareForTraining(ResNet18Variant network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!network.ChannelsLast)
        {
            return new EngineUsage(ReferenceName);
        }

        if (ReplaceIfWrong(InferenceEngine.Plain, network) is { } replaced)
        {
            network.ChannelsLast = false;
            return new EngineUsage(ReferenceName, replaced);
        }

        return new EngineUsage(PlainChannelsLast);
    }

    private static readonly ConcurrentDictionary<string, byte> Reported = new(StringComparer.Ordinal);

    private const string PlainChannelsLast = "plain-channels-last-fp32";

    /// <summary>Compares every path of <paramref name="network"/> with its NCHW fp32 output on a fixed probe.</summary>
    /// <param name="network">The network; its mode and layout are restored afterwards.</param>
    /// <param name="inputSizePixels">Side of the square probe images.</param>
    /// <returns>One result per path.</returns>
    public static IReadOnlyList<EngineCheckResult> Run(ResNet18Variant network, int inputSizePixels = 96) =>
        Run(network, inputSizePixels, only: null);

    private static List<EngineCheckResult> Run(ResNet18Variant network, int inputSizePixels = 96, string? only = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSizePixels, 32);
        bool wasTraining = network.training;
        bool wasChannelsLast = network.ChannelsLast;
        network.eval();
        try
        {
            using DisposeScope scope = NewDisposeScope();
            using var noGrad = no_grad();
            Tensor probe = Probe(inputSizePixels);
            network.ChannelsLast = false;
            string[] faults = InjectedFaults();
            float[] reference = Values(ReferenceName, network.Features(probe), faults);
            var results = new List<EngineCheckResult>();
            double Compare(string name, Tensor features) => Difference(reference, Values(name, features, faults));
            bool Wanted(string name) => only is null || only == name;
            if (Wanted(PlainChannelsLast))
            {
                network.ChannelsLast = true;
                results.Add(new(PlainChannelsLast, Compare(PlainChannelsLast, network.Features(probe)), Fp32Tolerance));
            }

            foreach ((InferenceEngine engine, ScalarType type, double tolerance) in new[]
            {
                (InferenceEngine.Fused, ScalarType.Float32, Fp32Tolerance),
                (InferenceEngine.FusedBFloat16, ScalarType.BFloat16, BFloat16Tolerance),
            })
            {
                string name = NameOf(engine, channelsLast: true);
                if (Wanted(name))
                {
                    using FusedResNet18 fused = FusedResNet18.Create(network, type);
                    results.Add(new(name, Compare(name, fused.Features(probe)), tolerance));
                }
            }

            string onnxRuntime = NameOf(InferenceEngine.OnnxRuntime, channelsLast: true);
            if (Wanted(onnxRuntime))
            {
                using OnnxRuntimeResNet18 ort = OnnxRuntimeResNet18.Create(network);
                results.Add(new(onnxRuntime, Compare(onnxRuntime, ort.Features(probe)), Fp32Tolerance));
            }

            return results;
        }
        finally
        {
            network.ChannelsLast = wasChannelsLast;
            network.train(wasTraining);
        }
    }

    /// <summary>
    /// Whether this CPU lists CPUID leaf 0x8000001D (AMD cache topology) but answers it with zeros, as some VMs do
    /// (their kernel may still show <c>topoext</c> in /proc/cpuinfo); oneDNN 3.7.1 then takes every cache to be 1 byte
    /// and its channels-last 1 x 1 convolutions compute wrong results (Histo runs those in NCHW on every machine).
    /// </summary>
    public static bool HasEmptyCacheTopologyLeaf()
    {
        if (!X86Base.IsSupported)
        {
            return false;
        }

        (int maxExtended, _, _, _) = X86Base.CpuId(unchecked((int)0x80000000), 0);
        if ((uint)maxExtended < 0x8000001D)
        {
            return false;
        }

        (int eax, int ebx, int ecx, int edx) = X86Base.CpuId(unchecked((int)0x8000001D), 0);
        return eax == 0 && ebx == 0 && ecx == 0 && edx == 0;
    }

    /// <summary>A fixed, deterministic probe batch of two images in the network's preprocessed value range.</summary>
    private static Tensor Probe(int side)
    {
        var values = new float[2 * 3 * side * side];
        ulong state = 0x9E3779B97F4A7C15UL;
        for (int i = 0; i < values.Length; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            values[i] = (float)((z >> 40) / (double)(1UL << 24) * 255.0 - 120.0);
        }

        return tensor(values, [2, 3, side, side]);
    }

    /// <summary>
    /// For tests only: <c>HISTO_SELFCHECK_FAULT</c> lists engine names (<see cref="NameOf"/>, comma-separated;
    /// <see cref="ReferenceName"/> for the reference itself) whose probe features the self-check perturbs as if their
    /// kernels were wrong, so that tests drive the fallback and the refusal on machines where every engine is right.
    /// It changes only the self-check's verdict, never a prediction.
    /// </summary>
    public const string FaultVariable = "HISTO_SELFCHECK_FAULT";

    private static string[] InjectedFaults() =>
        Environment.GetEnvironmentVariable(FaultVariable)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];

    /// <summary>
    /// The features as floats; for an engine named in <see cref="FaultVariable"/>, the last 32 features of every image
    /// are shifted by the largest |feature|, the pattern of the oneDNN 1 x 1 fault (output channels 480-511 wrong).
    /// </summary>
    private static float[] Values(string engine, Tensor features, string[] faults)
    {
        float[] values = features.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        if (faults.Contains(engine, StringComparer.OrdinalIgnoreCase))
        {
            float shift = Math.Max(1f, values.Max(Math.Abs));
            int width = (int)features.shape[1];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] += i % width >= width - 32 ? shift : 0;
            }
        }

        return values;
    }

    private static double Difference(float[] reference, float[] values)
    {
        double scale = Math.Max(1e-6, reference.Max(Math.Abs));
        double diff = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs(values[i] - reference[i]));
        }

        return diff / scale;
    }
}
