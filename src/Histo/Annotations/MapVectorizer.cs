using System.Globalization;
using Histo.Masks;
using OpenCvSharp;

namespace Histo.Annotations;

/// <summary>Options of <see cref="MapVectorizer.Vectorize"/>.</summary>
public sealed record VectorizeOptions
{
    /// <summary>Douglas-Peucker tolerance in map pixels (0 keeps every contour vertex). Default 1.</summary>
    public double ToleranceMaskPixels { get; init; } = 1.0;

    /// <summary>
    /// Whether class 0 gets polygons too. Default false: in BACH maps 0 is Normal / unannotated, the background that
    /// rasterising fills anyway.
    /// </summary>
    public bool IncludeClassZero { get; init; }

    /// <summary>Connected regions with fewer map pixels than this are left out. Default 1 (keep all).</summary>
    public int MinRegionPixels { get; init; } = 1;
}

/// <summary>
/// Turns a class map or label map into polygons with holes, one annotation per connected region of a class
/// (8-connected), in level-0 coordinates: the basis of a pipeline's <c>prediction.geojson</c>.
/// <para>
/// Polygons follow the outer edges of the region's pixels, so their areas are the regions' areas and rasterising
/// them again (<see cref="AnnotationRasterizer"/>, which samples pixel centres) gives back the map exactly when not
/// simplified. They come from OpenCV FindContours (RETR_CCOMP: outer boundaries and their holes) run on the class
/// mask enlarged 2x: there a boundary sub-pixel's index s maps to the pixel edge ceil(s / 2). Simplification
/// (ApproxPolyDP) then moves edges by at most the tolerance. Regions touching only at a corner share that vertex.
/// </para>
/// </summary>
public static class MapVectorizer
{
    /// <summary>
    /// Vectorises every class present in <paramref name="map"/> (except 0 unless asked). Annotations carry the class
    /// code, are labelled with <paramref name="classNames"/>[code] (or the code), and are ordered by class, then by size.
    /// </summary>
    public static IReadOnlyList<Annotation> Vectorize(RasterMask map, IReadOnlyList<string>? classNames = null, VectorizeOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(map);
        options ??= new VectorizeOptions();
        if (!(options.ToleranceMaskPixels >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "tolerance must be zero or positive");
        }

        var present = new bool[256];
        foreach (byte v in map.Pixels)
        {
            present[v] = true;
        }

        var result = new List<Annotation>();
        using var source = Mat.FromPixelData(map.Height, map.Width, MatType.CV_8UC1, map.Pixels);
        using var binary = new Mat();
        for (int code = options.IncludeClassZero ? 0 : 1; code < 256; code++)
        {
            if (!present[code])
            {
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            Cv2.Compare(source, Scalar.All(code), binary, CmpTypes.EQ);
            string label = classNames != null && code < classNames.Count ? classNames[code] : code.ToString(CultureInfo.InvariantCulture);
            result.AddRange(VectorizeBinary(binary, map, code, label, options));
        }

        return result;
    }

    private static List<Annotation> VectorizeBinary(Mat binary, RasterMask map, int code, string label, VectorizeOptions options)
    {
        var box = Cv2.BoundingRect(binary);
        using var crop = new Mat(binary, box);
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        Cv2.ConnectedComponentsWithStats(crop, labels, stats, centroids, PixelConnectivity.Connectivity8, MatType.CV_32S);
        using var doubled = new Mat();
        Cv2.Resize(crop, doubled, new Size(box.Width * 2, box.Height * 2), 0, 0, InterpolationFlags.Nearest);
        Cv2.FindContours(doubled, out Point[][] contours, out HierarchyIndex[] hierarchy, RetrievalModes.CComp, ContourApproximationModes.ApproxSimple);
        var regions = new List<(int Pixels, AnnotationPolygon Polygon)>();
        for (int i = 0; i < contours.Length; i++)
        {
            if (hierarchy[i].Parent != -1)
            {
                continue; // a hole: collected with its parent
            }

            // FindContours and the labelling both use 8-connectivity, so an outer contour's first point (a sub-pixel
            // of the region) names the region's component and its exact pixel count.
            var first = contours[i][0];
            int pixels = stats.At<int>(labels.At<int>(first.Y / 2, first.X / 2), (int)ConnectedComponentsTypes.Area);
            if (pixels < options.MinRegionPixels)
            {
                continue;
            }

            var exterior = ToRing(contours[i], box, map, options.ToleranceMaskPixels);
            var holes = new List<Level0Point[]>();
            for (int child = hierarchy[i].Child; child != -1; child = hierarchy[child].Next)
            {
                holes.Add(ToRing(contours[child], box, map, options.ToleranceMaskPixels));
            }

            regions.Add((pixels, new AnnotationPolygon(exterior, holes)));
        }

        int n = 0;
        return regions.OrderByDescending(r => r.Pixels)
            .Select(r => new Annotation(label, code, [r.Polygon], string.Create(CultureInfo.InvariantCulture, $"{label} {++n}")))
            .ToList();
    }

    /// <summary>
    /// A contour of the 2x mask as a ring on pixel edges in level-0 coordinates, simplified. Every boundary contour
    /// encloses at least one whole pixel, so it has at least 4 distinct corners; a simplification that would leave
    /// fewer than 3 is not applied.
    /// </summary>
    private static Level0Point[] ToRing(Point[] contour, Rect box, RasterMask map, double tolerance)
    {
        var corners = new List<Point>(contour.Length);
        foreach (var p in contour)
        {
            var edge = new Point(box.X + ((p.X + 1) / 2), box.Y + ((p.Y + 1) / 2));
            if (corners.Count == 0 || corners[^1] != edge)
            {
                corners.Add(edge);
            }
        }

        while (corners.Count > 1 && corners[^1] == corners[0])
        {
            corners.RemoveAt(corners.Count - 1);
        }

        var points = corners.ToArray();
        if (tolerance > 0 && points.Length > 4)
        {
            var simplified = Cv2.ApproxPolyDP(points, tolerance, closed: true);
            if (simplified.Distinct().Count() >= 3)
            {
                points = simplified;
            }
        }

        var ring = new Level0Point[points.Length];
        for (int i = 0; i < points.Length; i++)
        {
            ring[i] = new Level0Point(map.Level0X + (points[i].X * map.Level0PerPixelX), map.Level0Y + (points[i].Y * map.Level0PerPixelY));
        }

        return ring;
    }
}
