using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Histo.Native;

/// <summary>
/// Loads libopenslide before anything can load OpenCV. libOpenCvSharpExtern carries its own libjpeg and exports
/// its <c>jpeg_*</c> symbols, and through GTK it also pulls in the system libjpeg.so.62 that OpenSlide uses. When
/// OpenCV is loaded first, libjpeg.so.62 joins OpenCV's symbol scope, its internal calls (jpeg_read_header →
/// jpeg_abort) bind to OpenCV's incompatible copy, and the first JPEG tile OpenSlide decodes crashes the process
/// (SIGSEGV in jpeg_abort). Loaded first, libjpeg.so.62 resolves within OpenSlide's scope and both copies work.
/// </summary>
internal static class NativeLoadOrder
{
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "must run before any OpenCV call of this assembly")]
    internal static void LoadOpenSlideFirst()
    {
        if (OperatingSystem.IsLinux())
        {
            // Absent OpenSlide is reported where a slide is opened; here it is simply skipped.
            NativeLibrary.TryLoad("libopenslide.so.0", out _);
        }
    }
}
