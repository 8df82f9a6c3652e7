using System.Runtime.InteropServices;

namespace Histo.Learning;

/// <summary>
/// Keeps libtorch's warnings off stderr, as <c>Histo.Native.NativeDiagnostics</c> does for libtiff and OpenCV: the
/// library never prints, and on CPUs NNPACK does not support every model command would otherwise start with
/// <c>[W… NNPACK.cpp:56] Could not initialize NNPACK! Reason: Unsupported hardware.</c> (libtorch falls back to its
/// other convolutions by itself). c10's logging prints a message when its severity is at least
/// <c>FLAGS_caffe2_log_level</c> (0 info, 1 warning, 2 error); raising that to error drops the warnings, which
/// include every <c>TORCH_WARN</c>. Errors still surface as exceptions.
/// </summary>
public static class TorchDiagnostics
{
    /// <summary>c10's severity of errors.</summary>
    public const int ErrorSeverity = 2;

    private static readonly Lazy<bool> Quieted = new(Quiet);

    /// <summary>Raises libtorch's log threshold to errors (once per process); true when it could be set.</summary>
    public static bool QuietWarnings() => Quieted.Value;

    /// <summary>c10's current log threshold, or null when libc10 is not found.</summary>
    public static int? LogLevel() => Flag() is { } flag ? Marshal.ReadInt32(flag) : null;

    private static bool Quiet()
    {
        if (Flag() is not { } flag)
        {
            return false;
        }

        if (Marshal.ReadInt32(flag) < ErrorSeverity)
        {
            Marshal.WriteInt32(flag, ErrorSeverity);
        }

        return true;
    }

    /// <summary>The address of <c>FLAGS_caffe2_log_level</c> in the libc10 TorchSharp loaded.</summary>
    private static IntPtr? Flag()
    {
        // loads TorchSharp's native libraries (libtorch and with it libc10) if nothing has yet
        TorchSharp.torch.InitializeDeviceType(TorchSharp.DeviceType.CPU);
        return NativeLibrary.TryLoad("libc10.so", typeof(TorchSharp.torch).Assembly, DllImportSearchPath.AssemblyDirectory, out IntPtr c10)
               && NativeLibrary.TryGetExport(c10, "FLAGS_caffe2_log_level", out IntPtr flag)
            ? flag
            : null;
    }
}
