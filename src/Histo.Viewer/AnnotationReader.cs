using System.Text.Json;

namespace Histo.Viewer;

/// <summary>One polygon to draw: its label, colour and rings (outer ring first, then holes) in level-0 pixels.</summary>
/// <param name="Label">Class or label text.</param>
/// <param name="Color">Outline colour, <c>#rrggbb</c>.</param>
/// <param name="Rings">Each ring as x0, y0, x1, y1, ... in level-0 pixels.</param>
public sealed record AnnotationPolygon(string Label, string Color, IReadOnlyList<double[]> Rings);

/// <summary>A set of polygons read from one file.</summary>
/// <param name="Name">What the layer shows ("prediction" or "ground truth").</param>
/// <param name="Source">The file's name.</param>
/// <param name="Polygons">The polygons.</param>
/// <param name="Skipped">Geometries that were not polygons (points, lines) or had fewer than three vertices.</param>
public sealed record AnnotationLayer(string Name, string Source, IReadOnlyList<AnnotationPolygon> Polygons, int Skipped);

/// <summary>
/// Reads the prediction's GeoJSON for display, in level-0 pixels (QuPath FeatureCollection: Polygon and MultiPolygon,
/// holes as interior rings, <c>properties.classification.name/color</c>). Ground-truth annotation files beside a slide
/// (Aperio ImageScope XML, ASAP XML, GeoJSON) are read by the pipeline's reader (<see cref="Histo.Annotations.AnnotationReader"/>).
/// Deliberately minimal: display only, no label mapping or rasterisation.
/// </summary>
public static class AnnotationReader
{
    /// <summary>Most vertices read from one file; a larger file is refused rather than sent to a browser.</summary>
    public const int MaxVertices = 2_000_000;

    /// <summary>Most bytes read from one file.</summary>
    public const long MaxFileBytes = 256L * 1024 * 1024;

    /// <summary>Reads a GeoJSON FeatureCollection, Feature or bare geometry.</summary>
    public static AnnotationLayer ReadGeoJson(string path, string layerName)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = Path.GetFileName(path);
        long length = new FileInfo(path).Length;
        if (length > MaxFileBytes)
        {
            throw new PredictionFormatException($"{name} is {length} bytes, more than the {MaxFileBytes} an annotation file may have");
        }

        JsonDocument doc;
        try
        {
            using var stream = File.OpenRead(path);
            doc = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new PredictionFormatException($"{name}: not valid GeoJSON ({e.Message})", e);
        }

        using (doc)
        {
            var polygons = new List<AnnotationPolygon>();
            int skipped = 0, vertices = 0;
            IEnumerable<JsonElement> features = doc.RootElement switch
            {
                { ValueKind: JsonValueKind.Array } a => a.EnumerateArray(),
                var o when TypeOf(o) == "FeatureCollection" && o.TryGetProperty("features", out var f) && f.ValueKind == JsonValueKind.Array => f.EnumerateArray(),
                var o when o.ValueKind == JsonValueKind.Object => [o],
                _ => throw new PredictionFormatException($"{name}: expected a GeoJSON FeatureCollection"),
            };

            int index = 0;
            foreach (var feature in features)
            {
                var geometry = TypeOf(feature) == "Feature" ? (feature.TryGetProperty("geometry", out var g) ? g : default) : feature;
                var (label, color) = FeatureLabel(feature, index++);
                switch (TypeOf(geometry))
                {
                    case "Polygon":
                        AddPolygon(Coordinates(geometry, name), label, color, polygons, ref skipped, ref vertices, name);
                        break;
                    case "MultiPolygon":
                        foreach (var polygon in Coordinates(geometry, name).EnumerateArray())
                        {
                            AddPolygon(polygon, label, color, polygons, ref skipped, ref vertices, name);
                        }

                        break;
                    default:
                        skipped++;
                        break;
                }
            }

            return new AnnotationLayer(layerName, name, polygons, skipped);
        }
    }

    private static string? TypeOf(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;

    private static JsonElement Coordinates(JsonElement geometry, string name) =>
        geometry.TryGetProperty("coordinates", out var c) && c.ValueKind == JsonValueKind.Array
            ? c
            : throw new PredictionFormatException($"{name}: a {TypeOf(geometry)} without a coordinates array");

    private static (string Label, string? Color) FeatureLabel(JsonElement feature, int index)
    {
        if (feature.ValueKind != JsonValueKind.Object || !feature.TryGetProperty("properties", out var props) || props.ValueKind != JsonValueKind.Object)
        {
            return ("", null);
        }

        string label = "";
        string? color = null;
        if (props.TryGetProperty("classification", out var cls) && cls.ValueKind == JsonValueKind.Object)
        {
            label = cls.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() ?? "" : "";
            color = cls.TryGetProperty("color", out var c) ? ClassColors.Parse(c) : null;
        }
        else if (props.TryGetProperty("classification", out cls) && cls.ValueKind == JsonValueKind.String)
        {
            label = cls.GetString() ?? "";
        }

        if (label.Length == 0 && props.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String)
        {
            label = nm.GetString() ?? "";
        }

        return (label, color ?? ClassColors.Default(label, index));
    }

    private static void AddPolygon(JsonElement rings, string label, string? color, List<AnnotationPolygon> polygons, ref int skipped, ref int vertices, string name)
    {
        if (rings.ValueKind != JsonValueKind.Array)
        {
            throw new PredictionFormatException($"{name}: polygon coordinates must be an array of rings");
        }

        var result = new List<double[]>();
        foreach (var ring in rings.EnumerateArray())
        {
            if (ring.ValueKind != JsonValueKind.Array)
            {
                throw new PredictionFormatException($"{name}: a polygon ring must be an array of [x, y] positions");
            }

            var xy = new double[ring.GetArrayLength() * 2];
            int i = 0;
            foreach (var position in ring.EnumerateArray())
            {
                if (position.ValueKind != JsonValueKind.Array || position.GetArrayLength() < 2
                    || position[0].ValueKind != JsonValueKind.Number || position[1].ValueKind != JsonValueKind.Number
                    || !position[0].TryGetDouble(out double x) || !position[1].TryGetDouble(out double y) || !double.IsFinite(x) || !double.IsFinite(y))
                {
                    throw new PredictionFormatException($"{name}: a polygon position must be [x, y] numbers");
                }

                xy[i++] = x;
                xy[i++] = y;
            }

            vertices += xy.Length / 2;
            if (vertices > MaxVertices)
            {
                throw new PredictionFormatException($"{name}: more than {MaxVertices} vertices, too many to draw");
            }

            if (xy.Length >= 6)
            {
                result.Add(xy);
            }
        }

        if (result.Count == 0)
        {
            skipped++;
            return;
        }

        polygons.Add(new AnnotationPolygon(label, color ?? ClassColors.Default(label, polygons.Count), result));
    }
}
