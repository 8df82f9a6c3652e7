using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Histo.Native;

/// <summary>
/// Keeps OpenCV's bundled image codecs and the system codecs OpenSlide uses from calling into each other.
/// <para>
/// libOpenCvSharpExtern.so carries its own copies of libjpeg, libtiff, libpng, openjpeg, libwebp, zstd and lzma and
/// exports their symbols. When it is loaded first, the system libjpeg.so.62 (pulled in as a dependency of the same
/// load) resolves its own internal calls to OpenCV's copies, and OpenSlide then crashes inside <c>jpeg_read_header</c>
/// → OpenCV's <c>jpeg_abort</c> (seen as a test-host crash when IDC patches are decoded while JPEG slides are read).
/// Loading OpenSlide with RTLD_NOW before OpenCV is first used binds every symbol of its dependency tree (libjpeg,
/// libtiff, libpng, openjpeg...) at once, within that tree, to the system libraries; OpenCV, loaded later, still
/// resolves its own calls to its own copies first. Neither library is made global: making the system codecs global
/// instead sends OpenCV's bundled codecs into the system ones' internals, which corrupts the heap.
/// </para>
/// </summary>
internal static partial class NativeLoadOrder
{
    private const int RtldNow = 0x002;
    private static int _done;

    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "Must run before any OpenCV call in the process; see the type's remarks.")]
    [ModuleInitializer]
    internal static void Initialize() => Ensure();

    /// <summary>Loads and binds OpenSlide and its codec libraries, once; does nothing where OpenSlide is missing.</summary>
    internal static void Ensure()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _done, 1) == 1)
        {
            return;
        }

        try
        {
            DlOpen("libopenslide.so.0", RtldNow);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No dlopen to call: nothing to order.
        }
    }

    [LibraryImport("libc", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DlOpen(string file, int flags);
}
