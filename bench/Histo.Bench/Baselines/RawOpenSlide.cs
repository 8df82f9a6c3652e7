using System.Runtime.InteropServices;

namespace Histo.Bench.Baselines;

/// <summary>
/// The "raw" region-read baseline: libopenslide called directly with a minimal DllImport of its own and no Histo
/// layer (no validation, no error latching, no conversion, no allocation per read: the caller reuses one buffer).
/// This is the floor a C# user calling OpenSlide by hand would reach.
/// </summary>
public sealed class RawOpenSlide : IDisposable
{
    private const string Library = "libopenslide.so.0";
    private IntPtr _osr;

    /// <summary>Opens a slide; throws when OpenSlide cannot.</summary>
    public RawOpenSlide(string path)
    {
        _osr = openslide_open(path);
        if (_osr == IntPtr.Zero)
        {
            throw new InvalidOperationException($"{path}: OpenSlide cannot open it");
        }

        string? error = Error;
        if (error != null)
        {
            openslide_close(_osr);
            _osr = IntPtr.Zero;
            throw new InvalidOperationException($"{path}: {error}");
        }
    }

    /// <summary>libopenslide's version string.</summary>
    public static string LibraryVersion => Marshal.PtrToStringUTF8(openslide_get_version()) ?? "unknown";

    /// <summary>The latched OpenSlide error, if any.</summary>
    public string? Error => Marshal.PtrToStringUTF8(openslide_get_error(_osr));

    /// <summary>Level-0 size.</summary>
    public (long Width, long Height) Size
    {
        get
        {
            openslide_get_level0_dimensions(_osr, out long w, out long h);
            return (w, h);
        }
    }

    /// <summary>Reads premultiplied ARGB pixels into <paramref name="dest"/> (at least width x height long).</summary>
    public unsafe void ReadRegion(uint[] dest, long x, long y, int level, int width, int height)
    {
        fixed (uint* p = dest)
        {
            openslide_read_region(_osr, p, x, y, level, width, height);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_osr != IntPtr.Zero)
        {
            openslide_close(_osr);
            _osr = IntPtr.Zero;
        }
    }

    [DllImport(Library)]
    private static extern IntPtr openslide_open([MarshalAs(UnmanagedType.LPUTF8Str)] string filename);

    [DllImport(Library)]
    private static extern void openslide_close(IntPtr osr);

    [DllImport(Library)]
    private static extern IntPtr openslide_get_error(IntPtr osr);

    [DllImport(Library)]
    private static extern IntPtr openslide_get_version();

    [DllImport(Library)]
    private static extern void openslide_get_level0_dimensions(IntPtr osr, out long w, out long h);

    [DllImport(Library)]
    private static extern unsafe void openslide_read_region(IntPtr osr, uint* dest, long x, long y, int level, long w, long h);
}
