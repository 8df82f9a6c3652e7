using Histo.Maps;

namespace Histo.Patches;

/// <summary>
/// Answers "what fraction of this level-0 rectangle is non-zero in the mask" in constant time, with a summed-area
/// table of the mask's non-zero pixels. Gives exactly <see cref="RasterMask.NonZeroFraction"/> (same pixel-centre
/// rule), without a per-query histogram.
/// </summary>
public sealed class MaskCoverage
{
    private readonly RasterMask _mask;
    private readonly int[] _sums; // (Width + 1) x (Height + 1), row-major; _sums[y, x] = non-zero pixels above and left

    /// <summary>Builds the table (one pass over the mask).</summary>
    public MaskCoverage(RasterMask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        _mask = mask;
        int w = mask.Width, stride = w + 1;
        _sums = new int[checked(stride * (mask.Height + 1))];
        for (int y = 0; y < mask.Height; y++)
        {
            var row = mask.Row(y);
            var above = _sums.AsSpan(y * stride, stride);
            var current = _sums.AsSpan((y + 1) * stride, stride);
            int running = 0;
            for (int x = 0; x < w; x++)
            {
                running += row[x] != 0 ? 1 : 0;
                current[x + 1] = above[x + 1] + running;
            }
        }
    }

    /// <summary>The mask this table was built from.</summary>
    public RasterMask Mask => _mask;

    /// <summary>
    /// Fraction (0..1) of the mask pixels whose centres fall inside the level-0 rectangle that are non-zero; 0 when
    /// the rectangle misses the mask.
    /// </summary>
    public double NonZeroFraction(double level0X, double level0Y, double level0Width, double level0Height)
    {
        var (x0, x1) = Span(level0X, level0Width, _mask.Level0X, _mask.Level0PerPixelX, _mask.Width);
        var (y0, y1) = Span(level0Y, level0Height, _mask.Level0Y, _mask.Level0PerPixelY, _mask.Height);
        long area = (long)(x1 - x0) * (y1 - y0);
        if (area <= 0)
        {
            return 0;
        }

        int stride = _mask.Width + 1;
        long count = (long)_sums[y1 * stride + x1] - _sums[y0 * stride + x1] - _sums[y1 * stride + x0] + _sums[y0 * stride + x0];
        return (double)count / area;
    }

    /// <summary>The mask pixel range [first, last) along one axis, by the rule of <see cref="RasterMask.Histogram"/>.</summary>
    internal static (int First, int End) Span(double start, double length, double origin, double perPixel, int size)
    {
        double first = Math.Ceiling((start - origin) / perPixel - 0.5);
        double end = Math.Ceiling((start + length - origin) / perPixel - 0.5);
        if (end <= first)
        {
            first = Math.Floor((start + length / 2 - origin) / perPixel);
            end = first + 1;
        }

        return ((int)Math.Clamp(first, 0, size), (int)Math.Clamp(end, 0, size));
    }
}
