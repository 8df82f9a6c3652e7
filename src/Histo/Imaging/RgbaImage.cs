namespace Histo.Imaging;

/// <summary>
/// An 8-bit RGBA pixel buffer with straight (not premultiplied) alpha, rows packed top to bottom
/// (stride = <see cref="Width"/> x 4 bytes).
/// </summary>
public sealed class RgbaImage
{
    /// <summary>Bytes per pixel.</summary>
    public const int Channels = 4;

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The pixels, R G B A per pixel, <see cref="Stride"/> bytes per row.</summary>
    public byte[] Pixels { get; }

    /// <summary>Bytes per row.</summary>
    public int Stride => Width * Channels;

    /// <summary>Creates a blank (transparent black) image.</summary>
    public RgbaImage(int width, int height)
        : this(width, height, new byte[BufferLength(width, height)]) { }

    private static int BufferLength(int width, int height)
    {
        long bytes = (long)Math.Max(width, 1) * Math.Max(height, 1) * Channels;
        return bytes <= Array.MaxLength ? (int)bytes
            : throw new InvalidParameterException($"an image of {width}x{height} pixels is larger than one image buffer may be ({Array.MaxLength / Channels} pixels)");
    }

    /// <summary>Wraps existing RGBA pixels.</summary>
    public RgbaImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}x{height}");
        }

        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != (long)width * height * Channels)
        {
            throw new ArgumentException($"expected {width * height * Channels} bytes for {width}x{height} RGBA, got {pixels.Length}", nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>One row of pixels.</summary>
    public Span<byte> Row(int y) => Pixels.AsSpan(y * Stride, Stride);

    /// <summary>The pixel at (x, y) as R, G, B, A.</summary>
    public (byte R, byte G, byte B, byte A) GetPixel(int x, int y)
    {
        int i = (y * Width + x) * Channels;
        return (Pixels[i], Pixels[i + 1], Pixels[i + 2], Pixels[i + 3]);
    }

    /// <summary>
    /// A copy where every pixel is composited over white and made opaque: transparent areas (outside the scanned
    /// region of a slide) become white glass, which is what tissue detection and models expect.
    /// </summary>
    public RgbaImage CompositeOverWhite()
    {
        var result = new byte[Pixels.Length];
        var src = Pixels.AsSpan();
        for (int i = 0; i < src.Length; i += Channels)
        {
            int a = src[i + 3];
            if (a == 255)
            {
                result[i] = src[i];
                result[i + 1] = src[i + 1];
                result[i + 2] = src[i + 2];
            }
            else
            {
                int inv = 255 - a;
                result[i] = (byte)((src[i] * a + 255 * inv + 127) / 255);
                result[i + 1] = (byte)((src[i + 1] * a + 255 * inv + 127) / 255);
                result[i + 2] = (byte)((src[i + 2] * a + 255 * inv + 127) / 255);
            }

            result[i + 3] = 255;
        }

        return new RgbaImage(Width, Height, result);
    }

    /// <summary>A copy of the rectangle (x, y, width, height), which must lie inside the image.</summary>
    public RgbaImage Crop(int x, int y, int width, int height)
    {
        if (x < 0 || y < 0 || width <= 0 || height <= 0 || x + width > Width || y + height > Height)
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"crop {x},{y} {width}x{height} lies outside a {Width}x{Height} image");
        }

        var result = new RgbaImage(width, height);
        for (int row = 0; row < height; row++)
        {
            Pixels.AsSpan(((y + row) * Width + x) * Channels, width * Channels).CopyTo(result.Row(row));
        }

        return result;
    }
}
