namespace Histo.Annotations;

/// <summary>Plain polygon arithmetic on level-0 rings: area, bounds, clipping, self-intersection counting.</summary>
internal static class PolygonGeometry
{
    /// <summary>Largest accepted absolute coordinate (level-0 px); the largest slides are a few 100,000 px wide.</summary>
    public const double MaxAbsCoordinate = 1e7;

    /// <summary>
    /// A copy of the ring without the closing vertex and without consecutive duplicates (zero-length edges).
    /// </summary>
    public static Level0Point[] OpenRing(IReadOnlyList<Level0Point> ring)
    {
        var result = new List<Level0Point>(ring.Count);
        foreach (var p in ring)
        {
            if (result.Count == 0 || result[^1] != p)
            {
                result.Add(p);
            }
        }

        while (result.Count > 1 && result[^1] == result[0])
        {
            result.RemoveAt(result.Count - 1);
        }

        return result.ToArray();
    }

    /// <summary>Shoelace area, positive for counter-clockwise rings in a y-up frame (clockwise on screen).</summary>
    public static double SignedArea(ReadOnlySpan<Level0Point> ring)
    {
        double sum = 0;
        for (int i = 0, j = ring.Length - 1; i < ring.Length; j = i++)
        {
            sum += (ring[j].X * ring[i].Y) - (ring[i].X * ring[j].Y);
        }

        return sum / 2;
    }

    /// <summary>Bounding box.</summary>
    public static (double MinX, double MinY, double MaxX, double MaxY) Bounds(ReadOnlySpan<Level0Point> ring)
    {
        double minX = double.PositiveInfinity, minY = double.PositiveInfinity, maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
        foreach (var p in ring)
        {
            minX = Math.Min(minX, p.X);
            minY = Math.Min(minY, p.Y);
            maxX = Math.Max(maxX, p.X);
            maxY = Math.Max(maxY, p.Y);
        }

        return (minX, minY, maxX, maxY);
    }

    /// <summary>True when every coordinate is finite and within <see cref="MaxAbsCoordinate"/>.</summary>
    public static bool HasSaneCoordinates(IReadOnlyList<Level0Point> ring)
    {
        foreach (var p in ring)
        {
            if (!double.IsFinite(p.X) || !double.IsFinite(p.Y) || Math.Abs(p.X) > MaxAbsCoordinate || Math.Abs(p.Y) > MaxAbsCoordinate)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Sutherland-Hodgman clip of a ring to an axis-aligned rectangle. Works for concave and self-intersecting rings
    /// in the sense that matters here: the even-odd filled area inside the rectangle is unchanged (the output may
    /// run along the rectangle's edges).
    /// </summary>
    public static Level0Point[] ClipRing(ReadOnlySpan<Level0Point> ring, double x0, double y0, double x1, double y1)
    {
        var current = ring.ToArray();
        current = ClipEdge(current, p => p.X >= x0, (a, b) => AtX(a, b, x0));
        current = ClipEdge(current, p => p.X <= x1, (a, b) => AtX(a, b, x1));
        current = ClipEdge(current, p => p.Y >= y0, (a, b) => AtY(a, b, y0));
        current = ClipEdge(current, p => p.Y <= y1, (a, b) => AtY(a, b, y1));
        return OpenRing(current);
    }

    private static Level0Point[] ClipEdge(Level0Point[] ring, Func<Level0Point, bool> inside, Func<Level0Point, Level0Point, Level0Point> cross)
    {
        if (ring.Length == 0)
        {
            return ring;
        }

        var output = new List<Level0Point>(ring.Length + 4);
        var previous = ring[^1];
        bool previousInside = inside(previous);
        foreach (var point in ring)
        {
            bool pointInside = inside(point);
            if (pointInside)
            {
                if (!previousInside)
                {
                    output.Add(cross(previous, point));
                }

                output.Add(point);
            }
            else if (previousInside)
            {
                output.Add(cross(previous, point));
            }

            previous = point;
            previousInside = pointInside;
        }

        return output.ToArray();
    }

    private static Level0Point AtX(Level0Point a, Level0Point b, double x)
    {
        double t = (x - a.X) / (b.X - a.X);
        return new Level0Point(x, a.Y + (t * (b.Y - a.Y)));
    }

    private static Level0Point AtY(Level0Point a, Level0Point b, double y)
    {
        double t = (y - a.Y) / (b.Y - a.Y);
        return new Level0Point(a.X + (t * (b.X - a.X)), y);
    }

    /// <summary>
    /// Counts pairs of non-adjacent edges of a closed ring that touch or cross, stopping at <paramref name="limit"/>.
    /// Edges are bucketed in a uniform grid so that hand-drawn rings of thousands of vertices take linear time.
    /// </summary>
    public static int CountSelfIntersections(ReadOnlySpan<Level0Point> ring, int limit = 1000)
    {
        int n = ring.Length;
        if (n < 4)
        {
            return 0;
        }

        var (minX, minY, maxX, maxY) = Bounds(ring);
        int grid = Math.Clamp((int)Math.Sqrt(n), 1, 512);
        double cellW = Math.Max((maxX - minX) / grid, 1e-9), cellH = Math.Max((maxY - minY) / grid, 1e-9);
        var cells = new List<int>?[grid * grid];
        var ranges = new (int X0, int Y0, int X1, int Y1)[n];
        for (int i = 0; i < n; i++)
        {
            var a = ring[i];
            var b = ring[(i + 1) % n];
            int cx0 = Cell(Math.Min(a.X, b.X), minX, cellW, grid), cx1 = Cell(Math.Max(a.X, b.X), minX, cellW, grid);
            int cy0 = Cell(Math.Min(a.Y, b.Y), minY, cellH, grid), cy1 = Cell(Math.Max(a.Y, b.Y), minY, cellH, grid);
            ranges[i] = (cx0, cy0, cx1, cy1);
            for (int cy = cy0; cy <= cy1; cy++)
            {
                for (int cx = cx0; cx <= cx1; cx++)
                {
                    (cells[(cy * grid) + cx] ??= []).Add(i);
                }
            }
        }

        int count = 0;
        for (int c = 0; c < cells.Length; c++)
        {
            var list = cells[c];
            if (list is null || list.Count < 2)
            {
                continue;
            }

            int cellX = c % grid, cellY = c / grid;
            for (int p = 0; p < list.Count; p++)
            {
                int i = list[p];
                for (int q = p + 1; q < list.Count; q++)
                {
                    int j = list[q];
                    if (Math.Abs(i - j) == 1 || Math.Abs(i - j) == n - 1)
                    {
                        continue;
                    }

                    // Test each pair once: in the first cell their ranges share.
                    var (ri, rj) = (ranges[i], ranges[j]);
                    if (Math.Max(ri.X0, rj.X0) != cellX || Math.Max(ri.Y0, rj.Y0) != cellY)
                    {
                        continue;
                    }

                    if (SegmentsTouch(ring[i], ring[(i + 1) % n], ring[j], ring[(j + 1) % n]) && ++count >= limit)
                    {
                        return count;
                    }
                }
            }
        }

        return count;
    }

    private static int Cell(double v, double min, double size, int grid) => Math.Clamp((int)((v - min) / size), 0, grid - 1);

    private static bool SegmentsTouch(Level0Point p1, Level0Point p2, Level0Point q1, Level0Point q2)
    {
        double d1 = Cross(q1, q2, p1), d2 = Cross(q1, q2, p2), d3 = Cross(p1, p2, q1), d4 = Cross(p1, p2, q2);
        if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)))
        {
            return true;
        }

        return (d1 == 0 && OnSegment(q1, q2, p1)) || (d2 == 0 && OnSegment(q1, q2, p2))
            || (d3 == 0 && OnSegment(p1, p2, q1)) || (d4 == 0 && OnSegment(p1, p2, q2));
    }

    private static double Cross(Level0Point a, Level0Point b, Level0Point c) => ((b.X - a.X) * (c.Y - a.Y)) - ((b.Y - a.Y) * (c.X - a.X));

    private static bool OnSegment(Level0Point a, Level0Point b, Level0Point p) =>
        p.X >= Math.Min(a.X, b.X) && p.X <= Math.Max(a.X, b.X) && p.Y >= Math.Min(a.Y, b.Y) && p.Y <= Math.Max(a.Y, b.Y);

    /// <summary>An ellipse inscribed in the box spanned by two corners, as a ring of <paramref name="segments"/> vertices.</summary>
    public static Level0Point[] Ellipse(Level0Point corner1, Level0Point corner2, int segments = 64)
    {
        double cx = (corner1.X + corner2.X) / 2, cy = (corner1.Y + corner2.Y) / 2;
        double rx = Math.Abs(corner2.X - corner1.X) / 2, ry = Math.Abs(corner2.Y - corner1.Y) / 2;
        var ring = new Level0Point[segments];
        for (int i = 0; i < segments; i++)
        {
            double t = 2 * Math.PI * i / segments;
            ring[i] = new Level0Point(cx + (rx * Math.Cos(t)), cy + (ry * Math.Sin(t)));
        }

        return ring;
    }
}
