using System.Runtime.InteropServices;

namespace Histo.Native;

/// <summary>The one place that declares libopenslide's functions (OpenSlide 3.4.1 C API).</summary>
internal static partial class OpenSlideNative
{
    private const string Library = "libopenslide.so.0";

    [LibraryImport(Library, EntryPoint = "openslide_detect_vendor", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr DetectVendor(string filename);

    [LibraryImport(Library, EntryPoint = "openslide_open", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial OpenSlideHandle Open(string filename);

    [LibraryImport(Library, EntryPoint = "openslide_close")]
    internal static partial void Close(IntPtr osr);

    [LibraryImport(Library, EntryPoint = "openslide_get_error")]
    internal static partial IntPtr GetError(OpenSlideHandle osr);

    [LibraryImport(Library, EntryPoint = "openslide_get_level_count")]
    internal static partial int GetLevelCount(OpenSlideHandle osr);

    [LibraryImport(Library, EntryPoint = "openslide_get_level_dimensions")]
    internal static partial void GetLevelDimensions(OpenSlideHandle osr, int level, out long w, out long h);

    [LibraryImport(Library, EntryPoint = "openslide_get_level_downsample")]
    internal static partial double GetLevelDownsample(OpenSlideHandle osr, int level);

    [LibraryImport(Library, EntryPoint = "openslide_read_region")]
    internal static unsafe partial void ReadRegion(OpenSlideHandle osr, uint* dest, long x, long y, int level, long w, long h);

    [LibraryImport(Library, EntryPoint = "openslide_get_property_names")]
    internal static partial IntPtr GetPropertyNames(OpenSlideHandle osr);

    [LibraryImport(Library, EntryPoint = "openslide_get_property_value", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr GetPropertyValue(OpenSlideHandle osr, string name);

    [LibraryImport(Library, EntryPoint = "openslide_get_associated_image_names")]
    internal static partial IntPtr GetAssociatedImageNames(OpenSlideHandle osr);

    [LibraryImport(Library, EntryPoint = "openslide_get_associated_image_dimensions", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void GetAssociatedImageDimensions(OpenSlideHandle osr, string name, out long w, out long h);

    [LibraryImport(Library, EntryPoint = "openslide_read_associated_image", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial void ReadAssociatedImage(OpenSlideHandle osr, string name, uint* dest);

    [LibraryImport(Library, EntryPoint = "openslide_get_version")]
    internal static partial IntPtr GetVersion();

    /// <summary>Reads a NULL-terminated array of UTF-8 strings owned by the library.</summary>
    internal static List<string> ReadStringArray(IntPtr array)
    {
        var result = new List<string>();
        if (array == IntPtr.Zero)
        {
            return result;
        }

        for (int i = 0; ; i++)
        {
            IntPtr item = Marshal.ReadIntPtr(array, i * IntPtr.Size);
            if (item == IntPtr.Zero)
            {
                return result;
            }

            result.Add(Marshal.PtrToStringUTF8(item) ?? string.Empty);
        }
    }
}

/// <summary>An <c>openslide_t*</c>, closed exactly once.</summary>
internal sealed class OpenSlideHandle : SafeHandle
{
    public OpenSlideHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        OpenSlideNative.Close(handle);
        return true;
    }
}
