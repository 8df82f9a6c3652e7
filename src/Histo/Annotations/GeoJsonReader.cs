using System.Globalization;
using System.Text.Json;

namespace Histo.Annotations;

/// <summary>
/// GeoJSON as QuPath writes it: a FeatureCollection (or a bare array of Features, or one Feature) whose Polygon and
/// MultiPolygon geometries hold level-0 pixel coordinates; the label is <c>properties.classification.name</c>
/// (else <c>properties.name</c>); <c>properties.measurements</c>, as QuPath writes it (an object of name → number, or
/// a list of <c>{"name", "value"}</c>), becomes <see cref="Annotation.Measurements"/>, and
/// <c>properties.classification.color</c> <see cref="Annotation.Color"/>. Points, lines and other geometries are
/// skipped with a warning.
/// </summary>
internal static class GeoJsonReader
{
    public static AnnotationSet Parse(byte[] content, string name, LabelMap labelMap)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(content, new JsonDocumentOptions { MaxDepth = 64, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new AnnotationFormatException(name, $"{name}: not valid JSON ({IO.InputFile.ParserDetail(e.Message)})", e);
        }

        using (doc)
        {
            var builder = new AnnotationBuilder(labelMap);
            var root = doc.RootElement;
            IEnumerable<JsonElement> features = root.ValueKind switch
            {
                JsonValueKind.Array => root.EnumerateArray(),
                JsonValueKind.Object when TypeOf(root) == "FeatureCollection" => root.TryGetProperty("features", out var f) && f.ValueKind == JsonValueKind.Array
                    ? f.EnumerateArray()
                    : throw new AnnotationFormatException(name, $"{name}: FeatureCollection without a \"features\" array"),
                JsonValueKind.Object when TypeOf(root) == "Feature" => [root],
                JsonValueKind.Object when TypeOf(root) is "Polygon" or "MultiPolygon" => [root],
                _ => throw new AnnotationFormatException(name,
                    $"{name}: JSON but not GeoJSON (expected a FeatureCollection, a Feature or an array of Features)"),
            };

            int index = 0;
            foreach (var feature in features)
            {
                index++;
                ReadFeature(feature, index, builder, name);
            }

            return builder.Build(AnnotationFormat.GeoJson, name, null);
        }
    }

    private static string? TypeOf(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;

    private static void ReadFeature(JsonElement feature, int index, AnnotationBuilder builder, string name)
    {
        if (feature.ValueKind != JsonValueKind.Object)
        {
            throw new AnnotationFormatException(name, $"{name}: feature {index} is not a JSON object");
        }

        JsonElement geometry = feature;
        string label = "";
        List<AnnotationMeasurement>? measurements = null;
        string? color = null;
        string id = string.Create(CultureInfo.InvariantCulture, $"feature {index}");
        if (TypeOf(feature) == "Feature")
        {
            if (feature.TryGetProperty("id", out var idElement) && idElement.ValueKind is JsonValueKind.String or JsonValueKind.Number)
            {
                id = $"feature {index} ({idElement})";
            }

            label = LabelOf(feature);
            measurements = MeasurementsOf(feature);
            color = ColorOf(feature);
            if (!feature.TryGetProperty("geometry", out geometry) || geometry.ValueKind != JsonValueKind.Object)
            {
                builder.Warn(AnnotationWarningKind.UnsupportedGeometry, id, $"{id} ('{label}') has no geometry: skipped");
                return;
            }
        }

        var polygons = new List<AnnotationPolygon>();
        AddGeometry(geometry, id, label, builder, polygons, name, depth: 0);
        builder.Add(id, label, polygons, null, measurements, color);
    }

    /// <summary>The colour of a Feature's classification (QuPath's <c>[r, g, b]</c> or packed integer, or <c>#rrggbb</c>), as <c>#rrggbb</c>.</summary>
    private static string? ColorOf(JsonElement feature) =>
        feature.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object
        && props.TryGetProperty("classification", out var c) && c.ValueKind == JsonValueKind.Object
        && c.TryGetProperty("color", out var color) && IO.ColorText.Parse(color) is { } rgb
            ? Bach.ClassPalette.ToHex(rgb)
            : null;

    /// <summary>The numeric measurements of a Feature (others are ignored).</summary>
    private static List<AnnotationMeasurement>? MeasurementsOf(JsonElement feature)
    {
        if (!feature.TryGetProperty("properties", out var props) || props.ValueKind != JsonValueKind.Object
            || !props.TryGetProperty("measurements", out var m))
        {
            return null;
        }

        var result = new List<AnnotationMeasurement>();
        if (m.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in m.EnumerateObject())
            {
                if (entry.Value.ValueKind == JsonValueKind.Number && entry.Value.TryGetDouble(out double v))
                {
                    result.Add(new AnnotationMeasurement(entry.Name, v));
                }
            }
        }
        else if (m.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in m.EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                    && entry.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double v))
                {
                    result.Add(new AnnotationMeasurement(n.GetString()!, v));
                }
            }
        }

        return result;
    }

    private static string LabelOf(JsonElement feature)
    {
        if (!feature.TryGetProperty("properties", out var props) || props.ValueKind != JsonValueKind.Object)
        {
            return "";
        }

        if (props.TryGetProperty("classification", out var c))
        {
            if (c.ValueKind == JsonValueKind.Object && c.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
            {
                return n.GetString()!.Trim();
            }

            if (c.ValueKind == JsonValueKind.String)
            {
                return c.GetString()!.Trim();
            }
        }

        foreach (string key in new[] { "name", "label", "class" })
        {
            if (props.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString()))
            {
                return v.GetString()!.Trim();
            }
        }

        return "";
    }

    private static void AddGeometry(JsonElement geometry, string id, string label, AnnotationBuilder builder, List<AnnotationPolygon> polygons, string name, int depth)
    {
        string? type = TypeOf(geometry);
        switch (type)
        {
            case "Polygon":
                if (ReadPolygon(Coordinates(geometry, id, name), id, label, builder, name) is { } p)
                {
                    polygons.Add(p);
                }

                break;
            case "MultiPolygon":
                var coordinates = Coordinates(geometry, id, name);
                foreach (var polygon in coordinates.EnumerateArray())
                {
                    if (ReadPolygon(polygon, id, label, builder, name) is { } q)
                    {
                        polygons.Add(q);
                    }
                }

                break;
            case "GeometryCollection" when depth < 4 && geometry.TryGetProperty("geometries", out var parts) && parts.ValueKind == JsonValueKind.Array:
                foreach (var part in parts.EnumerateArray())
                {
                    AddGeometry(part, id, label, builder, polygons, name, depth + 1);
                }

                break;
            default:
                builder.Warn(AnnotationWarningKind.UnsupportedGeometry, id, $"{id} ('{label}') is a {type ?? "geometry without type"}, not an area: skipped");
                break;
        }
    }

    private static JsonElement Coordinates(JsonElement geometry, string id, string name) =>
        geometry.TryGetProperty("coordinates", out var c) && c.ValueKind == JsonValueKind.Array
            ? c
            : throw new AnnotationFormatException(name, $"{name}: {id}: geometry without a \"coordinates\" array");

    private static AnnotationPolygon? ReadPolygon(JsonElement rings, string id, string label, AnnotationBuilder builder, string name)
    {
        if (rings.ValueKind != JsonValueKind.Array || rings.GetArrayLength() == 0)
        {
            builder.Warn(AnnotationWarningKind.TooFewVertices, id, $"{id} ('{label}'): polygon without rings: skipped");
            return null;
        }

        var all = rings.EnumerateArray().Select(r => ReadRing(r, id, name)).ToList();
        return builder.MakePolygon(id, label, all[0], all.Skip(1));
    }

    private static List<Level0Point> ReadRing(JsonElement ring, string id, string name)
    {
        if (ring.ValueKind != JsonValueKind.Array)
        {
            throw new AnnotationFormatException(name, $"{name}: {id}: a ring must be an array of [x, y] positions");
        }

        var points = new List<Level0Point>(ring.GetArrayLength());
        foreach (var position in ring.EnumerateArray())
        {
            if (position.ValueKind != JsonValueKind.Array || position.GetArrayLength() < 2)
            {
                throw new AnnotationFormatException(name, $"{name}: {id}: a position must be an array [x, y]");
            }

            // A non-number (for example the string "NaN") becomes NaN, which the builder reports.
            points.Add(new Level0Point(Number(position[0]), Number(position[1])));
        }

        return points;
    }

    private static double Number(JsonElement e) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double v) ? v : double.NaN;
}
