using System.Globalization;
using System.Text.Json.Serialization;
using Histo.Bach;
using Histo.IO;
using Histo.Imaging;
using Histo.Maps;
using Histo.Outputs;

namespace Histo.Viewer;

/// <summary>A class of a prediction: its index in the class map, its name and display colour.</summary>
/// <param name="Index">Value of the class in <c>classmap.png</c>.</param>
/// <param name="Name">Class name.</param>
/// <param name="Color">Display colour, <c>#rrggbb</c>.</param>
public sealed record PredictionClass(int Index, string Name, string Color);

/// <summary>
/// How a prediction map (<c>heatmap.png</c>, <c>classmap.png</c>) lies on the slide, as the browser takes it: the
/// core's <see cref="MapGeometry"/> (<c>geometry.json</c>, read by <see cref="MapGeometry.Load"/>) with each class's
/// display colour resolved. Map pixel (u, v) covers level-0 x from <c>Level0X + u * Level0Width / Width</c>.
/// </summary>
public sealed record PredictionGeometry
{
    /// <summary>Largest map the viewer shows, in pixels (maps are one pixel per patch, far smaller in practice).</summary>
    public const long MaxMapPixels = 64L * 1024 * 1024;

    /// <summary>A geometry and its classes with their colours.</summary>
    public PredictionGeometry(MapGeometry map, IReadOnlyList<PredictionClass> classes)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(classes);
        (Map, Classes) = (map, classes);
    }

    /// <summary>A map of <paramref name="width"/> x <paramref name="height"/> pixels over a level-0 rectangle, with its classes.</summary>
    public PredictionGeometry(double level0X, double level0Y, double level0Width, double level0Height, int width, int height, IReadOnlyList<PredictionClass> classes)
        : this(new MapGeometry(level0X, level0Y, level0Width, level0Height, width, height, classes.Select(c => c.Name).ToList()), classes)
    {
    }

    /// <summary>The map geometry (class names, no colours resolved).</summary>
    [JsonIgnore]
    public MapGeometry Map { get; }

    /// <summary>Left of the mapped rectangle, level-0 pixels.</summary>
    public double Level0X => Map.Level0X;

    /// <summary>Top of the mapped rectangle, level-0 pixels.</summary>
    public double Level0Y => Map.Level0Y;

    /// <summary>Width of the mapped rectangle, level-0 pixels.</summary>
    public double Level0Width => Map.Level0Width;

    /// <summary>Height of the mapped rectangle, level-0 pixels.</summary>
    public double Level0Height => Map.Level0Height;

    /// <summary>Map width in pixels.</summary>
    public int Width => Map.Width;

    /// <summary>Map height in pixels.</summary>
    public int Height => Map.Height;

    /// <summary>The classes, in class-map index order, with their display colours.</summary>
    public IReadOnlyList<PredictionClass> Classes { get; }

    /// <summary>
    /// Reads <c>geometry.json</c> through <see cref="MapGeometry.Load"/>. A class's colour is the one the file gives
    /// (a class object's <c>color</c>, else <c>class_colors</c>), else the one <paramref name="knownColors"/> gives its
    /// name (e.g. the GeoJSON's classifications; asked only when the file leaves a class without one), else the BACH
    /// colour for a BACH-like name, else the palette's cycle.
    /// </summary>
    /// <exception cref="PredictionFormatException">The file is missing, malformed, or describes a map larger than <see cref="MaxMapPixels"/>.</exception>
    public static PredictionGeometry Load(string path, Func<IReadOnlyDictionary<string, string>?>? knownColors = null)
    {
        MapGeometry map;
        try
        {
            map = MapGeometry.Load(path);
        }
        catch (MapGeometryException e)
        {
            throw new PredictionFormatException(e.Message, e);
        }

        if ((long)map.Width * map.Height > MaxMapPixels)
        {
            throw new PredictionFormatException(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(path)}: a {map.Width} x {map.Height} map is larger than the {MaxMapPixels} pixels the viewer shows"));
        }

        IReadOnlyDictionary<string, string>? known = null;
        bool asked = false;
        var classes = new List<PredictionClass>(map.Classes.Count);
        for (int i = 0; i < map.Classes.Count; i++)
        {
            string className = map.Classes[i];
            string? color = map.ClassColors is { } written && i < written.Count ? written[i] : null;
            if (color is null && knownColors != null)
            {
                known = asked ? known : knownColors();
                asked = true;
                color = known != null && known.TryGetValue(className, out var k) ? k : null;
            }

            classes.Add(new PredictionClass(i, className, color ?? ClassColors.Default(className, i)));
        }

        return new PredictionGeometry(map, classes);
    }
}

/// <summary>Class colours as the browser takes them (<c>#rrggbb</c>): the core's <see cref="ClassPalette"/>.</summary>
public static class ClassColors
{
    /// <summary>
    /// The colour of a class name: BACH classes by the BACH substrings (Normal green, Benign yellow, InSitu orange,
    /// Invasive red, tumour red), others from the palette's cycle by index (<see cref="ClassPalette.ColorOfName"/>).
    /// </summary>
    public static string Default(string className, int index) => ClassPalette.ToHex(ClassPalette.ColorOfName(className, index));

    /// <summary>The colour of a BACH-like class name (by the BACH substrings, and "tumo(u)r"), else null (<see cref="ClassPalette.BachColorOfName"/>).</summary>
    public static string? Known(string className) => ClassPalette.BachColorOfName(className) is { } color ? ClassPalette.ToHex(color) : null;

    /// <summary>The bytes of a <c>#rrggbb</c> colour (<see cref="ColorText.Parse(string?)"/>).</summary>
    /// <exception cref="ArgumentException">Not a <c>#rrggbb</c> or <c>#rgb</c> colour.</exception>
    public static (byte R, byte G, byte B) ToRgb(string hex) =>
        ColorText.Parse(hex) ?? throw new ArgumentException($"'{hex}' is not a #rrggbb colour", nameof(hex));
}

/// <summary>Turns the pipeline's map images into overlays the browser can lay over the slide.</summary>
public static class OverlayRenderer
{
    /// <summary>
    /// A PNG of the colour heatmap layer (one pixel per map cell) resampled (nearest neighbour) so its aspect ratio is
    /// that of the level-0 rectangle it covers, so that a viewer placing an image by its width alone keeps it aligned.
    /// </summary>
    /// <exception cref="PredictionFormatException">The image is not the map's size (e.g. a picture with a legend strip).</exception>
    public static byte[] HeatmapPng(string heatmapPath, PredictionGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var image = LoadBounded(heatmapPath);
        RequireMapSize(heatmapPath, image.Width, image.Height, geometry);
        var (w, h) = AlignedSize(image.Width, image.Height, geometry);
        if (w != image.Width || h != image.Height)
        {
            image = MapRendering.ResizeNearest(image, w, h);
        }

        return ImageIO.Encode(image, ".png");
    }

    /// <summary>
    /// A PNG where each class-map value is painted in its class colour (fully opaque) and values with no class, or of
    /// a class in <paramref name="hiddenClasses"/>, are transparent, with the same aspect correction as <see cref="HeatmapPng"/>.
    /// </summary>
    public static byte[] ClassMapPng(string classMapPath, PredictionGeometry geometry, IReadOnlySet<int>? hiddenClasses = null)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var (pixels, width, height) = LoadGrayBounded(classMapPath);
        RequireMapSize(classMapPath, width, height, geometry);
        var rgba = Paint(pixels, width, height, geometry.Classes, hiddenClasses);
        var (w, h) = AlignedSize(width, height, geometry);
        if (w != width || h != height)
        {
            rgba = MapRendering.ResizeNearest(rgba, w, h);
        }

        return ImageIO.Encode(rgba, ".png");
    }

    /// <summary>
    /// A PNG of a ground-truth label mask (one class code per pixel, index into <paramref name="classes"/>) painted as
    /// <see cref="ClassMapPng"/> paints a class map, sampled down (nearest neighbour, pixel centres) to at most
    /// <paramref name="maxSidePixels"/> a side. The browser stretches it over the level-0 area it covers.
    /// </summary>
    /// <exception cref="PredictionFormatException">A code with no class (e.g. above 3 for BACH), or an image too large.</exception>
    public static byte[] LabelMaskPng(string maskPath, IReadOnlyList<PredictionClass> classes, IReadOnlySet<int>? hiddenClasses, int maxSidePixels)
    {
        ArgumentNullException.ThrowIfNull(classes);
        var (pixels, width, height) = LoadGrayBounded(maskPath);
        byte highest = pixels.Length == 0 ? (byte)0 : pixels.Max();
        if (highest >= classes.Count)
        {
            throw new PredictionFormatException(string.Create(CultureInfo.InvariantCulture,
                $"label mask {Path.GetFileName(maskPath)} holds the value {highest}; expected class codes 0..{classes.Count - 1} ({string.Join(", ", classes.Select(c => c.Name))})"));
        }

        double scale = Math.Min(1.0, (double)maxSidePixels / Math.Max(width, height));
        if (scale < 1)
        {
            int w = Math.Max(1, (int)Math.Round(width * scale)), h = Math.Max(1, (int)Math.Round(height * scale));
            pixels = Histo.Scoring.SlideScorer.ResizeNearest(new Histo.Maps.RasterMask(width, height, 1, 1, pixels), w, h).Pixels;
            (width, height) = (w, h);
        }

        return ImageIO.Encode(Paint(pixels, width, height, classes, hiddenClasses), ".png");
    }

    /// <summary>Class codes painted in their class colours, opaque; codes without a class or hidden transparent (<see cref="MapRendering.ColorizeClasses(ReadOnlySpan{byte}, int, int, IReadOnlyList{ValueTuple{byte, byte, byte}?})"/>).</summary>
    private static RgbaImage Paint(byte[] pixels, int width, int height, IReadOnlyList<PredictionClass> classes, IReadOnlySet<int>? hiddenClasses)
    {
        var colors = new (byte R, byte G, byte B)?[256];
        foreach (var c in classes.Where(c => c.Index is >= 0 and < 256 && hiddenClasses?.Contains(c.Index) != true))
        {
            colors[c.Index] = ClassColors.ToRgb(c.Color);
        }

        return MapRendering.ColorizeClasses(pixels, width, height, colors);
    }

    /// <summary>The image size to send: the map's width, and the height that gives the level-0 rectangle's aspect.</summary>
    internal static (int Width, int Height) AlignedSize(int width, int height, PredictionGeometry geometry)
    {
        double alignedHeight = width * geometry.Level0Height / geometry.Level0Width;
        if (Math.Abs(alignedHeight - height) < 0.5)
        {
            return (width, height);
        }

        // Upsample by a whole factor first so each map pixel keeps a sharp, nearly equal footprint.
        int factor = Math.Max(1, Math.Min(8, (int)Math.Floor(4096.0 / Math.Max(width, height))));
        int w = width * factor;
        int h = (int)Math.Max(1, Math.Round(w * geometry.Level0Height / geometry.Level0Width));
        return (w, h);
    }

    /// <summary>A map laid over the slide must have one pixel per map cell, or it would be stretched out of place.</summary>
    private static void RequireMapSize(string path, int width, int height, PredictionGeometry geometry)
    {
        if ((width, height) != (geometry.Width, geometry.Height))
        {
            throw new PredictionFormatException(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(path)} is {width} x {height} pixels but {SlideOutputs.Geometry} describes a {geometry.Width} x {geometry.Height} map, so it cannot be placed on the slide (a picture with a legend is not a map layer)"));
        }
    }

    private static RgbaImage LoadBounded(string path)
    {
        var image = ImageIO.Load(path);
        if ((long)image.Width * image.Height > PredictionGeometry.MaxMapPixels)
        {
            throw new PredictionFormatException($"{Path.GetFileName(path)} is {image.Width} x {image.Height}, larger than a prediction map may be");
        }

        return image;
    }

    private static (byte[] Pixels, int Width, int Height) LoadGrayBounded(string path)
    {
        var gray = ImageIO.LoadGray(path);
        if ((long)gray.Width * gray.Height > PredictionGeometry.MaxMapPixels)
        {
            throw new PredictionFormatException($"{Path.GetFileName(path)} is {gray.Width} x {gray.Height}, larger than a prediction map may be");
        }

        return gray;
    }
}
