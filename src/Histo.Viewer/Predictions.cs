using System.Globalization;
using System.Text.Json;
using Histo.Bach;
using Histo.Imaging;
using Histo.Maps;
using OpenCvSharp;

namespace Histo.Viewer;

/// <summary>A class of a prediction: its index in the class map, its name and display colour.</summary>
/// <param name="Index">Value of the class in <c>classmap.png</c>.</param>
/// <param name="Name">Class name.</param>
/// <param name="Color">Display colour, <c>#rrggbb</c>.</param>
public sealed record PredictionClass(int Index, string Name, string Color);

/// <summary>
/// How a prediction map (<c>heatmap.png</c>, <c>classmap.png</c>) lies on the slide: <c>geometry.json</c> of the
/// whole-slide pipeline's output. Map pixel (u, v) covers level-0 x from <c>Level0X + u * Level0Width / Width</c>.
/// </summary>
/// <param name="Level0X">Left of the mapped rectangle, level-0 pixels.</param>
/// <param name="Level0Y">Top of the mapped rectangle, level-0 pixels.</param>
/// <param name="Level0Width">Width of the mapped rectangle, level-0 pixels.</param>
/// <param name="Level0Height">Height of the mapped rectangle, level-0 pixels.</param>
/// <param name="Width">Map width in pixels.</param>
/// <param name="Height">Map height in pixels.</param>
/// <param name="Classes">The classes, in class-map index order.</param>
public sealed record PredictionGeometry(double Level0X, double Level0Y, double Level0Width, double Level0Height, int Width, int Height, IReadOnlyList<PredictionClass> Classes)
{
    /// <summary>Largest map accepted, in pixels (maps are one pixel per patch, far smaller in practice).</summary>
    public const long MaxMapPixels = 64L * 1024 * 1024;

    /// <summary>
    /// Reads <c>geometry.json</c> (fields <c>level0_x</c>, <c>level0_y</c>, <c>level0_width</c>, <c>level0_height</c>,
    /// <c>width</c>, <c>height</c>, <c>classes</c>: names, or objects with <c>name</c> and an optional <c>color</c>).
    /// Colours missing there come from <paramref name="knownColors"/> (e.g. the GeoJSON's classifications), else
    /// from the BACH colours for BACH-like names, else from a fixed palette.
    /// </summary>
    public static PredictionGeometry Load(string path, IReadOnlyDictionary<string, string>? knownColors = null)
    {
        string name = Path.GetFileName(Path.GetDirectoryName(path)) + "/" + Path.GetFileName(path);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new PredictionFormatException($"{name}: not valid JSON ({e.Message})", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new PredictionFormatException($"{name}: expected a JSON object");
            }

            double x = Number(root, "level0_x", name), y = Number(root, "level0_y", name);
            double w = Number(root, "level0_width", name), h = Number(root, "level0_height", name);
            double mapW = Number(root, "width", name), mapH = Number(root, "height", name);
            if (!(w > 0 && h > 0))
            {
                throw new PredictionFormatException($"{name}: level0_width and level0_height must be positive, got {w} x {h}");
            }

            if (!(mapW >= 1 && mapH >= 1 && mapW == Math.Floor(mapW) && mapH == Math.Floor(mapH) && mapW * mapH <= MaxMapPixels))
            {
                throw new PredictionFormatException($"{name}: width and height must be positive whole numbers of at most {MaxMapPixels} pixels in all, got {mapW} x {mapH}");
            }

            // The pipeline's class_colors, one per class, come first: they are the colours of its pictures.
            var written = root.TryGetProperty("class_colors", out var cc) && cc.ValueKind == JsonValueKind.Array
                ? cc.EnumerateArray().Select(ClassColors.Parse).ToList()
                : [];
            var classes = new List<PredictionClass>();
            if (root.TryGetProperty("classes", out var list) || root.TryGetProperty("class_names", out list))
            {
                if (list.ValueKind != JsonValueKind.Array)
                {
                    throw new PredictionFormatException($"{name}: 'classes' must be an array");
                }

                foreach (var item in list.EnumerateArray())
                {
                    string? className = item.ValueKind switch
                    {
                        JsonValueKind.String => item.GetString(),
                        JsonValueKind.Object when item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String => n.GetString(),
                        _ => null,
                    } ?? throw new PredictionFormatException($"{name}: each class must be a name or an object with a 'name'");
                    string? color = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("color", out var c) ? ClassColors.Parse(c) : null;
                    color ??= classes.Count < written.Count ? written[classes.Count] : null;
                    color ??= knownColors != null && knownColors.TryGetValue(className, out var known) ? known : null;
                    classes.Add(new PredictionClass(classes.Count, className, color ?? ClassColors.Default(className, classes.Count)));
                }
            }

            return new PredictionGeometry(x, y, w, h, (int)mapW, (int)mapH, classes);
        }
    }

    private static double Number(JsonElement root, string field, string name)
    {
        if (!root.TryGetProperty(field, out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
        {
            throw new PredictionFormatException($"{name}: missing or non-numeric '{field}'");
        }

        return d;
    }
}

/// <summary>Class colours as the browser takes them (<c>#rrggbb</c>): the core's <see cref="ClassPalette"/>, and the colour formats of annotation files.</summary>
public static class ClassColors
{
    /// <summary>
    /// The colour of a class name: BACH classes by the BACH substrings (Normal green, Benign yellow, InSitu orange,
    /// Invasive red, tumour red), others from the palette's cycle by index (<see cref="ClassPalette.ColorOfName"/>).
    /// </summary>
    public static string Default(string className, int index) => ClassPalette.ToHex(ClassPalette.ColorOfName(className, index));

    /// <summary>The colour of a BACH-like class name (by the BACH substrings, and "tumo(u)r"), else null (<see cref="ClassPalette.BachColorOfName"/>).</summary>
    public static string? Known(string className) => ClassPalette.BachColorOfName(className) is { } color ? ClassPalette.ToHex(color) : null;

    /// <summary>
    /// Parses a colour as QuPath and the annotation formats write it: <c>[r, g, b]</c>, a packed integer
    /// (0xRRGGBB, alpha ignored) or a <c>#rrggbb</c> string; null when it is none of these.
    /// </summary>
    public static string? Parse(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Array when value.GetArrayLength() >= 3:
                var c = value.EnumerateArray().Take(3).Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int i) ? i : -1).ToArray();
                return c.All(i => i is >= 0 and <= 255) ? Hex(c[0], c[1], c[2]) : null;
            case JsonValueKind.Number when value.TryGetInt64(out long packed):
                return Hex((int)(packed >> 16) & 255, (int)(packed >> 8) & 255, (int)packed & 255);
            case JsonValueKind.String:
                return Parse(value.GetString());
            default:
                return null;
        }
    }

    /// <summary>Parses <c>#rrggbb</c> (or <c>#rgb</c>); null otherwise.</summary>
    public static string? Parse(string? text)
    {
        if (text is { Length: 7 } && text[0] == '#' && int.TryParse(text.AsSpan(1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _))
        {
            return text.ToLowerInvariant();
        }

        if (text is { Length: 4 } && text[0] == '#' && int.TryParse(text.AsSpan(1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _))
        {
            return string.Concat("#", new string(text[1], 2), new string(text[2], 2), new string(text[3], 2)).ToLowerInvariant();
        }

        return null;
    }

    /// <summary><c>#rrggbb</c>.</summary>
    public static string Hex(int r, int g, int b) => ClassPalette.ToHex(((byte)r, (byte)g, (byte)b));

    /// <summary>The bytes of a <c>#rrggbb</c> colour.</summary>
    public static (byte R, byte G, byte B) ToRgb(string hex)
    {
        int v = int.Parse(hex.AsSpan(1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return ((byte)(v >> 16), (byte)(v >> 8), (byte)v);
    }
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
            image = ResizeNearest(image, w, h);
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
            rgba = ResizeNearest(rgba, w, h);
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

    /// <summary>Class codes painted in their class colours, opaque; codes without a class or hidden transparent.</summary>
    private static RgbaImage Paint(byte[] pixels, int width, int height, IReadOnlyList<PredictionClass> classes, IReadOnlySet<int>? hiddenClasses)
    {
        var lut = new byte[256 * 4];
        foreach (var c in classes.Where(c => c.Index is >= 0 and < 256 && hiddenClasses?.Contains(c.Index) != true))
        {
            var (r, g, b) = ClassColors.ToRgb(c.Color);
            lut[c.Index * 4] = r;
            lut[c.Index * 4 + 1] = g;
            lut[c.Index * 4 + 2] = b;
            lut[c.Index * 4 + 3] = 255;
        }

        var rgba = new RgbaImage(width, height);
        var dst = rgba.Pixels.AsSpan();
        for (int i = 0; i < pixels.Length; i++)
        {
            lut.AsSpan(pixels[i] * 4, 4).CopyTo(dst.Slice(i * 4, 4));
        }

        return rgba;
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
                $"{Path.GetFileName(path)} is {width} x {height} pixels but geometry.json describes a {geometry.Width} x {geometry.Height} map, so it cannot be placed on the slide (a picture with a legend is not a map layer)"));
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

    private static RgbaImage ResizeNearest(RgbaImage image, int width, int height)
    {
        using var src = Mat.FromPixelData(image.Height, image.Width, MatType.CV_8UC4, image.Pixels);
        using var dst = new Mat();
        Cv2.Resize(src, dst, new Size(width, height), 0, 0, InterpolationFlags.Nearest);
        var result = new RgbaImage(width, height);
        System.Runtime.InteropServices.Marshal.Copy(dst.Data, result.Pixels, 0, result.Pixels.Length);
        return result;
    }
}
