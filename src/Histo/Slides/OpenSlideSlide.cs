using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
    public static string? DetectVendor(string path) => !IO.InputFile.IsRegular(path) ? null : Marshal.PtrToStringUTF8(OpenSlideNative.DetectVendor(path));

    /// <summary>Opens a file OpenSlide recognises; throws <see cref="SlideOpenException"/> otherwise.</summary>
    public static OpenSlideSlide OpenFile(string path)
    {
        if (IO.InputFile.Problem(path) is { } problem)
        {
            throw new SlideOpenException(path, problem);
        }

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

        // OpenSlide writes premultiplied ARGB straight into the image's own buffer, converted in place: one
        // allocation, no second full-size copy.
        byte[] pixels = GC.AllocateUninitializedArray<byte>(checked((int)(w * h * RgbaImage.Channels)));
        fixed (byte* dest = pixels)
        {
            OpenSlideNative.ReadAssociatedImage(_handle, name, (uint*)dest);
        }

        CheckError();
        PremultipliedArgbToRgbaInPlace(pixels);
        return new RgbaImage((int)w, (int)h, pixels);
    }

    /// <inheritdoc />
    protected override RgbaImage ReadRegionCore(long level0X, long level0Y, int levelIndex, int width, int height)
    {
        ThrowIfLatched();

        // The hot path of every patch read. OpenSlide fills every pixel of the destination (transparent outside the
        // slide), so the buffer need not be zeroed; it is the returned image's own buffer, converted in place.
        var image = new RgbaImage(width, height, GC.AllocateUninitializedArray<byte>(width * height * RgbaImage.Channels));
        ReadInto(level0X, level0Y, levelIndex, image);
        return image;
    }

    /// <inheritdoc />
    protected override void ReadRegionCore(long level0X, long level0Y, int levelIndex, RgbaImage destination)
    {
        ThrowIfLatched();
        ReadInto(level0X, level0Y, levelIndex, destination);
    }

    private unsafe void ReadInto(long level0X, long level0Y, int levelIndex, RgbaImage destination)
    {
        fixed (byte* dest = destination.Pixels)
        {
            OpenSlideNative.ReadRegion(_handle, (uint*)dest, level0X, level0Y, levelIndex, destination.Width, destination.Height);
        }

        CheckError();
        PremultipliedArgbToRgbaInPlace(destination.Pixels);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }
    }

    /// <summary>
    /// Converts OpenSlide's premultiplied native-endian ARGB (one uint32 per pixel) to straight RGBA bytes in place.
    /// Opaque pixels (nearly all of a slide) only swap R and B, eight or sixteen at a time; a block with any
    /// non-opaque pixel goes through the scalar path, which un-premultiplies (c x 255 / a, clamped) and leaves
    /// fully transparent pixels as transparent black.
    /// </summary>
    internal static void PremultipliedArgbToRgbaInPlace(Span<byte> pixels)
    {
        if (pixels.Length % RgbaImage.Channels != 0)
        {
            throw new ArgumentException($"pixel buffer length {pixels.Length} is not a multiple of 4", nameof(pixels));
        }

        Span<uint> words = MemoryMarshal.Cast<byte, uint>(pixels);
        if (!BitConverter.IsLittleEndian)
        {
            ConvertScalar(words);
            return;
        }

        // Little-endian: the uint 0xAARRGGBB is stored as bytes B G R A; RGBA bytes are the uint 0xAABBGGRR.
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var alpha = Vector512.Create(0xFF000000u);
            var keep = Vector512.Create(0xFF00FF00u);
            var low = Vector512.Create(0xFFu);
            for (; i <= words.Length - Vector512<uint>.Count; i += Vector512<uint>.Count)
            {
                var p = Vector512.LoadUnsafe(ref words[i]);
                if (Vector512.EqualsAll(p & alpha, alpha))
                {
                    ((p & keep) | ((p >> 16) & low) | ((p & low) << 16)).StoreUnsafe(ref words[i]);
                }
                else
                {
                    ConvertScalar(words.Slice(i, Vector512<uint>.Count));
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var alpha = Vector256.Create(0xFF000000u);
            var keep = Vector256.Create(0xFF00FF00u);
            var low = Vector256.Create(0xFFu);
            for (; i <= words.Length - Vector256<uint>.Count; i += Vector256<uint>.Count)
            {
                var p = Vector256.LoadUnsafe(ref words[i]);
                if (Vector256.EqualsAll(p & alpha, alpha))
                {
                    ((p & keep) | ((p >> 16) & low) | ((p & low) << 16)).StoreUnsafe(ref words[i]);
                }
                else
                {
                    ConvertScalar(words.Slice(i, Vector256<uint>.Count));
                }
            }
        }

        ConvertScalar(words[i..]);
    }

    /// <summary>The per-pixel conversion, for any byte order (writes bytes, not words).</summary>
    private static void ConvertScalar(Span<uint> words)
    {
        Span<byte> bytes = MemoryMarshal.AsBytes(words);
        for (int i = 0, j = 0; i < words.Length; i++, j += 4)
        {
            uint p = words[i];
            uint a = p >> 24;
            if (a == 255)
            {
                bytes[j] = (byte)(p >> 16);
                bytes[j + 1] = (byte)(p >> 8);
                bytes[j + 2] = (byte)p;
                bytes[j + 3] = 255;
            }
            else if (a == 0)
            {
                words[i] = 0;
            }
            else
            {
                bytes[j] = (byte)Math.Min(255, ((p >> 16) & 0xFF) * 255 / a);
                bytes[j + 1] = (byte)Math.Min(255, ((p >> 8) & 0xFF) * 255 / a);
                bytes[j + 2] = (byte)Math.Min(255, (p & 0xFF) * 255 / a);
                bytes[j + 3] = (byte)a;
            }
        }
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
