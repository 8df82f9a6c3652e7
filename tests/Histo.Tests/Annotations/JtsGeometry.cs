using System.Text.Json;
using Histo.Annotations;
using NetTopologySuite.Geometries;
using NetTopologySuite.Operation.Valid;

namespace Histo.Tests.Annotations;

/// <summary>
/// Geometries as JTS (QuPath's geometry library) sees them, through its .NET port NetTopologySuite: built from a
/// GeoJSON geometry object read here with System.Text.Json (not through Histo's reader) or from Histo's annotations.
/// </summary>
internal static class JtsGeometry
{
    private static readonly GeometryFactory Factory = new();

    /// <summary>The Polygon or MultiPolygon of a GeoJSON geometry object.</summary>
    public static Geometry FromGeoJson(JsonElement geometry)
    {
        var coordinates = geometry.GetProperty("coordinates");
        return geometry.GetProperty("type").GetString() switch
        {
            "Polygon" => Polygon(coordinates),
            "MultiPolygon" => Factory.CreateMultiPolygon(coordinates.EnumerateArray().Select(Polygon).ToArray()),
            string other => throw new InvalidOperationException($"not an area: {other}"),
            null => throw new InvalidOperationException("geometry without type"),
        };
    }

    /// <summary>The geometry of an annotation: a Polygon, or a MultiPolygon when it has several.</summary>
    public static Geometry FromAnnotation(Annotation annotation)
    {
        var polygons = annotation.Polygons.Select(p => Factory.CreatePolygon(Ring(p.Exterior), p.Holes.Select(Ring).ToArray())).ToArray();
        return polygons.Length == 1 ? polygons[0] : Factory.CreateMultiPolygon(polygons);
    }

    /// <summary>Null when JTS accepts the geometry, else its validation error (kind and place).</summary>
    public static string? Problem(Geometry geometry)
    {
        var check = new IsValidOp(geometry);
        return check.IsValid ? null : check.ValidationError.ToString();
    }

    private static Polygon Polygon(JsonElement rings)
    {
        var all = rings.EnumerateArray().Select(r => Factory.CreateLinearRing(
            r.EnumerateArray().Select(p => new Coordinate(p[0].GetDouble(), p[1].GetDouble())).ToArray())).ToArray();
        return Factory.CreatePolygon(all[0], all[1..]);
    }

    private static LinearRing Ring(Level0Point[] open) =>
        Factory.CreateLinearRing(open.Append(open[0]).Select(p => new Coordinate(p.X, p.Y)).ToArray());
}
