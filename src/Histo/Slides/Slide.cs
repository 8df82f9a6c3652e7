using Histo.Imaging;

namespace Histo.Slides;

/// <summary>One level of a slide pyramid.</summary>
/// <param name="Width">Width in pixels of this level.</param>
/// <param name="Height">Height in pixels of this level.</param>
/// <param name="Downsample">Level-0 pixels per pixel of this level.</param>
public readonly record struct SlideLevel(long Width, long Height, double Downsample);

/// <summary>Where a slide's microns-per-pixel came from.</summary>
public enum MppSource
{
    /// <summary>Not known: the file does not say (Histo never invents one).</summary>
    None,

    /// <summary>The vendor's own metadata (e.g. Aperio's MPP field, reported by OpenSlide as openslide.mpp-x).</summary>
    Vendor,

    /// <summary>The TIFF XResolution/YResolution tags with a centimetre or inch unit.</summary>
    TiffResolution,
}

/// <summary>
/// A whole-slide image or a plain microscopy image seen as a pyramid of levels, the shape of openslide-python's
/// <c>AbstractSlide</c>. Coordinates passed to the ReadRegion methods are level-0 pixels. Reads are thread-safe.
/// </summary>
public abstract class Slide : IDisposable
{
    /// <summary>Plausible microns per pixel: anything outside is treated as unknown.</summary>
    public const double MinPlausibleMpp = 0.1, MaxPlausibleMpp = 20.0;

    /// <summary>
    /// Largest region one <see cref="ReadRegion(long, long, int, int, int)"/> call may return, in pixels (1 GiB of RGBA).
    /// </summary>
    public const long MaxRegionPixels = 1L << 28;

    /// <summary>The file this slide was opened from.</summary>
    public abstract string Path { get; }

    /// <summary>The pyramid levels, level 0 (full resolution) first.</summary>
    public abstract IReadOnlyList<SlideLevel> Levels { get; }

    /// <summary>Number of levels.</summary>
    public int LevelCount => Levels.Count;

    /// <summary>Level-0 width in pixels.</summary>
    public long Width => Levels[0].Width;

    /// <summary>Level-0 height in pixels.</summary>
    public long Height => Levels[0].Height;

    /// <summary>Microns per level-0 pixel horizontally, or null when the file does not say.</summary>
    public abstract double? MppX { get; }

    /// <summary>Microns per level-0 pixel vertically, or null when the file does not say.</summary>
    public abstract double? MppY { get; }

    /// <summary>Where <see cref="MppX"/> and <see cref="MppY"/> came from.</summary>
    public abstract MppSource MppSource { get; }

    /// <summary>The scanner objective magnification (e.g. 20 or 40) when the file says, else null.</summary>
    public virtual double? ObjectivePower =>
        Properties.TryGetValue("openslide.objective-power", out var v) && double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double p) && p > 0 ? p : null;

    /// <summary>The format or vendor: "aperio", "generic-tiff", ..., or "image" for plain images.</summary>
    public abstract string Vendor { get; }

    /// <summary>All metadata the reader exposes, as name/value pairs.</summary>
    public abstract IReadOnlyDictionary<string, string> Properties { get; }

    /// <summary>Names of associated images (label, macro, thumbnail) stored in the file.</summary>
    public abstract IReadOnlyList<string> AssociatedImageNames { get; }

    /// <summary>The first error a reader latched, if any; every later read fails with it.</summary>
    public virtual string? LatchedError => null;

    /// <summary>Decodes an associated image by name.</summary>
    public abstract RgbaImage ReadAssociatedImage(string name);

    /// <summary>The level to read from for a wanted downsample: the largest downsample not above it (as OpenSlide).</summary>
    public int GetBestLevelForDownsample(double downsample)
    {
        if (downsample < Levels[0].Downsample)
        {
            return 0;
        }

        for (int i = 1; i < Levels.Count; i++)
        {
            if (downsample < Levels[i].Downsample)
            {
                return i - 1;
            }
        }

        return Levels.Count - 1;
    }

    /// <summary>
    /// Reads a region: its top-left corner in level-0 pixels, the level to read from, and its size in pixels of
    /// that level. Parts outside the slide come back transparent (alpha 0). A region wholly outside the slide,
    /// a bad level or a non-positive or oversized size raise <see cref="InvalidRegionException"/>.
    /// </summary>
    public RgbaImage ReadRegion(long level0X, long level0Y, int levelIndex, int width, int height)
    {
        ValidateRegion(level0X, level0Y, levelIndex, width, height);
        return ReadRegionCore(level0X, level0Y, levelIndex, width, height);
    }

    /// <summary>
    /// Reads a region into an existing image, whose size is the region's size in pixels of the level: the same
    /// pixels as <see cref="ReadRegion(long, long, int, int, int)"/> without allocating a new image per read, for
    /// loops that read many patches into reused buffers. Same validation and errors.
    /// </summary>
    public void ReadRegion(long level0X, long level0Y, int levelIndex, RgbaImage destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ValidateRegion(level0X, level0Y, levelIndex, destination.Width, destination.Height);
        ReadRegionCore(level0X, level0Y, levelIndex, destination);
    }

    /// <summary>Reads a validated region; implementations return straight-alpha RGBA.</summary>
    protected abstract RgbaImage ReadRegionCore(long level0X, long level0Y, int levelIndex, int width, int height);

    /// <summary>
    /// Reads a validated region into <paramref name="destination"/> (every pixel overwritten). The default reads a
    /// new image and copies it; readers that can decode in place override this.
    /// </summary>
    protected virtual void ReadRegionCore(long level0X, long level0Y, int levelIndex, RgbaImage destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ReadRegionCore(level0X, level0Y, levelIndex, destination.Width, destination.Height).Pixels.CopyTo(destination.Pixels, 0);
    }

    /// <summary>
    /// A thumbnail whose longer side is at most <paramref name="maxSize"/> pixels, composited over white,
    /// read from the best level and shrunk with area averaging.
    /// </summary>
    public virtual RgbaImage GetThumbnail(int maxSize)
    {
        if (maxSize <= 0)
        {
            throw new InvalidRegionException($"thumbnail size must be positive, got {maxSize}");
        }

        double downsample = Math.Max((double)Width / maxSize, (double)Height / maxSize);
        int targetW = (int)Math.Max(1, Math.Round(Width / Math.Max(downsample, 1)));
        int targetH = (int)Math.Max(1, Math.Round(Height / Math.Max(downsample, 1)));
        int level = GetBestLevelForDownsample(downsample);
        var lvl = Levels[level];
        if (lvl.Width * lvl.Height > MaxRegionPixels)
        {
            throw new InvalidRegionException($"the smallest level of {System.IO.Path.GetFileName(Path)} ({lvl.Width}x{lvl.Height}) is too large for a thumbnail");
        }

        var region = ReadRegion(0, 0, level, (int)lvl.Width, (int)lvl.Height).CompositeOverWhite();
        return ImageIO.Resize(region, targetW, targetH);
    }

    /// <summary>Checks a region request against the slide's geometry.</summary>
    protected void ValidateRegion(long level0X, long level0Y, int levelIndex, int width, int height)
    {
        if (levelIndex < 0 || levelIndex >= LevelCount)
        {
            throw new InvalidRegionException($"level {levelIndex} does not exist (the slide has levels 0..{LevelCount - 1})");
        }

        if (width <= 0 || height <= 0)
        {
            throw new InvalidRegionException($"region size must be positive, got {width}x{height}");
        }

        if ((long)width * height > MaxRegionPixels)
        {
            throw new InvalidRegionException($"region {width}x{height} is larger than the {MaxRegionPixels} pixels one read may return");
        }

        double ds = Levels[levelIndex].Downsample;
        double right = level0X + width * ds, bottom = level0Y + height * ds;
        if (level0X >= Width || level0Y >= Height || right <= 0 || bottom <= 0)
        {
            throw new InvalidRegionException(
                $"region at level-0 ({level0X}, {level0Y}) size {width}x{height} at level {levelIndex} lies outside the slide ({Width}x{Height})");
        }
    }

    /// <summary>
    /// Parses microns per pixel from TIFF resolution tags: only a centimetre (3) or inch (2) unit counts, and only a
    /// plausible result (0.1 to 20 µm/px); anything else gives null.
    /// </summary>
    public static double? MppFromTiffResolution(double? pixelsPerUnit, int? resolutionUnit)
    {
        if (pixelsPerUnit is not > 0 || resolutionUnit is null)
        {
            return null;
        }

        double micronsPerUnit = resolutionUnit switch { 2 => 25400.0, 3 => 10000.0, _ => double.NaN };
        if (double.IsNaN(micronsPerUnit))
        {
            return null;
        }

        double mpp = micronsPerUnit / pixelsPerUnit.Value;
        return mpp is >= MinPlausibleMpp and <= MaxPlausibleMpp ? mpp : null;
    }

    /// <summary>Opens a slide, picking OpenSlide for whole-slide formats and the plain-image reader otherwise.</summary>
    public static Slide Open(string path) => SlideOpener.Open(path);

    /// <summary>Releases the native handle.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources.</summary>
    protected virtual void Dispose(bool disposing) { }
}
