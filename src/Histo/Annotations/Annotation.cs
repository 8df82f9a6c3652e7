namespace Histo.Annotations;

/// <summary>A point in level-0 pixel coordinates of a slide (x to the right, y down).</summary>
public readonly record struct Level0Point(double X, double Y);

/// <summary>
/// One polygon: an exterior ring and zero or more holes, in level-0 pixels. Rings are stored open (the first vertex
/// is not repeated at the end) and hold at least three distinct vertices.
/// </summary>
public sealed class AnnotationPolygon
{
    /// <summary>Creates a polygon; rings are copied and need not be closed.</summary>
    public AnnotationPolygon(IReadOnlyList<Level0Point> exterior, IReadOnlyList<IReadOnlyList<Level0Point>>? holes = null)
    {
        ArgumentNullException.ThrowIfNull(exterior);
        Exterior = PolygonGeometry.OpenRing(exterior);
        Holes = (holes ?? []).Select(PolygonGeometry.OpenRing).ToArray();
        if (Exterior.Length < 3)
        {
            throw new ArgumentException("a polygon's exterior ring needs at least 3 vertices", nameof(exterior));
        }

        if (Holes.Any(h => h.Length < 3))
        {
            throw new ArgumentException("a hole needs at least 3 vertices", nameof(holes));
        }
    }

    /// <summary>The outer boundary.</summary>
    public Level0Point[] Exterior { get; }

    /// <summary>Holes cut out of the exterior.</summary>
    public IReadOnlyList<Level0Point[]> Holes { get; }

    /// <summary>Area enclosed by the exterior ring in level-0 pixels² (holes not subtracted).</summary>
    public double ExteriorAreaLevel0 => Math.Abs(PolygonGeometry.SignedArea(Exterior));

    /// <summary>Area of the exterior minus the holes, in level-0 pixels².</summary>
    public double AreaLevel0 => ExteriorAreaLevel0 - Holes.Sum(h => Math.Abs(PolygonGeometry.SignedArea(h)));

    /// <summary>Number of vertices over all rings.</summary>
    public int VertexCount => Exterior.Length + Holes.Sum(h => h.Length);

    /// <summary>Bounding box of the exterior in level-0 pixels.</summary>
    public (double MinX, double MinY, double MaxX, double MaxY) Bounds => PolygonGeometry.Bounds(Exterior);
}

/// <summary>
/// One annotated object: its label text as written in the file, the class it resolves to (null when the label map
/// does not know the text), and one or more polygons (several for a GeoJSON MultiPolygon).
/// </summary>
/// <param name="Label">Label text as found in the file (may be empty).</param>
/// <param name="ClassCode">Resolved class value (BACH code 0..3 by default), or null for an unknown label.</param>
/// <param name="Polygons">The geometry, level-0 pixels.</param>
/// <param name="Id">The identifier in the source file (Aperio Region Id, ASAP Name, GeoJSON id), for messages.</param>
public sealed record Annotation(string Label, int? ClassCode, IReadOnlyList<AnnotationPolygon> Polygons, string? Id = null)
{
    /// <summary>Number of vertices over all polygons.</summary>
    public int VertexCount => Polygons.Sum(p => p.VertexCount);

    /// <summary>
    /// Named figures of the object (QuPath's measurement list: GeoJSON <c>properties.measurements</c>), e.g. its
    /// area in µm² and mean class probability; empty when none.
    /// </summary>
    public IReadOnlyList<AnnotationMeasurement> Measurements { get; init; } = [];

    /// <summary>
    /// The display colour the file gives the object (GeoJSON <c>properties.classification.color</c>, as QuPath writes
    /// it), <c>#rrggbb</c>; null when it gives none.
    /// </summary>
    public string? Color { get; init; }
}

/// <summary>One named figure of an annotation, as QuPath's measurement list holds it.</summary>
/// <param name="Name">Measurement name, with its unit (e.g. <c>Area µm^2</c>).</param>
/// <param name="Value">Its value.</param>
public readonly record struct AnnotationMeasurement(string Name, double Value);

/// <summary>The file formats Histo reads and writes.</summary>
public enum AnnotationFormat
{
    /// <summary>Aperio ImageScope XML (<c>&lt;Annotations&gt;/Annotation/Regions/Region/Vertices/Vertex</c>).</summary>
    AperioXml,

    /// <summary>ASAP XML as used by CAMELYON (<c>&lt;ASAP_Annotations&gt;</c>).</summary>
    AsapXml,

    /// <summary>GeoJSON as QuPath writes it (FeatureCollection of Polygon / MultiPolygon features).</summary>
    GeoJson,
}

/// <summary>What kind of recoverable problem a reader or a clip met.</summary>
public enum AnnotationWarningKind
{
    /// <summary>A ring with fewer than 3 distinct vertices; dropped.</summary>
    TooFewVertices,

    /// <summary>A non-finite (NaN, infinity) or absurdly large coordinate; the polygon was dropped.</summary>
    InvalidCoordinates,

    /// <summary>A ring crosses itself; kept and filled with the even-odd rule.</summary>
    SelfIntersection,

    /// <summary>A polygon reaches outside the slide (or area) and was clipped, or lies wholly outside and was dropped.</summary>
    OutsideBounds,

    /// <summary>A geometry that is not an area (point, line, arrow) or not supported; skipped.</summary>
    UnsupportedGeometry,

    /// <summary>An Aperio negative region (NegativeROA="1"): read as unannotated (class 0).</summary>
    NegativeRegion,
}

/// <summary>A recoverable problem in an annotation file; the data was repaired or skipped as the message says.</summary>
/// <param name="Kind">The category.</param>
/// <param name="AnnotationId">Identifier of the region concerned, when known.</param>
/// <param name="Message">One line for a user.</param>
public sealed record AnnotationWarning(AnnotationWarningKind Kind, string? AnnotationId, string Message)
{
    /// <inheritdoc />
    public override string ToString() => Message;

    /// <summary>This problem as a pipeline warning (<see cref="WarningCode.Annotation"/>, the same message).</summary>
    public HistoWarning ToWarning() => new(WarningCode.Annotation, Message);
}

/// <summary>A label text and how many annotations carry it.</summary>
public sealed record LabelCount(string Label, int Count);

/// <summary>
/// The annotations of one file with the label map used to resolve their classes and the problems met while reading.
/// </summary>
public sealed class AnnotationSet
{
    /// <summary>Creates a set.</summary>
    public AnnotationSet(IReadOnlyList<Annotation> annotations, LabelMap labelMap, AnnotationFormat format, string source,
        IReadOnlyList<AnnotationWarning>? warnings = null, double? mpp = null)
    {
        ArgumentNullException.ThrowIfNull(annotations);
        ArgumentNullException.ThrowIfNull(labelMap);
        (Annotations, LabelMap, Format, Source, Warnings, Mpp) = (annotations, labelMap, format, source, warnings ?? [], mpp);
    }

    /// <summary>The annotations in file order (unreadable ones are left out and reported in <see cref="Warnings"/>).</summary>
    public IReadOnlyList<Annotation> Annotations { get; }

    /// <summary>How label texts were resolved to classes; also names the classes.</summary>
    public LabelMap LabelMap { get; }

    /// <summary>The format the file was read from.</summary>
    public AnnotationFormat Format { get; }

    /// <summary>The file path or name, for messages.</summary>
    public string Source { get; }

    /// <summary>Recoverable problems: repaired or skipped data.</summary>
    public IReadOnlyList<AnnotationWarning> Warnings { get; }

    /// <summary>Micrometres per level-0 pixel stated in the file (Aperio <c>MicronsPerPixel</c>), if any.</summary>
    public double? Mpp { get; }

    /// <summary>Label texts the label map does not know, with how many annotations carry each, most frequent first.</summary>
    public IReadOnlyList<LabelCount> UnknownLabels => Annotations.Where(a => a.ClassCode is null)
        .GroupBy(a => a.Label, StringComparer.Ordinal)
        .Select(g => new LabelCount(g.Key, g.Count()))
        .OrderByDescending(c => c.Count).ThenBy(c => c.Label, StringComparer.Ordinal)
        .ToArray();

    /// <summary>Annotations whose label resolved to a class.</summary>
    public IEnumerable<Annotation> Classified => Annotations.Where(a => a.ClassCode is not null);

    /// <summary>The same annotations with their classes resolved again through another label map.</summary>
    public AnnotationSet WithLabelMap(LabelMap labelMap)
    {
        ArgumentNullException.ThrowIfNull(labelMap);
        var relabelled = Annotations.Select(a => a with { ClassCode = labelMap.Resolve(a.Label) }).ToArray();
        return new AnnotationSet(relabelled, labelMap, Format, Source, Warnings, Mpp);
    }

    /// <summary>
    /// Clips every polygon to a level-0 rectangle (for example the slide: 0, 0, width, height). Polygons reaching
    /// outside are clipped and polygons wholly outside are dropped, each with an <see cref="AnnotationWarningKind.OutsideBounds"/>
    /// warning added to the result's <see cref="Warnings"/>.
    /// </summary>
    public AnnotationSet ClipTo(double level0X, double level0Y, double level0Width, double level0Height, string areaName = "the slide")
    {
        double x1 = level0X + level0Width, y1 = level0Y + level0Height;
        var warnings = Warnings.ToList();
        var kept = new List<Annotation>(Annotations.Count);
        foreach (var a in Annotations)
        {
            var polygons = new List<AnnotationPolygon>(a.Polygons.Count);
            bool clipped = false;
            foreach (var p in a.Polygons)
            {
                var (minX, minY, maxX, maxY) = p.Bounds;
                if (minX >= level0X && minY >= level0Y && maxX <= x1 && maxY <= y1)
                {
                    polygons.Add(p);
                    continue;
                }

                clipped = true;
                var exterior = PolygonGeometry.ClipRing(p.Exterior, level0X, level0Y, x1, y1);
                if (exterior.Length < 3 || Math.Abs(PolygonGeometry.SignedArea(exterior)) <= 0)
                {
                    continue;
                }

                var holes = p.Holes.Select(h => PolygonGeometry.ClipRing(h, level0X, level0Y, x1, y1))
                    .Where(h => h.Length >= 3 && Math.Abs(PolygonGeometry.SignedArea(h)) > 0).ToArray();
                polygons.Add(new AnnotationPolygon(exterior, holes));
            }

            string name = Describe(a);
            string area = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{areaName} (level-0 x {level0X:0.#}..{x1:0.#}, y {level0Y:0.#}..{y1:0.#})");
            if (polygons.Count == 0)
            {
                warnings.Add(new AnnotationWarning(AnnotationWarningKind.OutsideBounds, a.Id, $"{name} lies entirely outside {area}: dropped"));
                continue;
            }

            if (clipped)
            {
                warnings.Add(new AnnotationWarning(AnnotationWarningKind.OutsideBounds, a.Id, $"{name} reaches outside {area}: clipped"));
            }

            kept.Add(polygons.Count == a.Polygons.Count && !clipped ? a : a with { Polygons = polygons });
        }

        return new AnnotationSet(kept, LabelMap, Format, Source, warnings, Mpp);
    }

    internal static string Describe(Annotation a) =>
        a.Id is null ? $"annotation '{a.Label}'" : $"region {a.Id} ('{a.Label}')";
}
