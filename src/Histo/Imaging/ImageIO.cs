using Histo.IO;
using OpenCvSharp;

namespace Histo.Imaging;

/// <summary>
/// Decoding and encoding of ordinary image files (PNG, JPEG, TIFF, BMP) through OpenCV. Their extensions are
/// <see cref="Slides.SlideFormats.ImageExtensions"/>; a file is told to be one by <see cref="ImageSignature"/>.
/// </summary>
public static class ImageIO
{
    /// <summary>
    /// Largest image that is decoded, in pixels (the same bound as one slide region read, 1 GiB of RGBA). A header
    /// declaring more is refused before anything is allocated: a corrupt size field or a decompression bomb.
    /// </summary>
    public const long MaxDecodedPixels = Slides.Slide.MaxRegionPixels;

    /// <summary>
    /// Largest image file that is read, in bytes: more than an uncompressed image of <see cref="MaxDecodedPixels"/>
    /// pixels needs. A larger file is refused before it is read.
    /// </summary>
    public const long MaxEncodedBytes = MaxDecodedPixels * 4 + (64L << 20);

    /// <summary>Decodes an image file to RGBA. Grey, 16-bit and palette images are converted to 8-bit RGBA.</summary>
    /// <exception cref="ImageFormatException">Missing, not a regular file, too large, not an image, or corrupt.</exception>
    public static RgbaImage Load(string path) => Decode(ReadEncoded(path), path);

    /// <summary>
    /// The bytes of an image file: only a regular file of at most <see cref="MaxEncodedBytes"/> whose first bytes are
    /// a PNG, JPEG, TIFF or BMP signature is read whole, so that a FIFO, a device or a large file of anything else
    /// costs nothing.
    /// </summary>
    internal static byte[] ReadEncoded(string path)
    {
        try
        {
            if (InputFile.KindOf(path) == InputFileKind.Directory)
            {
                throw new ImageFormatException($"{path} is a directory, not an image");
            }

            using (var head = InputFile.OpenRead(path, MaxEncodedBytes, "an image file"))
            {
                Span<byte> signature = stackalloc byte[ImageSignature.HeadBytes];
                int read = head.ReadAtLeast(signature, signature.Length, throwOnEndOfStream: false);
                if (read == 0)
                {
                    throw new ImageFormatException($"{path}: empty file");
                }

                if (ImageSignature.Detect(signature[..read]) is null)
                {
                    throw new ImageFormatException($"{path}: not a readable image (its first bytes are not PNG, JPEG, TIFF or BMP)");
                }
            }

            return InputFile.ReadAllBytes(path, MaxEncodedBytes, "an image file");
        }
        catch (InputFileException e)
        {
            throw new ImageFormatException(e.Message, e);
        }
    }

    /// <summary>Decodes encoded image bytes to RGBA; <paramref name="name"/> is used in error messages.</summary>
    public static RgbaImage Decode(byte[] bytes, string name = "image")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length == 0)
        {
            throw new ImageFormatException($"{name}: empty file");
        }

        CheckDeclaredSize(bytes, name);
        using var decoded = DecodeUnchanged(bytes, name);
        return FromDecoded(decoded);
    }

    /// <summary>Decodes encoded image bytes as they are stored (channels and depth unchanged); never an empty Mat.</summary>
    private static Mat DecodeUnchanged(byte[] bytes, string name)
    {
        Mat decoded;
        Native.NativeDiagnostics.QuietOpenCv();
        try
        {
            decoded = Cv2.ImDecode(bytes, ImreadModes.Unchanged);
        }
        catch (OpenCVException e)
        {
            throw new ImageFormatException($"{name}: not a readable image ({e.Message.Split('\n')[0]})", e);
        }

        if (decoded.Empty())
        {
            decoded.Dispose();
            throw new ImageFormatException($"{name}: not a readable image (unsupported, truncated or corrupt)");
        }

        return decoded;
    }

    /// <summary>Encodes and writes an image atomically; the format follows the extension (.png, .jpg, .tif).</summary>
    public static void Save(string path, RgbaImage image, int jpegQuality = 90)
    {
        AtomicFile.WriteAllBytes(path, Encode(image, Path.GetExtension(path), jpegQuality));
    }

    /// <summary>
    /// Writes an image atomically as a TIFF whose resolution tags record <paramref name="mppMicrons"/> (pixels per
    /// centimetre, rounded to an integer by the encoder: under 0.01 % off at microscopy scales), so that
    /// <c>ImageFileResolution.TryReadMpp</c> and <c>histo train</c> read the scale back.
    /// </summary>
    public static void SaveTiff(string path, RgbaImage image, double mppMicrons)
    {
        if (!(mppMicrons > 0) || !double.IsFinite(mppMicrons))
        {
            throw new ArgumentOutOfRangeException(nameof(mppMicrons), mppMicrons, "µm/px must be positive");
        }

        int pixelsPerCentimetre = (int)Math.Round(10_000 / mppMicrons);
        AtomicFile.WriteAllBytes(path, Encode(image, ".tif", prms:
        [
            new ImageEncodingParam(ImwriteFlags.TiffResUnit, 3),
            new ImageEncodingParam(ImwriteFlags.TiffXDpi, pixelsPerCentimetre),
            new ImageEncodingParam(ImwriteFlags.TiffYDpi, pixelsPerCentimetre),
        ]));
    }

    /// <summary>Encodes an image in the format named by <paramref name="extension"/> (".png", ".jpg", ...).</summary>
    public static byte[] Encode(RgbaImage image, string extension, int jpegQuality = 90) =>
        Encode(image, extension, jpegQuality, prms: null);

    private static byte[] Encode(RgbaImage image, string extension, int jpegQuality = 90, ImageEncodingParam[]? prms = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        string ext = extension.ToLowerInvariant();
        bool jpeg = ext is ".jpg" or ".jpeg";
        if (!Slides.SlideFormats.ImageExtensions.Contains(ext))
        {
            throw new ImageFormatException($"cannot write images with extension '{extension}' (use .png, .jpg or .tif)");
        }

        bool opaque = IsOpaque(image);
        using var mat = jpeg || opaque ? MatRows.ToBgr(image) : MatRows.ToBgra(image);
        prms ??= jpeg ? [new ImageEncodingParam(ImwriteFlags.JpegQuality, jpegQuality)] : [];
        Cv2.ImEncode(ext, mat, out byte[] buffer, prms);
        return buffer;
    }

    /// <summary>Writes a single-channel 8-bit image (mask or label map) as PNG, atomically.</summary>
    public static void SaveGray(string path, byte[] pixels, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        using var mat = MatRows.WrapGray(pixels, width, height);
        Cv2.ImEncode(Path.GetExtension(path), mat, out byte[] buffer);
        AtomicFile.WriteAllBytes(path, buffer);
    }

    /// <summary>
    /// Writes an 8-bit label map as a palette PNG, atomically: the pixel values stay <paramref name="pixels"/> (what
    /// <see cref="LoadGray"/> reads back) and <paramref name="palette"/> (256 colours, value i in colour i) is what an
    /// image viewer shows.
    /// </summary>
    public static void SaveIndexed(string path, byte[] pixels, int width, int height, IReadOnlyList<(byte R, byte G, byte B)> palette)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        AtomicFile.WriteAllBytes(path, IndexedPng.Encode(pixels, width, height, palette));
    }

    /// <summary>
    /// Reads a single-channel 8-bit image (mask or label map): a grey image's values, or a palette PNG's indices
    /// (as <see cref="SaveIndexed"/> writes them). Colour images are rejected.
    /// </summary>
    public static (byte[] Pixels, int Width, int Height) LoadGray(string path)
    {
        byte[] bytes = ReadEncoded(path);
        CheckDeclaredSize(bytes, path);
        if (IndexedPng.IsIndexed(bytes))
        {
            var (indices, width, height, _) = IndexedPng.Decode(bytes, path);
            return (indices, width, height);
        }

        using var mat = DecodeUnchanged(bytes, path);
        if (mat.Channels() != 1 || mat.Depth() != MatType.CV_8U)
        {
            throw new ImageFormatException($"{path}: expected an 8-bit single-channel (grey) image, got {mat.Channels()} channel(s)");
        }

        return (MatRows.ToBytes(mat), mat.Cols, mat.Rows);
    }

    /// <summary>
    /// Decodes encoded image bytes to 8-bit grey, <paramref name="reduction"/> (1, 2, 4 or 8) times smaller on each side
    /// where the codec can decode at reduced resolution (JPEG); 16-bit images are scaled to 8 bits. An undecodable
    /// image gives an empty Mat or an <see cref="OpenCVException"/>; the caller owns the Mat.
    /// </summary>
    internal static Mat DecodeGrey(byte[] bytes, int reduction)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var mode = reduction switch
        {
            1 => ImreadModes.Grayscale,
            2 => ImreadModes.ReducedGrayscale2,
            4 => ImreadModes.ReducedGrayscale4,
            8 => ImreadModes.ReducedGrayscale8,
            _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "the reduction is 1, 2, 4 or 8"),
        };
        Native.NativeDiagnostics.QuietOpenCv();
        var grey = Cv2.ImDecode(bytes, mode);
        if (grey.Empty() || grey.Depth() == MatType.CV_8U)
        {
            return grey;
        }

        var eight = new Mat();
        grey.ConvertTo(eight, MatType.CV_8U, grey.Depth() == MatType.CV_16U ? 1.0 / 257.0 : 1.0);
        grey.Dispose();
        return eight;
    }

    /// <summary>Throws when the image header declares more than <see cref="MaxDecodedPixels"/> pixels.</summary>
    internal static void CheckDeclaredSize(byte[] encoded, string name)
    {
        if (ImageSizeReader.TryReadHeaderSize(encoded, out int width, out int height) && TooLarge(width, height) is { } problem)
        {
            throw new ImageFormatException($"{name}: {problem}");
        }
    }

    /// <summary>Why an image of the declared size is not decoded, or null when the size is fine.</summary>
    internal static string? TooLarge(int width, int height) => (long)width * height > MaxDecodedPixels
        ? $"declares {width} x {height} pixels, more than the {MaxDecodedPixels} an image may have (corrupt header or decompression bomb)"
        : null;

    /// <summary>True when every alpha value is 255.</summary>
    public static bool IsOpaque(RgbaImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var p = image.Pixels;
        for (int i = 3; i < p.Length; i += 4)
        {
            if (p[i] != 255)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A decoded image of any common type (grey, BGR, BGRA; 8- or 16-bit) as RGBA.</summary>
    private static RgbaImage FromDecoded(Mat mat)
    {
        ArgumentNullException.ThrowIfNull(mat);
        using var eight = new Mat();
        if (mat.Depth() == MatType.CV_16U)
        {
            mat.ConvertTo(eight, MatType.CV_8U, 1.0 / 257.0);
        }
        else if (mat.Depth() == MatType.CV_8U)
        {
            mat.CopyTo(eight);
        }
        else
        {
            mat.ConvertTo(eight, MatType.CV_8U);
        }

        using var rgba = new Mat();
        switch (eight.Channels())
        {
            case 1: Cv2.CvtColor(eight, rgba, ColorConversionCodes.GRAY2RGBA); break;
            case 3: Cv2.CvtColor(eight, rgba, ColorConversionCodes.BGR2RGBA); break;
            case 4: Cv2.CvtColor(eight, rgba, ColorConversionCodes.BGRA2RGBA); break;
            default: throw new ImageFormatException($"unsupported image with {eight.Channels()} channels");
        }

        return MatRows.ToImage(rgba);
    }

    /// <summary>Resizes with area averaging when shrinking and bilinear interpolation when enlarging.</summary>
    public static RgbaImage Resize(RgbaImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (width == image.Width && height == image.Height)
        {
            return new RgbaImage(width, height, (byte[])image.Pixels.Clone());
        }

        using var src = MatRows.WrapRgba(image);
        using var dst = new Mat();
        var interpolation = width < image.Width || height < image.Height ? InterpolationFlags.Area : InterpolationFlags.Linear;
        Cv2.Resize(src, dst, new Size(width, height), 0, 0, interpolation);
        return MatRows.ToImage(dst);
    }

    /// <summary>
    /// The region (<paramref name="x"/>, <paramref name="y"/>, <paramref name="regionWidth"/> x
    /// <paramref name="regionHeight"/>) of <paramref name="image"/> resized to <paramref name="width"/> x
    /// <paramref name="height"/>: the same pixels as <c>Resize(image.Crop(...), width, height)</c> without the
    /// full-size copy of the region.
    /// </summary>
    public static RgbaImage Resize(RgbaImage image, int x, int y, int regionWidth, int regionHeight, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (x < 0 || y < 0 || regionWidth <= 0 || regionHeight <= 0 || x + regionWidth > image.Width || y + regionHeight > image.Height)
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"region {x},{y} {regionWidth}x{regionHeight} lies outside a {image.Width}x{image.Height} image");
        }

        if (width == regionWidth && height == regionHeight)
        {
            return image.Crop(x, y, regionWidth, regionHeight);
        }

        using var whole = MatRows.WrapRgba(image);
        using var src = new Mat(whole, new Rect(x, y, regionWidth, regionHeight));
        using var dst = new Mat();
        var interpolation = width < regionWidth || height < regionHeight ? InterpolationFlags.Area : InterpolationFlags.Linear;
        Cv2.Resize(src, dst, new Size(width, height), 0, 0, interpolation);
        return MatRows.ToImage(dst);
    }
}
