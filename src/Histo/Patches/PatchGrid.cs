using System.Collections;
using System.Globalization;
using Histo.Maps;
using Histo.Slides;

namespace Histo.Patches;

/// <summary>One square patch of a <see cref="PatchGrid"/>, in level-0 pixels.</summary>
/// <param name="Column">Grid column (0-based).</param>
/// <param name="Row">Grid row (0-based).</param>
/// <param name="Level0X">Left edge in level-0 pixels.</param>
/// <param name="Level0Y">Top edge in level-0 pixels.</param>
/// <param name="Level0Size">Side in level-0 pixels.</param>
/// <param name="TissueFraction">Fraction (0..1) of the patch that is tissue, or null when no tissue mask was given.</param>
public readonly record struct PatchPosition(int Column, int Row, long Level0X, long Level0Y, long Level0Size, double? TissueFraction);

/// <summary>
/// A grid of square patches over a slide at a target resolution, streamed row by row: positions are computed from
/// their index when enumerated, so a 100,000 x 100,000 slide never holds its coordinates in memory. Along each axis
/// positions start at 0 and step by the stride; when the last one stops short of the far edge, one more position is
/// aligned to the edge (the BACH seed's scheme: 1495 px crops with stride 99 on 2048 x 1536 give 7 x 2 = 14 crops).
/// With a tissue mask, patches whose tissue fraction is below the minimum are skipped.
/// </summary>
public sealed class PatchGrid : IEnumerable<PatchPosition>
{
    private readonly MaskCoverage? _tissue;

    /// <summary>
    /// A grid over a slide of the given level-0 size. <paramref name="level0Downsample"/> is the level-0 pixels per
    /// output pixel (see <see cref="Resolution.Resolve"/>); the stride defaults to the patch size (no overlap).
    /// </summary>
    public PatchGrid(long level0Width, long level0Height, double level0Downsample, int sizePixels, int? stridePixels = null,
        RasterMask? tissueMask = null, double minTissueFraction = 0)
    {
        if (level0Width <= 0 || level0Height <= 0)
        {
            throw new InvalidParameterException($"slide size must be positive, got {level0Width}x{level0Height}");
        }

        if (!(level0Downsample > 0) || !double.IsFinite(level0Downsample))
        {
            throw new InvalidParameterException($"downsample must be positive, got {Format(level0Downsample)}");
        }

        if (sizePixels is < 1 or > 65536)
        {
            throw new InvalidParameterException($"patch size must be between 1 and 65536 pixels, got {sizePixels}");
        }

        int stride = stridePixels ?? sizePixels;
        if (stride is < 1 or > 1 << 24)
        {
            throw new InvalidParameterException($"stride must be between 1 and {1 << 24} pixels, got {stride}");
        }

        if (!(minTissueFraction is >= 0 and <= 1))
        {
            throw new InvalidParameterException($"minimum tissue fraction must be between 0 and 1, got {Format(minTissueFraction)}");
        }

        Level0Stride = stride * level0Downsample;
        if (Level0Stride < 1)
        {
            throw new InvalidParameterException(
                $"a stride of {stride} px at downsample {Format(level0Downsample)} is under one level-0 pixel; use a larger stride");
        }

        (Level0Width, Level0Height, Level0Downsample, SizePixels, StridePixels, MinTissueFraction) =
            (level0Width, level0Height, level0Downsample, sizePixels, stride, minTissueFraction);
        Level0Size = Math.Max(1, (long)Math.Round(sizePixels * level0Downsample));
        long columns = AxisCount(level0Width, Level0Size, Level0Stride), rows = AxisCount(level0Height, Level0Size, Level0Stride);
        if (columns > int.MaxValue || rows > int.MaxValue)
        {
            throw new InvalidParameterException($"a grid of {columns} x {rows} patches is too large; use a larger stride");
        }

        (Columns, Rows) = ((int)columns, (int)rows);
        _tissue = tissueMask is null ? null : new MaskCoverage(tissueMask);
    }

    /// <summary>
    /// A grid over <paramref name="slide"/> at <paramref name="resolution"/>; a fallback taken while resolving (no MPP,
    /// no objective power) is reported in <see cref="Warnings"/>.
    /// </summary>
    public static PatchGrid ForSlide(Slide slide, Resolution resolution, int sizePixels, int? stridePixels = null,
        RasterMask? tissueMask = null, double minTissueFraction = 0)
    {
        ArgumentNullException.ThrowIfNull(slide);
        var resolved = resolution.Resolve(slide);
        return new PatchGrid(slide.Width, slide.Height, resolved.Level0Downsample, sizePixels, stridePixels, tissueMask, minTissueFraction)
        {
            Resolution = resolved,
        };
    }

    /// <summary>Slide width in level-0 pixels.</summary>
    public long Level0Width { get; }

    /// <summary>Slide height in level-0 pixels.</summary>
    public long Level0Height { get; }

    /// <summary>Level-0 pixels per output pixel.</summary>
    public double Level0Downsample { get; }

    /// <summary>Patch side in output pixels.</summary>
    public int SizePixels { get; }

    /// <summary>Stride in output pixels.</summary>
    public int StridePixels { get; }

    /// <summary>Patch side in level-0 pixels (rounded).</summary>
    public long Level0Size { get; }

    /// <summary>Stride in level-0 pixels (not rounded; positions are rounded).</summary>
    public double Level0Stride { get; }

    /// <summary>Minimum tissue fraction a patch needs (only with a tissue mask).</summary>
    public double MinTissueFraction { get; }

    /// <summary>Number of grid columns.</summary>
    public int Columns { get; }

    /// <summary>Number of grid rows.</summary>
    public int Rows { get; }

    /// <summary>Number of grid positions before the tissue filter (<see cref="Columns"/> x <see cref="Rows"/>).</summary>
    public long PositionCount => (long)Columns * Rows;

    /// <summary>The resolution as resolved on the slide (set by <see cref="ForSlide"/>).</summary>
    public ResolvedResolution? Resolution { get; private init; }

    /// <summary>Fallbacks taken while resolving the resolution.</summary>
    public IReadOnlyList<HistoWarning> Warnings => Resolution?.Warning is { } w ? [w] : [];

    /// <summary>
    /// Number of positions along an axis of <paramref name="length"/> pixels for patches of <paramref name="size"/>
    /// and the given stride: the regular positions that fit, plus one aligned to the far edge when the last regular
    /// one stops short of it. One position when the patch is at least as long as the axis.
    /// </summary>
    public static long AxisCount(long length, long size, double stride)
    {
        if (length <= size)
        {
            return 1;
        }

        long regular = RegularCount(length, size, stride);
        return (long)Math.Round((regular - 1) * stride) + size < length ? regular + 1 : regular;
    }

    /// <summary>The start of position <paramref name="index"/> along an axis (see <see cref="AxisCount"/>).</summary>
    public static long AxisPosition(long index, long length, long size, double stride)
    {
        if (length <= size)
        {
            return 0;
        }

        return index < RegularCount(length, size, stride) ? (long)Math.Round(index * stride) : length - size;
    }

    /// <summary>The patch at a grid cell, with its tissue fraction (the tissue filter is not applied).</summary>
    public PatchPosition At(int column, int row)
    {
        if ((uint)column >= (uint)Columns || (uint)row >= (uint)Rows)
        {
            throw new InvalidParameterException($"grid cell ({column}, {row}) is outside the {Columns} x {Rows} grid");
        }

        long x = AxisPosition(column, Level0Width, Level0Size, Level0Stride);
        long y = AxisPosition(row, Level0Height, Level0Size, Level0Stride);
        return new PatchPosition(column, row, x, y, Level0Size, _tissue?.NonZeroFraction(x, y, Level0Size, Level0Size));
    }

    /// <summary>Enumerates the positions row by row, skipping those under the minimum tissue fraction.</summary>
    public IEnumerator<PatchPosition> GetEnumerator()
    {
        long regularX = Level0Width <= Level0Size ? 1 : RegularCount(Level0Width, Level0Size, Level0Stride);
        long regularY = Level0Height <= Level0Size ? 1 : RegularCount(Level0Height, Level0Size, Level0Stride);
        for (int row = 0; row < Rows; row++)
        {
            long y = Level0Height <= Level0Size ? 0 : row < regularY ? (long)Math.Round(row * Level0Stride) : Level0Height - Level0Size;
            for (int column = 0; column < Columns; column++)
            {
                long x = Level0Width <= Level0Size ? 0 : column < regularX ? (long)Math.Round(column * Level0Stride) : Level0Width - Level0Size;
                double? fraction = _tissue?.NonZeroFraction(x, y, Level0Size, Level0Size);
                if (fraction is null || fraction >= MinTissueFraction)
                {
                    yield return new PatchPosition(column, row, x, y, Level0Size, fraction);
                }
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // The 1e-9 keeps an exact fit ((length - size) a multiple of the stride) from losing its last position to rounding.
    private static long RegularCount(long length, long size, double stride) => (long)Math.Floor((length - size) / stride + 1e-9) + 1;

    private static string Format(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}
