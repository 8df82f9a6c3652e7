using Histo.Imaging;

namespace Histo.Slides;

/// <summary>
/// A plain image (PNG, JPEG, flat TIFF, BMP: e.g. a BACH Part A microscopy field) seen as a one-level slide.
/// The image is decoded once when opened; reads copy from memory and are thread-safe.
/// </summary>
public sealed class ImageSlide : Slide
{
    private readonly RgbaImage _image;
    private readonly SlideLevel[] _levels;
    private readonly Dictionary<string, string> _properties;
    private volatile bool _disposed;

    private ImageSlide(string path, RgbaImage image, double? mppX, double? mppY, MppSource source, Dictionary<string, string> properties)
    {
        Path = path;
        _image = image;
        _levels = [new SlideLevel(image.Width, image.Height, 1.0)];
        MppX = mppX;
        MppY = mppY;
        MppSource = source;
        _properties = properties;
    }

    /// <summary>Decodes an image file; throws <see cref="SlideOpenException"/> when it cannot be read.</summary>
    public static ImageSlide OpenFile(string path)
    {
        RgbaImage image;
        try
        {
            image = ImageIO.Load(path);
        }
        catch (ImageFormatException e)
        {
            throw new SlideOpenException(path, e.Message, e);
        }

        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["histo.format"] = System.IO.Path.GetExtension(path).TrimStart('.').ToLowerInvariant(),
        };
        double? mppX = null, mppY = null;
        var source = MppSource.None;
        var tags = TiffTags.TryRead(path);
        if (tags != null)
        {
            foreach (var (key, value) in tags.AsProperties())
            {
                properties[key] = value;
            }

            double? mx = MppFromTiffResolution(tags.XResolution, tags.ResolutionUnit);
            double? my = MppFromTiffResolution(tags.YResolution, tags.ResolutionUnit);
            if (mx != null && my != null)
            {
                (mppX, mppY) = (mx, my);
                source = MppSource.TiffResolution;
            }
        }

        return new ImageSlide(path, image, mppX, mppY, source, properties);
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
    public override string Vendor => "image";

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Properties => _properties;

    /// <inheritdoc />
    public override IReadOnlyList<string> AssociatedImageNames => [];

    /// <inheritdoc />
    public override RgbaImage ReadAssociatedImage(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        throw new SlideReadException($"{Path}: plain images have no associated images");
    }

    /// <inheritdoc />
    protected override RgbaImage ReadRegionCore(long level0X, long level0Y, int levelIndex, int width, int height)
    {
        // Reads after Dispose fail as they do for OpenSlide slides, so code is not correct only by accident.
        ObjectDisposedException.ThrowIf(_disposed, this);
        var result = new RgbaImage(width, height);
        long x0 = Math.Max(0, level0X), y0 = Math.Max(0, level0Y);
        long x1 = Math.Min(_image.Width, level0X + width), y1 = Math.Min(_image.Height, level0Y + height);
        int copyWidth = (int)(x1 - x0);
        for (long y = y0; y < y1; y++)
        {
            _image.Pixels.AsSpan((int)((y * _image.Width + x0) * RgbaImage.Channels), copyWidth * RgbaImage.Channels)
                .CopyTo(result.Pixels.AsSpan((int)(((y - level0Y) * width + (x0 - level0X)) * RgbaImage.Channels)));
        }

        return result;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing) => _disposed = true;
}
