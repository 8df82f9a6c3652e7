using Histo.Imaging;

namespace Histo.Maps;

/// <summary>
/// An 8-bit single-channel raster laid over a slide: a tissue mask (0 = background, 255 = tissue), a label mask
/// (BACH codes 0..3 or class indices), or a class map. Pixel (x, y) covers the level-0 rectangle starting at
/// (<see cref="Level0X"/> + x * <see cref="Level0PerPixelX"/>, <see cref="Level0Y"/> + y * <see cref="Level0PerPixelY"/>)
/// of size <see cref="Level0PerPixelX"/> x <see cref="Level0PerPixelY"/>.
/// </summary>
public sealed class RasterMask
{
    /// <summary>Width in mask pixels.</summary>
    public int Width { get; }

    /// <summary>Height in mask pixels.</summary>
    public int Height { get; }

    /// <summary>Row-major values, <see cref="Width"/> bytes per row.</summary>
    public byte[] Pixels { get; }

    /// <summary>Level-0 pixels per mask pixel, horizontally.</summary>
    public double Level0PerPixelX { get; }

    /// <summary>Level-0 pixels per mask pixel, vertically.</summary>
    public double Level0PerPixelY { get; }

    /// <summary>Level-0 x of the mask's left edge.</summary>
    public double Level0X { get; }

    /// <summary>Level-0 y of the mask's top edge.</summary>
    public double Level0Y { get; }

    /// <summary>Creates a mask; <paramref name="pixels"/> null means all zero.</summary>
    public RasterMask(int width, int height, double level0PerPixelX, double level0PerPixelY, byte[]? pixels = null, double level0X = 0, double level0Y = 0)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"mask size must be positive, got {width}x{height}");
        }

        if (!(level0PerPixelX > 0) || !(level0PerPixelY > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(level0PerPixelX), "level-0 pixels per mask pixel must be positive");
        }

        if ((long)width * height > Array.MaxLength)
        {
            throw new InvalidParameterException($"a mask of {width}x{height} pixels is larger than one buffer may be ({Array.MaxLength} pixels)");
        }

        pixels ??= new byte[width * height];
        if (pixels.Length != width * height)
        {
            throw new ArgumentException($"expected {width * height} bytes for a {width}x{height} mask, got {pixels.Length}", nameof(pixels));
        }

        (Width, Height, Pixels, Level0PerPixelX, Level0PerPixelY, Level0X, Level0Y) =
            (width, height, pixels, level0PerPixelX, level0PerPixelY, level0X, level0Y);
    }

    /// <summary>One row.</summary>
    public Span<byte> Row(int y) => Pixels.AsSpan(y * Width, Width);

    /// <summary>The value at mask pixel (x, y).</summary>
    public byte this[int x, int y]
    {
        get => Pixels[y * Width + x];
        set => Pixels[y * Width + x] = value;
    }

    /// <summary>
    /// Counts, over the mask pixels whose centres fall inside the level-0 rectangle, how many hold each value
    /// (256 counters). The rectangle is clipped to the mask; a rectangle smaller than one mask pixel counts the pixel under its centre.
    /// </summary>
    public long[] Histogram(double level0X, double level0Y, double level0Width, double level0Height)
    {
        var counts = new long[256];
        int x0 = (int)Math.Ceiling((level0X - Level0X) / Level0PerPixelX - 0.5);
        int x1 = (int)Math.Ceiling((level0X + level0Width - Level0X) / Level0PerPixelX - 0.5);
        int y0 = (int)Math.Ceiling((level0Y - Level0Y) / Level0PerPixelY - 0.5);
        int y1 = (int)Math.Ceiling((level0Y + level0Height - Level0Y) / Level0PerPixelY - 0.5);
        if (x1 <= x0)
        {
            x0 = (int)Math.Floor((level0X + level0Width / 2 - Level0X) / Level0PerPixelX);
            x1 = x0 + 1;
        }

        if (y1 <= y0)
        {
            y0 = (int)Math.Floor((level0Y + level0Height / 2 - Level0Y) / Level0PerPixelY);
            y1 = y0 + 1;
        }

        x0 = Math.Clamp(x0, 0, Width);
        x1 = Math.Clamp(x1, 0, Width);
        y0 = Math.Clamp(y0, 0, Height);
        y1 = Math.Clamp(y1, 0, Height);
        for (int y = y0; y < y1; y++)
        {
            foreach (byte v in Pixels.AsSpan(y * Width + x0, x1 - x0))
            {
                counts[v]++;
            }
        }

        return counts;
    }

    /// <summary>Fraction (0..1) of the mask pixels under a level-0 rectangle that are non-zero; 0 outside the mask.</summary>
    public double NonZeroFraction(double level0X, double level0Y, double level0Width, double level0Height)
    {
        var h = Histogram(level0X, level0Y, level0Width, level0Height);
        long total = h.Sum();
        return total == 0 ? 0 : 1.0 - (double)h[0] / total;
    }

    /// <summary>Writes the mask as an 8-bit grey PNG (atomically).</summary>
    public void Save(string path) => ImageIO.SaveGray(path, Pixels, Width, Height);

    /// <summary>
    /// Reads an 8-bit grey PNG as a mask covering a slide of the given level-0 size (so its geometry is known).
    /// The mask's aspect ratio must match the slide's within 2 %, else <see cref="HistoException"/>.
    /// </summary>
    public static RasterMask Load(string path, long slideLevel0Width, long slideLevel0Height)
    {
        var (pixels, width, height) = ImageIO.LoadGray(path);
        double sx = (double)slideLevel0Width / width, sy = (double)slideLevel0Height / height;
        if (Math.Abs(sx / sy - 1) > 0.02)
        {
            throw new HistoException(
                $"{path}: mask {width}x{height} does not match the slide's shape {slideLevel0Width}x{slideLevel0Height} (aspect ratios differ)");
        }

        return new RasterMask(width, height, sx, sy, pixels);
    }
}
