using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Histo.Annotations;

/// <summary>
/// Reads annotation files: Aperio ImageScope XML, ASAP XML and GeoJSON, told apart by their content (not their
/// extension). Unreadable files throw <see cref="AnnotationFormatException"/>; recoverable problems (a ring with
/// fewer than 3 vertices, NaN or absurd coordinates, a self-intersecting ring, a point or line geometry) are repaired
/// or skipped and listed in <see cref="AnnotationSet.Warnings"/>; labels the map does not know stay in the set with a
/// null class and are listed by <see cref="AnnotationSet.UnknownLabels"/>.
/// XML is read without DTD processing or external resolution; files above <see cref="MaxFileBytes"/> are refused.
/// </summary>
public static class AnnotationReader
{
    /// <summary>Largest annotation file accepted (256 MiB).</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>Deepest element nesting accepted in XML (ImageScope and ASAP files nest 5 deep), as GeoJSON's 64.</summary>
    public const int MaxXmlDepth = 64;

    /// <summary>Reads a file and resolves its labels with <paramref name="labelMap"/> (BACH substrings by default).</summary>
    /// <exception cref="AnnotationFormatException">Missing, too large, malformed or of an unknown layout.</exception>
    public static AnnotationSet Read(string path, LabelMap? labelMap = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (IO.InputFile.KindOf(path) == IO.InputFileKind.Directory)
        {
            throw new AnnotationFormatException(path, $"{path} is a directory, not an annotation file");
        }

        byte[] bytes;
        try
        {
            bytes = IO.InputFile.ReadAllBytes(path, MaxFileBytes, "an annotation file");
        }
        catch (IO.InputFileException e)
        {
            throw new AnnotationFormatException(path, e.Message, e);
        }

        return Parse(bytes, path, labelMap);
    }

    /// <summary>Parses annotation file content; <paramref name="name"/> is used in messages.</summary>
    /// <exception cref="AnnotationFormatException">Malformed content or an unknown layout.</exception>
    public static AnnotationSet Parse(byte[] content, string name, LabelMap? labelMap = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(name);
        labelMap ??= LabelMap.Bach;
        if (content.LongLength > MaxFileBytes)
        {
            throw new AnnotationFormatException(name, $"{name}: larger than the {MaxFileBytes >> 20} MiB annotation files may have");
        }

        // QuPath and ASAP write UTF-8, some Windows tools add a byte-order mark or write UTF-16: JSON is parsed from
        // UTF-8 without a mark; XML from the original bytes (its reader follows the mark and the declaration).
        byte[] text = TextBytes(content);
        return SniffSyntax(text) switch
        {
            '<' => ParseXml(content, name, labelMap),
            '{' or '[' => GeoJsonReader.Parse(text, name, labelMap),
            _ when content.Length == 0 || SniffSyntax(text) == '\0' => throw new AnnotationFormatException(name, $"{name}: empty file, no annotations"),
            _ => throw new AnnotationFormatException(name,
                $"{name}: not an annotation file (expected Aperio or ASAP XML, or GeoJSON){(Imaging.ImageSignature.Detect(content) is not null ? "; it looks like an image" : "")}"),
        };
    }

    /// <summary>
    /// The content as UTF-8 without a byte-order mark: UTF-8 and UTF-16 with a mark are recognised by it, UTF-16
    /// without one by a zero byte beside the first character.
    /// </summary>
    private static byte[] TextBytes(byte[] content)
    {
        if (content.Length >= 2 && content[0] != 0 && content[1] == 0)
        {
            return Encoding.UTF8.GetBytes(Encoding.Unicode.GetString(content));
        }

        if (content.Length >= 2 && content[0] == 0 && content[1] != 0)
        {
            return Encoding.UTF8.GetBytes(Encoding.BigEndianUnicode.GetString(content));
        }

        return IO.InputFile.Utf8Bytes(content, out _);
    }

    /// <summary>
    /// The format of annotation content judged by its first bytes and, for XML, its root element; null when the
    /// content is neither (an image, say, or an XML file of another kind).
    /// </summary>
    public static AnnotationFormat? DetectFormat(byte[] content)
    {
        ArgumentNullException.ThrowIfNull(content);
        switch (SniffSyntax(TextBytes(content)))
        {
            case '{' or '[':
                return AnnotationFormat.GeoJson;
            case '<':
                try
                {
                    using var reader = XmlReader.Create(new MemoryStream(content), SafeXmlSettings);
                    reader.MoveToContent();
                    return RootFormat(reader.LocalName);
                }
                catch (XmlException)
                {
                    return null;
                }

            default:
                return null;
        }
    }

    internal static XmlReaderSettings SafeXmlSettings => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = MaxFileBytes,
        MaxCharactersFromEntities = 1024,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = true,
        CloseInput = true,
    };

    private static AnnotationFormat? RootFormat(string root) => root switch
    {
        "Annotations" => AnnotationFormat.AperioXml,
        "ASAP_Annotations" => AnnotationFormat.AsapXml,
        _ => null,
    };

    private static char SniffSyntax(ReadOnlySpan<byte> content)
    {
        foreach (byte b in content)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            return b < 128 ? (char)b : '?';
        }

        return '\0';
    }

    private static AnnotationSet ParseXml(byte[] content, string name, LabelMap labelMap)
    {
        if (DetectFormat(content) == AnnotationFormat.AperioXml)
        {
            return ReadAperio(content, name, labelMap);
        }

        XDocument doc;
        try
        {
            CheckDepth(content, name);
            using var reader = XmlReader.Create(new MemoryStream(content), SafeXmlSettings);
            doc = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException e)
        {
            string why = e.Message.Contains("DTD", StringComparison.OrdinalIgnoreCase)
                ? "contains a DTD, which is not accepted in annotation files"
                : $"is not well-formed XML ({IO.InputFile.ParserDetail(e.Message)})";
            throw new AnnotationFormatException(name, $"{name}: {why}", e);
        }

        var root = doc.Root ?? throw new AnnotationFormatException(name, $"{name}: XML without a root element");
        return RootFormat(root.Name.LocalName) switch
        {
            AnnotationFormat.AsapXml => ReadAsap(root, name, labelMap),
            _ => throw new AnnotationFormatException(name,
                $"{name}: XML root <{root.Name.LocalName}> is neither Aperio ImageScope <Annotations> nor ASAP <ASAP_Annotations>"),
        };
    }

    /// <summary>
    /// Streams ImageScope XML (files reach megabytes: A08 holds 30,000 vertices). Regions are taken wherever they
    /// are nested; RegionAttributeHeaders holds no Region and is passed over.
    /// </summary>
    private static AnnotationSet ReadAperio(byte[] content, string name, LabelMap labelMap)
    {
        var builder = new AnnotationBuilder(labelMap);
        double? mpp = null;
        int layers = 0;
        string layerName = "";
        var layerValues = new List<string?>();
        var open = new Stack<AperioRegion>();
        try
        {
            using var reader = XmlReader.Create(new MemoryStream(content), SafeXmlSettings);
            reader.MoveToContent();
            mpp = TryParseDouble(reader.GetAttribute("MicronsPerPixel"), out double m) && m > 0 ? m : null;
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.Element)
                {
                    ThrowIfTooDeep(reader, name);
                    switch (reader.LocalName)
                    {
                        case "Annotation":
                            layers++;
                            layerName = reader.GetAttribute("Name") ?? "";
                            layerValues.Clear();
                            break;
                        case "Attribute":
                            (open.Count > 0 ? open.Peek().Values : layerValues).Add(reader.GetAttribute("Value"));
                            break;
                        case "Region":
                            var region = new AperioRegion(reader.GetAttribute("Id") ?? $"#{builder.Count + open.Count + 1}", reader.GetAttribute("Text"),
                                reader.GetAttribute("Type"), reader.GetAttribute("NegativeROA") == "1");
                            if (reader.IsEmptyElement)
                            {
                                AddAperioRegion(builder, region, layerValues, layerName);
                            }
                            else
                            {
                                open.Push(region);
                            }

                            break;
                        case "Vertex" when open.Count > 0:
                            string? xs = reader.GetAttribute("X"), ys = reader.GetAttribute("Y");
                            if (xs is null || ys is null)
                            {
                                throw new AnnotationFormatException(name,
                                    $"{name}: <Vertex> without X or Y attribute at line {((IXmlLineInfo)reader).LineNumber}");
                            }

                            // Unparseable numbers become NaN and are reported (and the polygon dropped) by the builder.
                            open.Peek().Vertices.Add(new Level0Point(TryParseDouble(xs, out double x) ? x : double.NaN, TryParseDouble(ys, out double y) ? y : double.NaN));
                            break;
                    }
                }
                else if (reader.NodeType == XmlNodeType.EndElement && reader.LocalName == "Region" && open.Count > 0)
                {
                    AddAperioRegion(builder, open.Pop(), layerValues, layerName);
                }
            }
        }
        catch (XmlException e)
        {
            throw new AnnotationFormatException(name, $"{name}: is not well-formed XML ({IO.InputFile.ParserDetail(e.Message)})", e);
        }

        if (layers == 0)
        {
            throw new AnnotationFormatException(name, $"{name}: Aperio XML without any <Annotation> element");
        }

        return builder.Build(AnnotationFormat.AperioXml, name, mpp);
    }

    /// <summary>Streams through the XML once and refuses nesting deeper than <see cref="MaxXmlDepth"/> before a tree is built.</summary>
    private static void CheckDepth(byte[] content, string name)
    {
        using var reader = XmlReader.Create(new MemoryStream(content), SafeXmlSettings);
        while (reader.Read())
        {
            if (reader.NodeType == XmlNodeType.Element)
            {
                ThrowIfTooDeep(reader, name);
            }
        }
    }

    private static void ThrowIfTooDeep(XmlReader reader, string name)
    {
        if (reader.Depth >= MaxXmlDepth)
        {
            throw new AnnotationFormatException(name, string.Create(CultureInfo.InvariantCulture,
                $"{name}: elements nested more than {MaxXmlDepth} deep at line {((IXmlLineInfo)reader).LineNumber} (annotation files nest a few levels)"));
        }
    }

    private sealed record AperioRegion(string Id, string? Text, string? Type, bool Negative)
    {
        public List<Level0Point> Vertices { get; } = [];

        public List<string?> Values { get; } = [];
    }

    /// <summary>
    /// The label is Region@Text, else the first non-empty Region/Attributes/Attribute@Value (BACH's A01.xml), else the
    /// layer's attribute values, else the layer's name.
    /// </summary>
    private static void AddAperioRegion(AnnotationBuilder builder, AperioRegion region, List<string?> layerValues, string layerName)
    {
        string label = FirstNonEmpty(new[] { region.Text }.Concat(region.Values).Concat(layerValues).Append(layerName));
        var vertices = region.Vertices;

        // ImageScope stores an ellipse (Type 2) as the two corners of its bounding box.
        if (region.Type == "2" && vertices.Count == 2)
        {
            vertices = [.. PolygonGeometry.Ellipse(vertices[0], vertices[1])];
        }

        int? forced = null;
        if (region.Negative)
        {
            forced = 0;
            builder.Warn(AnnotationWarningKind.NegativeRegion, region.Id,
                $"region {region.Id} ('{label}') is a negative region (NegativeROA=1): painted as unannotated (class 0)");
        }

        builder.AddSingle(region.Id, label, vertices, [], forced);
    }

    private static string FirstNonEmpty(IEnumerable<string?> candidates) =>
        candidates.FirstOrDefault(s => !string.IsNullOrWhiteSpace(s))?.Trim() ?? "";

    private static AnnotationSet ReadAsap(XElement root, string name, LabelMap labelMap)
    {
        var builder = new AnnotationBuilder(labelMap);
        foreach (var a in root.Elements("Annotations").Elements("Annotation"))
        {
            string id = (string?)a.Attribute("Name") ?? $"#{builder.Count + 1}";
            string group = ((string?)a.Attribute("PartOfGroup"))?.Trim() ?? "";
            string label = group.Length > 0 && !group.Equals("None", StringComparison.OrdinalIgnoreCase) ? group : id;
            string type = (string?)a.Attribute("Type") ?? "Polygon";
            var coordinates = a.Elements("Coordinates").Elements("Coordinate")
                .Select((c, index) => (Order: TryParseDouble((string?)c.Attribute("Order"), out double o) ? o : index, Point: ReadPoint(c, name)))
                .OrderBy(c => c.Order)
                .Select(c => c.Point)
                .ToList();
            if (type is "Dot" or "PointSet" or "Measurement" or "Arrow")
            {
                builder.Warn(AnnotationWarningKind.UnsupportedGeometry, id, $"annotation {id} ('{label}') is a {type}, not an area: skipped");
                continue;
            }

            builder.AddSingle(id, label, coordinates, [], null);
        }

        return builder.Build(AnnotationFormat.AsapXml, name, null);
    }

    private static Level0Point ReadPoint(XElement e, string name)
    {
        string? xs = (string?)e.Attribute("X"), ys = (string?)e.Attribute("Y");
        if (xs is null || ys is null)
        {
            var line = (IXmlLineInfo)e;
            throw new AnnotationFormatException(name, $"{name}: <{e.Name.LocalName}> without X or Y attribute at line {line.LineNumber}");
        }

        // Unparseable numbers become NaN and are reported (and the polygon dropped) by the builder.
        return new Level0Point(TryParseDouble(xs, out double x) ? x : double.NaN, TryParseDouble(ys, out double y) ? y : double.NaN);
    }

    /// <summary>Invariant-culture number; a lone decimal comma (as some ASAP versions wrote) is accepted too.</summary>
    internal static bool TryParseDouble(string? s, out double value)
    {
        value = double.NaN;
        if (string.IsNullOrWhiteSpace(s))
        {
            return false;
        }

        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        return s.Count(c => c == ',') == 1 && !s.Contains('.', StringComparison.Ordinal)
            && double.TryParse(s.Replace(',', '.'), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}

/// <summary>Validates raw rings into polygons and collects annotations and warnings for one file.</summary>
internal sealed class AnnotationBuilder(LabelMap labelMap)
{
    private readonly List<Annotation> _annotations = [];
    private readonly List<AnnotationWarning> _warnings = [];
    private int _seen;

    /// <summary>Objects seen so far (kept or not).</summary>
    public int Count => _seen;

    public void Warn(AnnotationWarningKind kind, string? id, string message) => _warnings.Add(new AnnotationWarning(kind, id, message));

    /// <summary>Adds one object made of one polygon.</summary>
    public void AddSingle(string id, string label, IReadOnlyList<Level0Point> exterior, IReadOnlyList<IReadOnlyList<Level0Point>> holes, int? forcedCode)
    {
        var polygon = MakePolygon(id, label, exterior, holes);
        Add(id, label, polygon is null ? [] : [polygon], forcedCode);
    }

    /// <summary>Adds one object; with no valid polygon it is counted but not kept (the reason is already a warning).</summary>
    public void Add(string id, string label, List<AnnotationPolygon> polygons, int? forcedCode, IReadOnlyList<AnnotationMeasurement>? measurements = null, string? color = null)
    {
        _seen++;
        if (polygons.Count > 0)
        {
            _annotations.Add(new Annotation(label, forcedCode ?? labelMap.Resolve(label), polygons, id) { Measurements = measurements ?? [], Color = color });
        }
    }

    /// <summary>A validated polygon, or null (with a warning) when its exterior is unusable.</summary>
    public AnnotationPolygon? MakePolygon(string id, string label, IReadOnlyList<Level0Point> exterior, IEnumerable<IReadOnlyList<Level0Point>> holes)
    {
        string what = $"region {id} ('{label}')";
        var ring = CheckRing(what, id, exterior, "");
        if (ring is null)
        {
            return null;
        }

        var goodHoles = new List<Level0Point[]>();
        int h = 0;
        foreach (var hole in holes)
        {
            h++;
            if (CheckRing(what, id, hole, $" hole {h}") is { } good)
            {
                goodHoles.Add(good);
            }
        }

        return new AnnotationPolygon(ring, goodHoles);
    }

    private Level0Point[]? CheckRing(string what, string id, IReadOnlyList<Level0Point> raw, string part)
    {
        if (!PolygonGeometry.HasSaneCoordinates(raw))
        {
            Warn(AnnotationWarningKind.InvalidCoordinates, id,
                $"{what}{part}: non-numeric, NaN or absurd coordinates (beyond ±{PolygonGeometry.MaxAbsCoordinate:0e0} px): skipped");
            return null;
        }

        var ring = PolygonGeometry.OpenRing(raw);
        if (ring.Length < 3)
        {
            Warn(AnnotationWarningKind.TooFewVertices, id, $"{what}{part}: {ring.Length} distinct vertices, a polygon needs 3: skipped");
            return null;
        }

        int crossings = PolygonGeometry.CountSelfIntersections(ring);
        if (crossings > 0)
        {
            Warn(AnnotationWarningKind.SelfIntersection, id,
                $"{what}{part} crosses itself ({crossings}{(crossings >= 1000 ? "+" : "")} crossing edge pairs): kept, filled with the even-odd rule");
        }

        return ring;
    }

    public AnnotationSet Build(AnnotationFormat format, string source, double? mpp) =>
        new(_annotations.ToArray(), labelMap, format, source, _warnings.ToArray(), mpp);
}
