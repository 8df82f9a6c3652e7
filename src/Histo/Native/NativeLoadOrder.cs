using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Histo.Native;

/// <summary>
/// Loads libopenslide (and with it the system libjpeg, libtiff, libpng and libopenjp2) before OpenCV's native library.
/// libOpenCvSharpExtern.so carries its own copies of libjpeg and libtiff with the same exported symbol versions and
/// pulls the system libjpeg in through GTK's gdk-pixbuf; when it is loaded first, the system libjpeg binds its internal
/// calls to OpenCV's copies and OpenSlide's next JPEG tile decode crashes the process (SIGSEGV in jpeg_abort). Loading
/// OpenSlide's libraries first lets them bind to themselves. A missing libopenslide is not an error here (reported
/// when a slide is opened).
/// </summary>
internal static class NativeLoadOrder
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The load order of two native libraries must be fixed before any Histo code touches OpenCV.")]
    internal static void LoadOpenSlideFirst()
    {
        if (OperatingSystem.IsLinux())
        {
            NativeLibrary.TryLoad("libopenslide.so.0", out _);
            NativeDiagnostics.QuietLibTiff();
        }
    }
}
