using static TorchSharp.torch;

namespace Histo.Learning.Training;

/// <summary>
/// The one place that chooses where tensors live. Only the CPU is built and tested here (no CUDA libtorch for Linux
/// is reachable); a build that references a CUDA libtorch changes this seam and nothing else.
/// </summary>
internal static class TrainingDevice
{
    /// <summary>The device networks and batches are moved to.</summary>
    public static Device Current => CPU;

    /// <summary>Human-readable device name for the model card.</summary>
    public static string Name => "cpu";
}
