using System.Globalization;
using System.Text.Json;
using Histo.Bach;
using Histo.IO;

namespace Histo.Maps;

/// <summary>
/// How a map (class map, BACH map, heatmap) lies over its slide: the map is <see cref="Width"/> x <see cref="Height"/>
/// pixels covering the level-0 rectangle (<see cref="Level0X"/>, <see cref="Level0Y"/>, <see cref="Level0Width"/>,
/// <see cref="Level0Height"/>); pixel value k means class <see cref="Classes"/>[k]. Stored as <c>geometry.json</c>
/// with the fields <c>level0_x</c>, <c>level0_y</c>, <c>level0_width</c>, <c>level0_height</c>, <c>width</c>,
/// <c>height</c>, <c>classes</c> (other fields are ignored when reading).
/// </summary>
public sealed record MapGeometry(double Level0X, double Level0Y, double Level0Width, double Level0Height, int Width, int Height, IReadOnlyList<string> Classes)
{
    /// <summary>The usual file name.</summary>
    public const string FileName = "geometry.json";

    /// <summary>
    /// Display colour of each class (<c>#rrggbb</c>, in class order), stored as <c>class_colors</c>; null when the
    /// file gives none, and an entry is null where the file gives no colour for that class.
    /// </summary>
    public IReadOnlyList<string?>? ClassColors { get; init; }

    private const int MaxFileBytes = 1 << 20;

    /// <summary>Level-0 pixels per map pixel, horizontally.</summary>
    public double Level0PerPixelX => Level0Width / Width;

    /// <summary>Level-0 pixels per map pixel, vertically.</summary>
    public double Level0PerPixelY => Level0Height / Height;

    /// <summary>The geometry of an existing mask, with class names.</summary>
    public static MapGeometry Of(RasterMask mask, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(classes);
        return new MapGeometry(mask.Level0X, mask.Level0Y, mask.Level0PerPixelX * mask.Width, mask.Level0PerPixelY * mask.Height, mask.Width, mask.Height, classes);
    }

    /// <summary>A mask on this geometry holding <paramref name="pixels"/> (all zero when null).</summary>
    public RasterMask CreateMask(byte[]? pixels = null)
    {
        Validate("map geometry");
        return new RasterMask(Width, Height, Level0PerPixelX, Level0PerPixelY, pixels, Level0X, Level0Y);
    }

    /// <summary>The JSON document (snake_case fields, indented).</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("level0_x", Level0X);
            w.WriteNumber("level0_y", Level0Y);
            w.WriteNumber("level0_width", Level0Width);
            w.WriteNumber("level0_height", Level0Height);
            w.WriteNumber("width", Width);
            w.WriteNumber("height", Height);
            w.WriteStartArray("classes");
            foreach (string c in Classes)
            {
                w.WriteStringValue(c);
            }

            w.WriteEndArray();
            if (ClassColors != null)
            {
                w.WriteStartArray("class_colors");
                foreach (string? color in ClassColors)
                {
                    if (color is null)
                    {
                        w.WriteNullValue();
                    }
                    else
                    {
                        w.WriteStringValue(color);
                    }
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Writes <c>geometry.json</c> atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");

    /// <summary>Reads a geometry file.</summary>
    /// <exception cref="MapGeometryException">Missing, not JSON, a field missing or out of range.</exception>
    public static MapGeometry Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json;
        try
        {
            json = InputFile.ReadAllText(path, MaxFileBytes, "a geometry file");
        }
        catch (InputFileException e)
        {
            throw new MapGeometryException(e.Message, e);
        }

        return Parse(json, path);
    }

    /// <summary>
    /// Parses the JSON document; <paramref name="name"/> is used in messages. <c>classes</c> (or <c>class_names</c>)
    /// holds names, or objects with a <c>name</c> and an optional <c>color</c>; colours (there or in
    /// <c>class_colors</c>) may be written in any form <see cref="ColorText"/> reads, and one that is not a colour gives
    /// none. <c>width</c> and <c>height</c> are whole numbers (<c>20</c> or <c>20.0</c>); trailing commas are accepted.
    /// </summary>
    /// <exception cref="MapGeometryException">Not JSON, a field missing or out of range.</exception>
    public static MapGeometry Parse(string json, string name = "geometry.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16, AllowTrailingCommas = true });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new MapGeometryException($"{name}: expected one JSON object");
            }

            // The colours of class_colors, then a class object's own colour in its place.
            var colors = root.TryGetProperty("class_colors", out var cc) && cc.ValueKind == JsonValueKind.Array
                ? cc.EnumerateArray().Select(ColorHex).ToList()
                : null;
            var classes = new List<string>();
            if (root.TryGetProperty("classes", out var c) || root.TryGetProperty("class_names", out c))
            {
                if (c.ValueKind != JsonValueKind.Array)
                {
                    throw new MapGeometryException($"{name}: \"classes\" must be an array of class names");
                }

                foreach (var item in c.EnumerateArray())
                {
                    string className = item.ValueKind switch
                    {
                        JsonValueKind.String => item.GetString()!,
                        JsonValueKind.Object when item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String => n.GetString()!,
                        _ => throw new MapGeometryException($"{name}: \"classes\" must be an array of class names (or objects with a \"name\")"),
                    };
                    if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("color", out var own) && ColorHex(own) is { } hex)
                    {
                        colors ??= [];
                        while (colors.Count <= classes.Count)
                        {
                            colors.Add(null);
                        }

                        colors[classes.Count] = hex;
                    }

                    classes.Add(className);
                }
            }

            var geometry = new MapGeometry(Number(root, "level0_x", name), Number(root, "level0_y", name),
                Number(root, "level0_width", name), Number(root, "level0_height", name),
                Integer(root, "width", name), Integer(root, "height", name), classes) { ClassColors = colors };
            geometry.Validate(name);
            return geometry;
        }
        catch (JsonException e)
        {
            throw new MapGeometryException($"{name}: not valid JSON ({InputFile.ParserDetail(e.Message)})", e);
        }
    }

    private static string? ColorHex(JsonElement value) => ColorText.Parse(value) is { } rgb ? ClassPalette.ToHex(rgb) : null;

    private void Validate(string name)
    {
        if (Width <= 0 || Height <= 0 || !(Level0Width > 0) || !(Level0Height > 0) || !double.IsFinite(Level0Width) || !double.IsFinite(Level0Height)
            || !double.IsFinite(Level0X) || !double.IsFinite(Level0Y))
        {
            throw new MapGeometryException(string.Create(CultureInfo.InvariantCulture,
                $"{name}: sizes must be positive and finite (width {Width}, height {Height}, level0_width {Level0Width}, level0_height {Level0Height})"));
        }

        if ((long)Width * Height > Slides.Slide.MaxRegionPixels)
        {
            throw new MapGeometryException(string.Create(CultureInfo.InvariantCulture,
                $"{name}: a map of {Width}x{Height} cells is larger than any map Histo writes (at most {Slides.Slide.MaxRegionPixels} cells)"));
        }
    }

    private static double Number(JsonElement root, string field, string name) =>
        root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d)
            ? d
            : throw new MapGeometryException($"{name}: missing number \"{field}\"");

    private static int Integer(JsonElement root, string field, string name) =>
        root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d)
            && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue
            ? (int)d
            : throw new MapGeometryException($"{name}: missing integer \"{field}\"");
}

/// <summary>A <c>geometry.json</c> that is missing, malformed or inconsistent with its map.</summary>
public sealed class MapGeometryException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public MapGeometryException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public MapGeometryException(string message, Exception inner) : base(message, inner) { }
}
