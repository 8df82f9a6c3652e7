using Histo.IO;
using CoreAnnotations = Histo.Annotations;

namespace Histo.Viewer;

/// <summary>One polygon as the browser draws it: its label, colour and rings (outer ring first, then holes) in level-0 pixels.</summary>
/// <param name="Label">Class or label text.</param>
/// <param name="Color">Outline colour, <c>#rrggbb</c>.</param>
/// <param name="Rings">Each ring as x0, y0, x1, y1, ... in level-0 pixels.</param>
public sealed record LayerPolygon(string Label, string Color, IReadOnlyList<double[]> Rings);

/// <summary>A set of polygons read from one file.</summary>
/// <param name="Name">What the layer shows ("prediction" or "ground truth").</param>
/// <param name="Source">The file's name.</param>
/// <param name="Polygons">The polygons.</param>
/// <param name="Skipped">Geometries that were not polygons (points, lines) or had fewer than three vertices.</param>
public sealed record AnnotationLayer(string Name, string Source, IReadOnlyList<LayerPolygon> Polygons, int Skipped);

/// <summary>
/// Annotation files as polygon layers for the browser. Every file is read by the pipeline's reader
/// (<see cref="CoreAnnotations.AnnotationReader"/>, which tells the format by content); this class only gives the
/// polygons their label and colour and bounds what is sent.
/// </summary>
public static class AnnotationLayers
{
    /// <summary>Most vertices in the prediction's layer; a larger file is refused rather than sent to a browser.</summary>
    public const int MaxVertices = 2_000_000;

    /// <summary>
    /// The prediction's GeoJSON (QuPath FeatureCollection: Polygon and MultiPolygon, holes as interior rings) as a layer
    /// named <paramref name="layerName"/>: each object under its label as written, in its
    /// <c>classification.color</c> (else the palette's colour for the label). Coordinates that are not numbers (or
    /// are absurd) make the file unusable rather than silently incomplete.
    /// </summary>
    /// <exception cref="PredictionFormatException">Unreadable, malformed, bad coordinates, or more than <see cref="MaxVertices"/> vertices.</exception>
    public static AnnotationLayer FromGeoJson(string path, string layerName)
    {
        var set = ReadPrediction(path);
        string name = set.Source;
        if (set.Warnings.FirstOrDefault(w => w.Kind == CoreAnnotations.AnnotationWarningKind.InvalidCoordinates) is { } bad)
        {
            throw new PredictionFormatException($"{name}: {bad.Message}");
        }

        if (set.Annotations.Sum(a => (long)a.VertexCount) > MaxVertices)
        {
            throw new PredictionFormatException($"{name}: more than {MaxVertices} vertices, too many to draw");
        }

        var polygons = new List<LayerPolygon>();
        for (int i = 0; i < set.Annotations.Count; i++)
        {
            var annotation = set.Annotations[i];
            AddPolygons(polygons, annotation, annotation.Label, annotation.Color ?? ClassColors.Default(annotation.Label, i));
        }

        return new AnnotationLayer(layerName, name, polygons, Skipped(set));
    }

    /// <summary>
    /// A ground-truth annotation file (Aperio ImageScope XML, ASAP XML, GeoJSON) as the "ground truth" layer, read with
    /// the BACH label map: classified regions under their class name, others under their own label, in the
    /// prediction's colour for a name in <paramref name="predictionColors"/>, else the palette's.
    /// </summary>
    /// <exception cref="CoreAnnotations.AnnotationFormatException">The file cannot be read.</exception>
    public static AnnotationLayer FromTruthFile(string path, IReadOnlyDictionary<string, string> predictionColors)
    {
        ArgumentNullException.ThrowIfNull(predictionColors);
        var set = CoreAnnotations.AnnotationReader.Read(path, CoreAnnotations.LabelMap.Bach);
        var polygons = new List<LayerPolygon>();
        foreach (var annotation in set.Annotations)
        {
            string label = annotation.ClassCode is { } code ? set.LabelMap.ClassName(code) : annotation.Label;
            string color = predictionColors.TryGetValue(label, out var c) ? c : ClassColors.Default(label, annotation.ClassCode ?? polygons.Count);
            AddPolygons(polygons, annotation, label, color);
        }

        return new AnnotationLayer("ground truth", Path.GetFileName(path), polygons, Skipped(set));
    }

    /// <summary>The colours the prediction's GeoJSON gives its classes (QuPath's classification colours), by label; the first colour of a label wins.</summary>
    /// <exception cref="PredictionFormatException">The file cannot be read.</exception>
    public static Dictionary<string, string> ColorsByLabel(string path)
    {
        var colors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var annotation in ReadPrediction(path).Annotations)
        {
            if (annotation.Color is { } color)
            {
                colors.TryAdd(annotation.Label, color);
            }
        }

        return colors;
    }

    /// <summary>Reads the prediction's file; messages name it by its file name.</summary>
    private static CoreAnnotations.AnnotationSet ReadPrediction(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            byte[] bytes = InputFile.ReadAllBytes(path, CoreAnnotations.AnnotationReader.MaxFileBytes, "an annotation file");
            return CoreAnnotations.AnnotationReader.Parse(bytes, Path.GetFileName(path));
        }
        catch (Exception e) when (e is InputFileException or CoreAnnotations.AnnotationFormatException)
        {
            throw new PredictionFormatException(e.Message, e);
        }
    }

    /// <summary>Objects left out: not areas (points, lines), fewer than three vertices, unusable coordinates.</summary>
    private static int Skipped(CoreAnnotations.AnnotationSet set) =>
        set.Warnings.Count(w => w.Kind is CoreAnnotations.AnnotationWarningKind.TooFewVertices or CoreAnnotations.AnnotationWarningKind.InvalidCoordinates
            or CoreAnnotations.AnnotationWarningKind.UnsupportedGeometry);

    private static void AddPolygons(List<LayerPolygon> polygons, CoreAnnotations.Annotation annotation, string label, string color)
    {
        foreach (var polygon in annotation.Polygons)
        {
            var rings = new List<double[]>(1 + polygon.Holes.Count) { Flatten(polygon.Exterior) };
            rings.AddRange(polygon.Holes.Select(Flatten));
            polygons.Add(new LayerPolygon(label, color, rings));
        }
    }

    private static double[] Flatten(CoreAnnotations.Level0Point[] ring)
    {
        var xy = new double[ring.Length * 2];
        for (int i = 0; i < ring.Length; i++)
        {
            xy[2 * i] = ring[i].X;
            xy[2 * i + 1] = ring[i].Y;
        }

        return xy;
    }
}
