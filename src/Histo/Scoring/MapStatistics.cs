using System.Globalization;
using Histo.Imaging;
using Histo.Maps;
using OpenCvSharp;

namespace Histo.Scoring;

/// <summary>The largest 8-connected region (focus) of one class, in map pixels and level-0 coordinates.</summary>
/// <param name="PixelCount">Map pixels in the region.</param>
/// <param name="AreaMm2">Area in mm², when the level-0 µm/px is known.</param>
/// <param name="Level0X">Left edge of its bounding box, level-0 px.</param>
/// <param name="Level0Y">Top edge of its bounding box, level-0 px.</param>
/// <param name="Level0Width">Bounding-box width, level-0 px.</param>
/// <param name="Level0Height">Bounding-box height, level-0 px.</param>
/// <param name="CentroidLevel0X">Centroid x, level-0 px.</param>
/// <param name="CentroidLevel0Y">Centroid y, level-0 px.</param>
public sealed record ConnectedFocus(long PixelCount, double? AreaMm2, double Level0X, double Level0Y, double Level0Width, double Level0Height,
    double CentroidLevel0X, double CentroidLevel0Y)
{
    /// <summary>
    /// Its longest extent in mm: the maximum Feret (caliper) diameter, the largest distance between two points of the
    /// region, its map pixels taken as whole squares. Null when the level-0 µm/px is unknown.
    /// </summary>
    public double? MaxFeretMm { get; init; }
}

/// <summary>Per-class figures of a map.</summary>
/// <param name="Code">Pixel value.</param>
/// <param name="Name">Class name (or the code as text).</param>
/// <param name="PixelCount">Map pixels of this class (inside the tissue, when a tissue mask was given).</param>
/// <param name="AreaMm2">Area in mm², when the level-0 µm/px is known.</param>
/// <param name="Fraction">Share of the counted pixels (tissue pixels when a tissue mask was given, else all map pixels), 0..1.</param>
/// <param name="LargestFocus">The largest connected region, or null when the class is absent.</param>
public sealed record ClassStatistics(int Code, string Name, long PixelCount, double? AreaMm2, double Fraction, ConnectedFocus? LargestFocus);

/// <summary>The statistics of one map.</summary>
/// <param name="CountedPixels">Pixels counted (tissue pixels when a tissue mask was given, else all).</param>
/// <param name="CountedAreaMm2">Their area in mm², when the level-0 µm/px is known.</param>
/// <param name="Classes">One entry per named class and per other value present, by code.</param>
public sealed record MapStatisticsResult(long CountedPixels, double? CountedAreaMm2, IReadOnlyList<ClassStatistics> Classes);

/// <summary>Area per class and largest connected focus per class of a class map, for a slide's summary.</summary>
public static class MapStatistics
{
    /// <summary>
    /// Computes per-class pixel counts, areas (mm², from the level-0 µm/px and the map's level-0 pixels per map
    /// pixel), fractions and the largest 8-connected focus (OpenCV ConnectedComponentsWithStats).
    /// </summary>
    /// <param name="map">The class map (value = class code).</param>
    /// <param name="classNames">Names by code; every named class is reported, present or not.</param>
    /// <param name="level0MppX">Slide level-0 µm/px horizontally (null: areas are null).</param>
    /// <param name="level0MppY">Slide level-0 µm/px vertically (null: same as x).</param>
    /// <param name="tissue">Optional tissue mask of the same size: only pixels where it is non-zero count.</param>
    /// <param name="cancellationToken">Cancels between classes.</param>
    public static MapStatisticsResult Compute(RasterMask map, IReadOnlyList<string>? classNames, double? level0MppX, double? level0MppY = null,
        RasterMask? tissue = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(map);
        classNames ??= [];
        if (tissue != null && (tissue.Width != map.Width || tissue.Height != map.Height))
        {
            throw new ArgumentException($"tissue mask {tissue.Width}x{tissue.Height} does not match the map {map.Width}x{map.Height}", nameof(tissue));
        }

        double? pixelAreaMm2 = level0MppX is > 0
            ? map.Level0PerPixelX * level0MppX.Value * map.Level0PerPixelY * (level0MppY is > 0 ? level0MppY.Value : level0MppX.Value) / 1e6
            : null;
        var counts = new long[256];
        for (int y = 0; y < map.Height; y++)
        {
            var row = map.Row(y);
            var tissueRow = tissue is null ? default : tissue.Row(y);
            for (int x = 0; x < row.Length; x++)
            {
                if (tissue is null || tissueRow[x] != 0)
                {
                    counts[row[x]]++;
                }
            }
        }

        long counted = counts.Sum();
        using var source = MatRows.WrapGray(map.Pixels, map.Width, map.Height);
        using var tissueMat = tissue is null ? null : MatRows.WrapGray(tissue.Pixels, tissue.Width, tissue.Height);
        using var binary = new Mat();
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        var classes = new List<ClassStatistics>();
        for (int code = 0; code < 256; code++)
        {
            if (counts[code] == 0 && code >= classNames.Count)
            {
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            string name = code < classNames.Count ? classNames[code] : code.ToString(CultureInfo.InvariantCulture);
            ConnectedFocus? largest = null;
            if (counts[code] > 0)
            {
                Cv2.Compare(source, Scalar.All(code), binary, CmpTypes.EQ);
                if (tissueMat != null)
                {
                    using var inTissue = new Mat();
                    Cv2.Compare(tissueMat, Scalar.All(0), inTissue, CmpTypes.NE);
                    Cv2.BitwiseAnd(binary, inTissue, binary);
                }

                int n = Cv2.ConnectedComponentsWithStats(binary, labels, stats, centroids, PixelConnectivity.Connectivity8, MatType.CV_32S);
                int best = -1, bestArea = 0;
                for (int label = 1; label < n; label++)
                {
                    int area = stats.At<int>(label, (int)ConnectedComponentsTypes.Area);
                    if (area > bestArea)
                    {
                        (best, bestArea) = (label, area);
                    }
                }

                if (best > 0)
                {
                    double ppx = map.Level0PerPixelX, ppy = map.Level0PerPixelY;
                    largest = new ConnectedFocus(bestArea, bestArea * pixelAreaMm2,
                        map.Level0X + (stats.At<int>(best, (int)ConnectedComponentsTypes.Left) * ppx),
                        map.Level0Y + (stats.At<int>(best, (int)ConnectedComponentsTypes.Top) * ppy),
                        stats.At<int>(best, (int)ConnectedComponentsTypes.Width) * ppx,
                        stats.At<int>(best, (int)ConnectedComponentsTypes.Height) * ppy,
                        map.Level0X + ((centroids.At<double>(best, 0) + 0.5) * ppx),
                        map.Level0Y + ((centroids.At<double>(best, 1) + 0.5) * ppy))
                    {
                        MaxFeretMm = level0MppX is > 0 ? MaxFeretMm(labels, stats, best, ppx * level0MppX.Value, ppy * (level0MppY is > 0 ? level0MppY.Value : level0MppX.Value)) : null,
                    };
                }
            }

            classes.Add(new ClassStatistics(code, name, counts[code], counts[code] * pixelAreaMm2, counted == 0 ? 0 : (double)counts[code] / counted, largest));
        }

        return new MapStatisticsResult(counted, counted * pixelAreaMm2, classes);
    }

    /// <summary>
    /// The maximum Feret diameter in mm of component <paramref name="label"/>: the widest pair among the convex hull
    /// of its pixels' corners (only the first and last pixel of each row can be on the hull).
    /// </summary>
    private static double MaxFeretMm(Mat labels, Mat stats, int label, double umPerPixelX, double umPerPixelY)
    {
        int left = stats.At<int>(label, (int)ConnectedComponentsTypes.Left), top = stats.At<int>(label, (int)ConnectedComponentsTypes.Top);
        int width = stats.At<int>(label, (int)ConnectedComponentsTypes.Width), height = stats.At<int>(label, (int)ConnectedComponentsTypes.Height);
        var points = new List<(double X, double Y)>(4 * height);
        for (int y = top; y < top + height; y++)
        {
            int first = -1, last = -1;
            var row = MatRows.IntRow(labels, y);
            for (int x = left; x < left + width; x++)
            {
                if (row[x] == label)
                {
                    first = first < 0 ? x : first;
                    last = x;
                }
            }

            if (first >= 0)
            {
                points.Add((first * umPerPixelX, y * umPerPixelY));
                points.Add((first * umPerPixelX, (y + 1) * umPerPixelY));
                points.Add(((last + 1) * umPerPixelX, y * umPerPixelY));
                points.Add(((last + 1) * umPerPixelX, (y + 1) * umPerPixelY));
            }
        }

        var hull = ConvexHull(points);
        double best = 0;
        for (int i = 0; i < hull.Count; i++)
        {
            for (int j = i + 1; j < hull.Count; j++)
            {
                double dx = hull[i].X - hull[j].X, dy = hull[i].Y - hull[j].Y;
                best = Math.Max(best, (dx * dx) + (dy * dy));
            }
        }

        return Math.Sqrt(best) / 1000;
    }

    /// <summary>Andrew's monotone chain: the convex hull's vertices.</summary>
    private static List<(double X, double Y)> ConvexHull(List<(double X, double Y)> points)
    {
        var sorted = points.Distinct().OrderBy(p => p.X).ThenBy(p => p.Y).ToList();
        if (sorted.Count < 3)
        {
            return sorted;
        }

        var hull = new List<(double X, double Y)>(2 * sorted.Count);
        for (int pass = 0; pass < 2; pass++)
        {
            int floor = hull.Count;
            foreach (var p in pass == 0 ? sorted : Enumerable.Reverse(sorted))
            {
                while (hull.Count >= floor + 2 && Cross(hull[^2], hull[^1], p) <= 0)
                {
                    hull.RemoveAt(hull.Count - 1);
                }

                hull.Add(p);
            }

            hull.RemoveAt(hull.Count - 1);
        }

        return hull;

        static double Cross((double X, double Y) o, (double X, double Y) a, (double X, double Y) b) => ((a.X - o.X) * (b.Y - o.Y)) - ((a.Y - o.Y) * (b.X - o.X));
    }
}
