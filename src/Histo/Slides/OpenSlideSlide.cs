using System.Globalization;
using System.Runtime.InteropServices;
using Histo.Imaging;
using Histo.Native;

namespace Histo.Slides;

/// <summary>
/// A whole-slide image read through libopenslide. Every native call is followed by an
/// <c>openslide_get_error</c> check; OpenSlide errors latch, so after one failure every later call fails with the
/// same message (see <see cref="Slide.LatchedError"/>). Reads from several threads are safe (OpenSlide handles are).
/// </summary>
public sealed class OpenSlideSlide : Slide
{
    private readonly OpenSlideHandle _handle;
    private readonly SlideLevel[] _levels;
    private readonly Dictionary<string, string> _properties;
    private readonly List<string> _associated;
    private volatile string? _latchedError;

    private OpenSlideSlide(string path, OpenSlideHandle handle)
    {
        Path = path;
        _handle = handle;
        CheckError();
        int count = OpenSlideNative.GetLevelCount(handle);
        CheckError();
        if (count < 1)
        {
            throw new SlideReadException($"{path}: OpenSlide reports no levels");
        }

        _levels = new SlideLevel[count];
        for (int i = 0; i < count; i++)
        {
            OpenSlideNative.GetLevelDimensions(handle, i, out long w, out long h);
            double ds = OpenSlideNative.GetLevelDownsample(handle, i);
            CheckError();
            if (w <= 0 || h <= 0 || !(ds >= 1.0 - 1e-9))
            {
                throw new SlideReadException($"{path}: level {i} has invalid geometry {w}x{h} downsample {ds}");
            }

            _levels[i] = new SlideLevel(w, h, ds);
        }

        _properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in OpenSlideNative.ReadStringArray(OpenSlideNative.GetPropertyNames(handle)))
        {
            _properties[name] = Marshal.PtrToStringUTF8(OpenSlideNative.GetPropertyValue(handle, name)) ?? string.Empty;
        }

        CheckError();
        _associated = OpenSlideNative.ReadStringArray(OpenSlideNative.GetAssociatedImageNames(handle));
        CheckError();
        (MppX, MppY, MppSource) = ResolveMpp(_properties);
    }

    /// <summary>The version string of the loaded libopenslide.</summary>
    public static string LibraryVersion => Marshal.PtrToStringUTF8(OpenSlideNative.GetVersion()) ?? "unknown";

    /// <summary>The vendor OpenSlide detects for a file, or null when OpenSlide does not recognise it.</summary>
    public static string? DetectVendor(string path) => Marshal.PtrToStringUTF8(OpenSlideNative.DetectVendor(path));

    /// <summary>Opens a file OpenSlide recognises; throws <see cref="SlideOpenException"/> otherwise.</summary>
    public static OpenSlideSlide OpenFile(string path)
    {
        var handle = OpenSlideNative.Open(path);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new SlideOpenException(path, $"{path}: not a file that OpenSlide can recognize");
        }

        try
        {
            return new OpenSlideSlide(path, handle);
        }
        catch (SlideReadException e)
        {
            handle.Dispose();
            throw new SlideOpenException(path, $"{path}: cannot open slide ({StripPath(e.Message, path)})", e);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public override string Path { get; }

    /// <inheritdoc />
    public override IReadOnlyList<SlideLevel> Levels => _levels;

    /// <inheritdoc />
    public override double? MppX { get; }

    /// <inheritdoc />
    public override double? MppY { get; }

    /// <inheritdoc />
    public override MppSource MppSource { get; }

    /// <inheritdoc />
    public override string Vendor => _properties.TryGetValue("openslide.vendor", out var v) ? v : "unknown";

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Properties => _properties;

    /// <inheritdoc />
    public override IReadOnlyList<string> AssociatedImageNames => _associated;

    /// <inheritdoc />
    public override string? LatchedError => _latchedError;

    /// <inheritdoc />
    public override unsafe RgbaImage ReadAssociatedImage(string name)
    {
        if (!_associated.Contains(name))
        {
            throw new SlideReadException($"{Path}: no associated image named '{name}' (has: {string.Join(", ", _associated)})");
        }

        ThrowIfLatched();
        OpenSlideNative.GetAssociatedImageDimensions(_handle, name, out long w, out long h);
        CheckError();
        if (w <= 0 || h <= 0 || w * h > MaxRegionPixels)
        {
            throw new SlideReadException($"{Path}: associated image '{name}' has invalid size {w}x{h}");
        }

        var argb = new uint[w * h];
        fixed (uint* dest = argb)
        {
            OpenSlideNative.ReadAssociatedImage(_handle, name, dest);
        }

        CheckError();
        return PremultipliedArgbToRgba(argb, (int)w, (int)h);
    }

    /// <inheritdoc />
    protected override unsafe RgbaImage ReadRegionCore(long level0X, long level0Y, int levelIndex, int width, int height)
    {
        ThrowIfLatched();
        var argb = new uint[(long)width * height];
        fixed (uint* dest = argb)
        {
            OpenSlideNative.ReadRegion(_handle, dest, level0X, level0Y, levelIndex, width, height);
        }

        CheckError();
        return PremultipliedArgbToRgba(argb, width, height);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }
    }

    /// <summary>Converts OpenSlide's premultiplied native-endian ARGB to straight RGBA.</summary>
    internal static RgbaImage PremultipliedArgbToRgba(ReadOnlySpan<uint> argb, int width, int height)
    {
        var image = new RgbaImage(width, height);
        var dst = image.Pixels.AsSpan();
        for (int i = 0, j = 0; i < argb.Length; i++, j += 4)
        {
            uint p = argb[i];
            uint a = p >> 24;
            if (a == 255)
            {
                dst[j] = (byte)(p >> 16);
                dst[j + 1] = (byte)(p >> 8);
                dst[j + 2] = (byte)p;
                dst[j + 3] = 255;
            }
            else if (a != 0)
            {
                dst[j] = (byte)Math.Min(255, ((p >> 16) & 0xFF) * 255 / a);
                dst[j + 1] = (byte)Math.Min(255, ((p >> 8) & 0xFF) * 255 / a);
                dst[j + 2] = (byte)Math.Min(255, (p & 0xFF) * 255 / a);
                dst[j + 3] = (byte)a;
            }
        }

        return image;
    }

    private static (double?, double?, MppSource) ResolveMpp(IReadOnlyDictionary<string, string> props)
    {
        double? x = ParsePositive(props, "openslide.mpp-x");
        double? y = ParsePositive(props, "openslide.mpp-y");
        if (x is >= MinPlausibleMpp and <= MaxPlausibleMpp && y is >= MinPlausibleMpp and <= MaxPlausibleMpp)
        {
            return (x, y, MppSource.Vendor);
        }

        int? unit = props.TryGetValue("tiff.ResolutionUnit", out var u) ? u.Trim().ToLowerInvariant() switch
        {
            "centimeter" or "3" => 3,
            "inch" or "2" => 2,
            _ => null,
        } : null;
        double? tx = Slide.MppFromTiffResolution(ParsePositive(props, "tiff.XResolution"), unit);
        double? ty = Slide.MppFromTiffResolution(ParsePositive(props, "tiff.YResolution"), unit);
        return tx != null && ty != null ? (tx, ty, MppSource.TiffResolution) : (null, null, MppSource.None);
    }

    private static double? ParsePositive(IReadOnlyDictionary<string, string> props, string key) =>
        props.TryGetValue(key, out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v) ? v : null;

    private void ThrowIfLatched()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        if (_latchedError is { } error)
        {
            throw new SlideReadException($"{Path}: {error} (OpenSlide errors are permanent for an open slide; reopen it)");
        }
    }

    private void CheckError()
    {
        IntPtr error = OpenSlideNative.GetError(_handle);
        if (error != IntPtr.Zero)
        {
            string message = Marshal.PtrToStringUTF8(error) ?? "unknown OpenSlide error";
            _latchedError ??= message;
            throw new SlideReadException($"{Path}: {StripPath(message, Path)}");
        }
    }

    private static string StripPath(string message, string path) => message.Replace(path + ": ", string.Empty, StringComparison.Ordinal);
}
