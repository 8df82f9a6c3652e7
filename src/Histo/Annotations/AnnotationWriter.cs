using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;
using Histo.Bach;
using Histo.IO;

namespace Histo.Annotations;

/// <summary>
/// Writes annotations as GeoJSON (for QuPath: a FeatureCollection of Polygon / MultiPolygon Features in level-0
/// pixels, holes as interior rings, a UUID-shaped <c>id</c> per Feature, <c>properties.objectType</c> "annotation",
/// <c>properties.classification</c> with <c>name</c> and <c>color</c> [r, g, b], and <c>properties.measurements</c>
/// as a name → number object when the annotation has <see cref="Annotation.Measurements"/>) or as ASAP XML. Files
/// are written atomically.
/// </summary>
public static class AnnotationWriter
{
    /// <summary>Writes GeoJSON or ASAP XML, chosen by the extension (.geojson / .json or .xml).</summary>
    public static void Save(string path, AnnotationSet set)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(set);
        string ext = Path.GetExtension(path).ToLowerInvariant();
        switch (ext)
        {
            case ".geojson" or ".json":
                SaveGeoJson(path, set.Annotations, set.LabelMap.ClassNames);
                break;
            case ".xml":
                SaveAsapXml(path, set.Annotations, set.LabelMap.ClassNames);
                break;
            default:
                throw new AnnotationFormatException(path, $"{path}: cannot tell the format from '{ext}'; use .geojson or .xml (ASAP)");
        }
    }

    /// <summary>
    /// Writes a GeoJSON FeatureCollection atomically; <paramref name="classNames"/> names class codes (BACH by default)
    /// and <paramref name="classColors"/> colours them (default: <see cref="ClassPalette.ColorOfLabel"/>).
    /// </summary>
    public static void SaveGeoJson(string path, IEnumerable<Annotation> annotations, IReadOnlyList<string>? classNames = null,
        IReadOnlyList<(byte R, byte G, byte B)>? classColors = null) =>
        AtomicFile.Write(path, stream => WriteGeoJson(stream, annotations, classNames, classColors));

    /// <summary>Writes a GeoJSON FeatureCollection to a stream (see <see cref="SaveGeoJson"/>).</summary>
    public static void WriteGeoJson(Stream stream, IEnumerable<Annotation> annotations, IReadOnlyList<string>? classNames = null,
        IReadOnlyList<(byte R, byte G, byte B)>? classColors = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(annotations);
        classNames ??= BachClasses.Names;
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        w.WriteStartObject();
        w.WriteString("type", "FeatureCollection");
        w.WriteStartArray("features");
        int index = 0;
        foreach (var a in annotations)
        {
            string className = ClassNameOf(a, classNames);
            w.WriteStartObject();
            w.WriteString("type", "Feature");
            w.WriteString("id", FeatureId(index++, className, a));
            w.WriteStartObject("geometry");
            w.WriteString("type", a.Polygons.Count == 1 ? "Polygon" : "MultiPolygon");
            w.WriteStartArray("coordinates");
            foreach (var polygon in a.Polygons)
            {
                if (a.Polygons.Count != 1)
                {
                    w.WriteStartArray();
                }

                WriteRing(w, polygon.Exterior);
                foreach (var hole in polygon.Holes)
                {
                    WriteRing(w, hole);
                }

                if (a.Polygons.Count != 1)
                {
                    w.WriteEndArray();
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("properties");
            w.WriteString("objectType", "annotation");
            if (a.Label.Length > 0 && !a.Label.Equals(className, StringComparison.Ordinal))
            {
                w.WriteString("name", a.Label);
            }

            w.WriteStartObject("classification");
            w.WriteString("name", className);
            var (r, g, b) = classColors != null && a.ClassCode is { } k && k >= 0 && k < classColors.Count ? classColors[k] : ClassPalette.ColorOfLabel(a.ClassCode, className);
            w.WriteStartArray("color");
            w.WriteNumberValue(r);
            w.WriteNumberValue(g);
            w.WriteNumberValue(b);
            w.WriteEndArray();
            w.WriteEndObject();
            if (a.Measurements.Any(m => double.IsFinite(m.Value)))
            {
                w.WriteStartObject("measurements");
                foreach (var m in a.Measurements.Where(m => double.IsFinite(m.Value)))
                {
                    w.WriteNumber(m.Name, m.Value);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// A Feature's id: QuPath reads it as a UUID, so it has that shape (RFC 9562 version 8, from a SHA-256 of the
    /// feature's position in the file, class, label and coordinates): the same file written twice has the same ids,
    /// and two features of one file never share one.
    /// </summary>
    internal static string FeatureId(int index, string className, Annotation a)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{index}\n{className}\n{a.Label}\n")));
        Span<byte> number = stackalloc byte[16];
        foreach (var polygon in a.Polygons)
        {
            foreach (var ring in polygon.Holes.Prepend(polygon.Exterior))
            {
                foreach (var p in ring)
                {
                    BitConverter.TryWriteBytes(number, Math.Round(p.X, 3));
                    BitConverter.TryWriteBytes(number[8..], Math.Round(p.Y, 3));
                    hash.AppendData(number);
                }

                hash.AppendData("|"u8);
            }
        }

        byte[] b = hash.GetHashAndReset();
        b[6] = (byte)((b[6] & 0x0F) | 0x80); // version 8 (custom)
        b[8] = (byte)((b[8] & 0x3F) | 0x80); // RFC variant
        string hex = Convert.ToHexStringLower(b, 0, 16);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";
    }

    private static void WriteRing(Utf8JsonWriter w, Level0Point[] ring)
    {
        w.WriteStartArray();
        foreach (var p in ring.Append(ring[0]))
        {
            w.WriteStartArray();
            w.WriteNumberValue(Math.Round(p.X, 3));
            w.WriteNumberValue(Math.Round(p.Y, 3));
            w.WriteEndArray();
        }

        w.WriteEndArray();
    }

    /// <summary>
    /// Writes ASAP XML atomically. ASAP polygons have no holes: each hole is written as a polygon of class 0
    /// (unannotated / Normal) named "... hole k", which the nested paint order (smaller regions last) reproduces.
    /// </summary>
    public static void SaveAsapXml(string path, IEnumerable<Annotation> annotations, IReadOnlyList<string>? classNames = null) =>
        AtomicFile.Write(path, stream => WriteAsapXml(stream, annotations, classNames));

    /// <summary>Writes ASAP XML to a stream (see <see cref="SaveAsapXml"/>).</summary>
    public static void WriteAsapXml(Stream stream, IEnumerable<Annotation> annotations, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(annotations);
        classNames ??= BachClasses.Names;
        var groups = new Dictionary<string, (int? Code, string Name)>(StringComparer.Ordinal);
        using var w = XmlWriter.Create(stream, new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) });
        w.WriteStartDocument();
        w.WriteStartElement("ASAP_Annotations");
        w.WriteStartElement("Annotations");
        int index = 0;
        foreach (var a in annotations)
        {
            string className = ClassNameOf(a, classNames);
            groups.TryAdd(className, (a.ClassCode, className));
            int part = 0;
            foreach (var polygon in a.Polygons)
            {
                string baseName = a.Id ?? string.Create(CultureInfo.InvariantCulture, $"Annotation {index}");
                string name = a.Polygons.Count == 1 ? baseName : string.Create(CultureInfo.InvariantCulture, $"{baseName} part {++part}");
                WriteAsapPolygon(w, name, className, a.ClassCode, polygon.Exterior);
                int h = 0;
                foreach (var hole in polygon.Holes)
                {
                    string holeClass = classNames.Count > 0 ? classNames[0] : "0";
                    groups.TryAdd(holeClass, (0, holeClass));
                    WriteAsapPolygon(w, string.Create(CultureInfo.InvariantCulture, $"{name} hole {++h}"), holeClass, 0, hole);
                }
            }

            index++;
        }

        w.WriteEndElement();
        w.WriteStartElement("AnnotationGroups");
        foreach (var (code, name) in groups.Values)
        {
            w.WriteStartElement("Group");
            w.WriteAttributeString("Name", name);
            w.WriteAttributeString("PartOfGroup", "None");
            w.WriteAttributeString("Color", HexColor(code, name));
            w.WriteStartElement("Attributes");
            w.WriteEndElement();
            w.WriteEndElement();
        }

        w.WriteEndElement();
        w.WriteEndElement();
        w.WriteEndDocument();
    }

    private static void WriteAsapPolygon(XmlWriter w, string name, string group, int? code, Level0Point[] ring)
    {
        w.WriteStartElement("Annotation");
        w.WriteAttributeString("Name", name);
        w.WriteAttributeString("Type", "Polygon");
        w.WriteAttributeString("PartOfGroup", group);
        w.WriteAttributeString("Color", HexColor(code, group));
        w.WriteStartElement("Coordinates");
        for (int i = 0; i < ring.Length; i++)
        {
            w.WriteStartElement("Coordinate");
            w.WriteAttributeString("Order", i.ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("X", Math.Round(ring[i].X, 3).ToString("R", CultureInfo.InvariantCulture));
            w.WriteAttributeString("Y", Math.Round(ring[i].Y, 3).ToString("R", CultureInfo.InvariantCulture));
            w.WriteEndElement();
        }

        w.WriteEndElement();
        w.WriteEndElement();
    }

    private static string HexColor(int? code, string name)
    {
        var (r, g, b) = ClassPalette.ColorOfLabel(code, name);
        return $"#{r:X2}{g:X2}{b:X2}";
    }

    private static string ClassNameOf(Annotation a, IReadOnlyList<string> classNames) => a.ClassCode switch
    {
        { } c when c >= 0 && c < classNames.Count => classNames[c],
        { } c => c.ToString(CultureInfo.InvariantCulture),
        null => a.Label,
    };
}
