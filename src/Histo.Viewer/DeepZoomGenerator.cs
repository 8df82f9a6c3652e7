using System.Globalization;
using Histo.Imaging;
using Histo.Slides;

namespace Histo.Viewer;

/// <summary>One Deep Zoom level: its size, its tile grid, and the slide level its tiles are read from.</summary>
/// <param name="Width">Width in pixels of the Deep Zoom level.</param>
/// <param name="Height">Height in pixels of the Deep Zoom level.</param>
/// <param name="Columns">Tiles across.</param>
/// <param name="Rows">Tiles down.</param>
/// <param name="SlideLevelIndex">The slide level read for this Deep Zoom level (the best level for its downsample).</param>
/// <param name="Level0Downsample">Level-0 pixels per pixel of this Deep Zoom level (a power of two).</param>
public readonly record struct DeepZoomLevel(long Width, long Height, int Columns, int Rows, int SlideLevelIndex, double Level0Downsample);

/// <summary>What to read from the slide for one tile, and the size the read is scaled to.</summary>
/// <param name="Level0X">Left of the read, level-0 pixels.</param>
/// <param name="Level0Y">Top of the read, level-0 pixels.</param>
/// <param name="SlideLevelIndex">Slide level read from.</param>
/// <param name="ReadWidth">Width of the read in pixels of that slide level.</param>
/// <param name="ReadHeight">Height of the read in pixels of that slide level.</param>
/// <param name="TileWidth">Width of the tile sent (overlap included).</param>
/// <param name="TileHeight">Height of the tile sent (overlap included).</param>
public readonly record struct DeepZoomTileRegion(long Level0X, long Level0Y, int SlideLevelIndex, int ReadWidth, int ReadHeight, int TileWidth, int TileHeight);

/// <summary>
/// Deep Zoom geometry of a slide pyramid, computed as openslide-python's <c>deepzoom.py</c> does: Deep Zoom level
/// <c>n</c> (of <c>N</c>) halves the level-0 size <c>N - 1 - n</c> times; each tile is read from the slide level
/// best suited to that downsample (<see cref="Slide.GetBestLevelForDownsample"/>) and resized by the remaining factor.
/// Tiles are <see cref="TileSizePixels"/> square plus <see cref="OverlapPixels"/> on each inner edge.
/// </summary>
public sealed class DeepZoomGenerator
{
    private readonly DeepZoomLevel[] _levels;
    private readonly SlideLevel[] _slideLevels;

    /// <summary>Computes the geometry for a slide's levels (the slide is not kept).</summary>
    public DeepZoomGenerator(Slide slide, int tileSizePixels = 254, int overlapPixels = 1)
    {
        ArgumentNullException.ThrowIfNull(slide);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileSizePixels, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(overlapPixels);
        TileSizePixels = tileSizePixels;
        OverlapPixels = overlapPixels;
        _slideLevels = [.. slide.Levels];

        var sizes = new List<(long W, long H)> { (_slideLevels[0].Width, _slideLevels[0].Height) };
        while (sizes[^1].W > 1 || sizes[^1].H > 1)
        {
            var (w, h) = sizes[^1];
            sizes.Add((Math.Max(1, (w + 1) / 2), Math.Max(1, (h + 1) / 2)));
        }

        sizes.Reverse();
        _levels = new DeepZoomLevel[sizes.Count];
        for (int n = 0; n < sizes.Count; n++)
        {
            var (w, h) = sizes[n];
            double downsample = Math.Pow(2, sizes.Count - n - 1);
            _levels[n] = new DeepZoomLevel(w, h, Tiles(w), Tiles(h), slide.GetBestLevelForDownsample(downsample), downsample);
        }
    }

    /// <summary>Tile edge in pixels, overlap excluded.</summary>
    public int TileSizePixels { get; }

    /// <summary>Pixels each tile shares with its neighbour on every inner edge.</summary>
    public int OverlapPixels { get; }

    /// <summary>The Deep Zoom levels, 1 x 1 pixel first, full resolution last.</summary>
    public IReadOnlyList<DeepZoomLevel> Levels => _levels;

    /// <summary>Number of Deep Zoom levels.</summary>
    public int LevelCount => _levels.Length;

    /// <summary>The <c>.dzi</c> XML descriptor.</summary>
    public string GetDescriptorXml(string format = "jpeg")
    {
        var full = _levels[^1];
        return string.Create(CultureInfo.InvariantCulture,
            $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Image xmlns=\"http://schemas.microsoft.com/deepzoom/2008\" Format=\"{format}\" Overlap=\"{OverlapPixels}\" TileSize=\"{TileSizePixels}\"><Size Height=\"{full.Height}\" Width=\"{full.Width}\"/></Image>\n");
    }

    /// <summary>
    /// The read behind tile (<paramref name="column"/>, <paramref name="row"/>) of Deep Zoom level
    /// <paramref name="level"/>; false when the address does not exist.
    /// </summary>
    public bool TryGetTileRegion(int level, long column, long row, out DeepZoomTileRegion region)
    {
        region = default;
        if (level < 0 || level >= _levels.Length)
        {
            return false;
        }

        var dz = _levels[level];
        if (column < 0 || column >= dz.Columns || row < 0 || row >= dz.Rows)
        {
            return false;
        }

        int slideLevel = dz.SlideLevelIndex;
        var sl = _slideLevels[slideLevel];
        // Slide-level pixels per Deep Zoom pixel (>= 1 except where no slide level is as fine as level 0 needs).
        double levelPerDz = dz.Level0Downsample / sl.Downsample;
        var (x0, readW, tileW) = Axis(column, dz.Columns, dz.Width, levelPerDz, sl.Downsample, sl.Width);
        var (y0, readH, tileH) = Axis(row, dz.Rows, dz.Height, levelPerDz, sl.Downsample, sl.Height);
        region = new DeepZoomTileRegion(x0, y0, slideLevel, readW, readH, tileW, tileH);
        return true;
    }

    /// <summary>
    /// Reads one tile: the region from the slide, composited over <paramref name="background"/> (the slide's
    /// background colour), resized to the tile size with area averaging when needed.
    /// </summary>
    public RgbaImage ReadTile(Slide slide, DeepZoomTileRegion region, (byte R, byte G, byte B) background)
    {
        ArgumentNullException.ThrowIfNull(slide);
        var read = slide.ReadRegion(region.Level0X, region.Level0Y, region.SlideLevelIndex, region.ReadWidth, region.ReadHeight);
        CompositeInPlace(read, background);
        return read.Width == region.TileWidth && read.Height == region.TileHeight
            ? read
            : ImageIO.Resize(read, region.TileWidth, region.TileHeight);
    }

    /// <summary>The smallest Deep Zoom level whose single tile shows the whole slide within <paramref name="maxSizePixels"/>.</summary>
    public int ThumbnailLevel(int maxSizePixels)
    {
        for (int n = _levels.Length - 1; n >= 0; n--)
        {
            if (_levels[n].Width <= maxSizePixels && _levels[n].Height <= maxSizePixels && _levels[n].Columns == 1 && _levels[n].Rows == 1)
            {
                return n;
            }
        }

        return 0;
    }

    private int Tiles(long size) => (int)((size + TileSizePixels - 1) / TileSizePixels);

    /// <summary>One axis of deepzoom.py's <c>_get_tile_info</c>: level-0 start, read length, tile length.</summary>
    private (long Level0Start, int ReadLength, int TileLength) Axis(long t, int tiles, long dzSize, double levelPerDz, double level0PerLevel, long levelSize)
    {
        int overlapBefore = t != 0 ? OverlapPixels : 0;
        int overlapAfter = t != tiles - 1 ? OverlapPixels : 0;
        int tileLength = (int)(Math.Min(TileSizePixels, dzSize - TileSizePixels * t) + overlapBefore + overlapAfter);
        double levelStart = levelPerDz * (TileSizePixels * t - overlapBefore);
        long level0Start = (long)(level0PerLevel * levelStart);
        long readLength = Math.Min((long)Math.Ceiling(levelPerDz * tileLength), levelSize - (long)Math.Ceiling(levelStart));
        return (level0Start, (int)Math.Max(1, readLength), tileLength);
    }

    private static void CompositeInPlace(RgbaImage image, (byte R, byte G, byte B) background)
    {
        var p = image.Pixels.AsSpan();
        for (int i = 0; i < p.Length; i += RgbaImage.Channels)
        {
            int a = p[i + 3];
            if (a != 255)
            {
                int inv = 255 - a;
                p[i] = (byte)((p[i] * a + background.R * inv + 127) / 255);
                p[i + 1] = (byte)((p[i + 1] * a + background.G * inv + 127) / 255);
                p[i + 2] = (byte)((p[i + 2] * a + background.B * inv + 127) / 255);
                p[i + 3] = 255;
            }
        }
    }
}
