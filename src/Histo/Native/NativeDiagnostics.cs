using System.Runtime.InteropServices;
using OpenCvSharp;

namespace Histo.Native;

/// <summary>
/// Keeps the native libraries from printing. The library never writes to the console, but libtiff (under OpenSlide)
/// prints every warning and error to stderr with its default handlers, and OpenCV logs decoder failures there; a
/// corrupt file would then put several lines before the CLI's one <c>error:</c> line. Their failures still surface as
/// typed exceptions: OpenSlide's latched error, and an empty or failed decode from OpenCV.
/// </summary>
internal static partial class NativeDiagnostics
{
    private static readonly Lazy<bool> OpenCvQuiet = new(() =>
    {
        Cv2.SetLogLevel(LogLevel.SILENT);
        return true;
    });

    /// <summary>Silences OpenCV's logging (once per process); call before the first OpenCV decode.</summary>
    public static void QuietOpenCv() => _ = OpenCvQuiet.Value;

    /// <summary>Drops libtiff's default stderr handlers (the system libtiff OpenSlide uses); OpenSlide reports errors itself.</summary>
    public static void QuietLibTiff()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libtiff.so.6", out IntPtr tiff))
        {
            return;
        }

        foreach (string name in new[] { "TIFFSetErrorHandler", "TIFFSetWarningHandler" })
        {
            if (NativeLibrary.TryGetExport(tiff, name, out IntPtr setter))
            {
                SetHandler(setter, IntPtr.Zero);
            }
        }
    }

    private static unsafe void SetHandler(IntPtr setter, IntPtr handler) =>
        ((delegate* unmanaged<IntPtr, IntPtr>)setter)(handler);
}
