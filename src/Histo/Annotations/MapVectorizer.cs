using System.Globalization;
using Histo.Maps;
using OpenCvSharp;

namespace Histo.Annotations;

/// <summary>Options of <see cref="MapVectorizer.Vectorize"/>.</summary>
public sealed record VectorizeOptions
{
    /// <summary>
    /// Douglas-Peucker tolerance in map pixels (0 keeps every corner). Default 1. Only 0 guarantees valid polygons
    /// (OGC / JTS rules): simplifying each ring on its own can make a ring cross a neighbouring hole.
    /// </summary>
    public double ToleranceMaskPixels { get; init; } = 1.0;

    /// <summary>
    /// Whether class 0 gets polygons too. Default false: in BACH maps 0 is Normal / unannotated, the background that
    /// rasterising fills anyway.
    /// </summary>
    public bool IncludeClassZero { get; init; }

    /// <summary>Connected regions with fewer map pixels than this are left out. Default 1 (keep all).</summary>
    public int MinRegionPixels { get; init; } = 1;
}

/// <summary>One connected region of a map as an annotation, with the map pixels it covers.</summary>
/// <param name="Annotation">The region's polygons (see <see cref="MapVectorizer"/>).</param>
/// <param name="PixelIndices">Its map pixels as row-major indices (<c>y * width + x</c>), ascending.</param>
public sealed record MapRegion(Annotation Annotation, int[] PixelIndices);

/// <summary>
/// Turns a class map or label map into polygons with holes, one annotation per connected region of a class
/// (8-connected), in level-0 coordinates: the basis of a pipeline's <c>prediction.geojson</c>.
/// <para>
/// Polygons follow the outer edges of the region's pixels, so their areas are the regions' areas and rasterising
/// them again (<see cref="AnnotationRasterizer"/>, which samples pixel centres) gives back the map exactly when not
/// simplified. Without simplification every polygon is valid under the OGC rules that JTS (QuPath's geometry library)
/// and NetTopologySuite check: a polygon's interior must be connected and its rings simple. So an annotation holds one
/// polygon per 4-connected part of its region (parts touching only at a corner are separate polygons of one
/// MultiPolygon that share that vertex), and a boundary that passes a corner twice is split there: the part that
/// encloses background becomes a hole touching the exterior at that one vertex. Boundaries are traced on the pixel
/// edges keeping the region's pixels on the right (clockwise on screen for exteriors, anticlockwise for holes) and
/// turning towards the region at a corner shared by two diagonal pixels.
/// </para>
/// </summary>
public static class MapVectorizer
{
    // Directions on the pixel-corner grid (y down), clockwise on screen: turning right is +1.
    private const int East = 0, South = 1, West = 2, North = 3;
    private static readonly int[] StepX = [1, 0, -1, 0];
    private static readonly int[] StepY = [0, 1, 0, -1];

    /// <summary>
    /// Vectorises every class present in <paramref name="map"/> (except 0 unless asked). Annotations carry the class
    /// code, are labelled with <paramref name="classNames"/>[code] (or the code), and are ordered by class, then by size.
    /// </summary>
    public static IReadOnlyList<Annotation> Vectorize(RasterMask map, IReadOnlyList<string>? classNames = null, VectorizeOptions? options = null,
        CancellationToken cancellationToken = default) =>
        VectorizeRegions(map, classNames, options, cancellationToken).Select(r => r.Annotation).ToList();

    /// <summary>
    /// As <see cref="Vectorize"/>, with the map pixels of each region (for per-region measurements such as a mean
    /// probability).
    /// </summary>
    public static IReadOnlyList<MapRegion> VectorizeRegions(RasterMask map, IReadOnlyList<string>? classNames = null, VectorizeOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(map);
        options ??= new VectorizeOptions();
        if (!(options.ToleranceMaskPixels >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "tolerance must be zero or positive");
        }

        // Bounding box of each value.
        var minX = new int[256];
        var minY = new int[256];
        var maxX = new int[256];
        var maxY = new int[256];
        Array.Fill(minX, int.MaxValue);
        Array.Fill(minY, int.MaxValue);
        Array.Fill(maxX, -1);
        Array.Fill(maxY, -1);
        for (int y = 0; y < map.Height; y++)
        {
            var row = map.Row(y);
            for (int x = 0; x < row.Length; x++)
            {
                int v = row[x];
                minX[v] = Math.Min(minX[v], x);
                maxX[v] = Math.Max(maxX[v], x);
                minY[v] = Math.Min(minY[v], y);
                maxY[v] = Math.Max(maxY[v], y);
            }
        }

        var result = new List<MapRegion>();
        for (int code = options.IncludeClassZero ? 0 : 1; code < 256; code++)
        {
            if (maxX[code] < 0)
            {
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            string label = classNames != null && code < classNames.Count ? classNames[code] : code.ToString(CultureInfo.InvariantCulture);
            var box = new Rect(minX[code], minY[code], maxX[code] - minX[code] + 1, maxY[code] - minY[code] + 1);
            result.AddRange(VectorizeClass(map, (byte)code, label, box, options));
        }

        return result;
    }

    private static List<MapRegion> VectorizeClass(RasterMask map, byte code, string label, Rect box, VectorizeOptions options)
    {
        int w = box.Width, h = box.Height;
        var inside = new bool[w * h];
        for (int y = 0; y < h; y++)
        {
            var row = map.Row(box.Y + y).Slice(box.X, w);
            for (int x = 0; x < w; x++)
            {
                inside[(y * w) + x] = row[x] == code;
            }
        }

        int regionCount = Label(inside, w, h, eightConnected: true, out int[] region);
        int partCount = Label(inside, w, h, eightConnected: false, out int[] part);

        // Pixels of each region, and the region of each part.
        var regionPixels = new List<int>[regionCount];
        for (int r = 0; r < regionCount; r++)
        {
            regionPixels[r] = [];
        }

        var partRegion = new int[partCount];
        var partPixels = new int[partCount];
        for (int i = 0; i < inside.Length; i++)
        {
            if (!inside[i])
            {
                continue;
            }

            int r = region[i];
            regionPixels[r].Add(((box.Y + (i / w)) * map.Width) + box.X + (i % w));
            partRegion[part[i]] = r;
            partPixels[part[i]]++;
        }

        // Boundary edges, each leaving a corner of the (w + 1) x (h + 1) grid with the pixel on its right.
        int gw = w + 1;
        var outgoing = new byte[gw * (h + 1)];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                if (!inside[(y * w) + x])
                {
                    continue;
                }

                if (y == 0 || !inside[((y - 1) * w) + x])
                {
                    outgoing[(y * gw) + x] |= 1 << East;
                }

                if (x == w - 1 || !inside[(y * w) + x + 1])
                {
                    outgoing[(y * gw) + x + 1] |= 1 << South;
                }

                if (y == h - 1 || !inside[((y + 1) * w) + x])
                {
                    outgoing[((y + 1) * gw) + x + 1] |= 1 << West;
                }

                if (x == 0 || !inside[(y * w) + x - 1])
                {
                    outgoing[((y + 1) * gw) + x] |= 1 << North;
                }
            }
        }

        // Trace every boundary into simple rings and give each to its 4-connected part.
        var shells = new List<Level0Point[]>?[partCount];
        var holes = new List<Level0Point[]>?[partCount];
        var used = new byte[outgoing.Length];
        var trace = new List<(int Corner, int Direction)>();
        for (int start = 0; start < outgoing.Length; start++)
        {
            while ((outgoing[start] & ~used[start]) != 0)
            {
                int d0 = System.Numerics.BitOperations.TrailingZeroCount(outgoing[start] & ~used[start]);
                trace.Clear();
                int corner = start, d = d0;
                do
                {
                    trace.Add((corner, d));
                    used[corner] |= (byte)(1 << d);
                    corner += StepX[d] + (StepY[d] * gw);
                    d = NextDirection(outgoing[corner], d);
                }
                while (corner != start || d != d0);

                foreach (var ring in SplitAtRepeatedCorners(trace))
                {
                    var (px, py) = PixelRightOf(ring[0].Corner % gw, ring[0].Corner / gw, ring[0].Direction);
                    int p = part[(py * w) + px];
                    var corners = Corners(ring, gw);
                    if (Twice(corners) > 0)
                    {
                        (shells[p] ??= []).Add(ToLevel0(corners, box, map, options.ToleranceMaskPixels));
                    }
                    else
                    {
                        (holes[p] ??= []).Add(ToLevel0(corners, box, map, options.ToleranceMaskPixels));
                    }
                }
            }
        }

        var polygonsOfRegion = new List<(int Pixels, int Part, AnnotationPolygon Polygon)>[regionCount];
        for (int r = 0; r < regionCount; r++)
        {
            polygonsOfRegion[r] = [];
        }

        for (int p = 0; p < partCount; p++)
        {
            // A 4-connected set of pixels has one outer boundary; what a split leaves of it are holes.
            if (shells[p] is not { Count: 1 } shell)
            {
                throw new InvalidOperationException($"vectoriser: part {p} of class {code} has {shells[p]?.Count ?? 0} exteriors");
            }

            polygonsOfRegion[partRegion[p]].Add((partPixels[p], p, new AnnotationPolygon(shell[0], holes[p] ?? [])));
        }

        int n = 0;
        return Enumerable.Range(0, regionCount)
            .Where(r => regionPixels[r].Count >= options.MinRegionPixels)
            .OrderByDescending(r => regionPixels[r].Count).ThenBy(r => regionPixels[r][0])
            .Select(r => new MapRegion(
                new Annotation(label, code, polygonsOfRegion[r].OrderByDescending(q => q.Pixels).ThenBy(q => q.Part).Select(q => q.Polygon).ToList(),
                    string.Create(CultureInfo.InvariantCulture, $"{label} {++n}")),
                regionPixels[r].ToArray()))
            .ToList();
    }

    /// <summary>
    /// The edge to take at a corner reached going <paramref name="incoming"/>: the right turn when there is one (at a
    /// corner shared by two diagonal pixels this stays with the pixel on the right, so 4-connected parts keep apart),
    /// else straight on, else left.
    /// </summary>
    private static int NextDirection(byte outgoing, int incoming)
    {
        int right = (incoming + 1) & 3, left = (incoming + 3) & 3;
        return (outgoing & (1 << right)) != 0 ? right
            : (outgoing & (1 << incoming)) != 0 ? incoming
            : (outgoing & (1 << left)) != 0 ? left
            : throw new InvalidOperationException("vectoriser: open boundary");
    }

    /// <summary>
    /// Cuts a closed trace into simple rings: whenever it comes back to a corner it already holds, the loop since that
    /// corner is a ring of its own.
    /// </summary>
    private static List<List<(int Corner, int Direction)>> SplitAtRepeatedCorners(List<(int Corner, int Direction)> trace)
    {
        var rings = new List<List<(int Corner, int Direction)>>();
        var stack = new List<(int Corner, int Direction)>(trace.Count);
        var position = new Dictionary<int, int>();
        foreach (var step in trace)
        {
            if (position.TryGetValue(step.Corner, out int at))
            {
                rings.Add(stack.GetRange(at, stack.Count - at));
                for (int i = at; i < stack.Count; i++)
                {
                    position.Remove(stack[i].Corner);
                }

                stack.RemoveRange(at, stack.Count - at);
            }

            position[step.Corner] = stack.Count;
            stack.Add(step);
        }

        rings.Add(stack);
        return rings;
    }

    private static (int X, int Y) PixelRightOf(int x, int y, int direction) => direction switch
    {
        East => (x, y),
        South => (x - 1, y),
        West => (x - 1, y - 1),
        _ => (x, y - 1),
    };

    /// <summary>The corners of a ring where its direction changes, as grid points.</summary>
    private static List<Point> Corners(List<(int Corner, int Direction)> ring, int gw)
    {
        var corners = new List<Point>();
        for (int i = 0; i < ring.Count; i++)
        {
            int incoming = ring[(i + ring.Count - 1) % ring.Count].Direction;
            if (incoming != ring[i].Direction)
            {
                corners.Add(new Point(ring[i].Corner % gw, ring[i].Corner / gw));
            }
        }

        return corners;
    }

    /// <summary>Twice the shoelace area of a ring on the grid: positive when clockwise on screen (an exterior here).</summary>
    private static long Twice(List<Point> ring)
    {
        long sum = 0;
        for (int i = 0, j = ring.Count - 1; i < ring.Count; j = i++)
        {
            sum += ((long)ring[j].X * ring[i].Y) - ((long)ring[i].X * ring[j].Y);
        }

        return sum;
    }

    /// <summary>
    /// Labels the connected sets of <paramref name="inside"/> pixels (4- or 8-connected) 0, 1, ... in raster order of
    /// their first pixel; returns how many there are.
    /// </summary>
    private static int Label(bool[] inside, int w, int h, bool eightConnected, out int[] labels)
    {
        labels = new int[inside.Length];
        Array.Fill(labels, -1);
        var queue = new int[inside.Length];
        int count = 0;
        for (int seed = 0; seed < inside.Length; seed++)
        {
            if (!inside[seed] || labels[seed] >= 0)
            {
                continue;
            }

            int head = 0, tail = 0;
            queue[tail++] = seed;
            labels[seed] = count;
            while (head < tail)
            {
                int i = queue[head++];
                int x = i % w, y = i / w;
                for (int dy = -1; dy <= 1; dy++)
                {
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        if ((dx == 0 && dy == 0) || (!eightConnected && dx != 0 && dy != 0))
                        {
                            continue;
                        }

                        int nx = x + dx, ny = y + dy;
                        if (nx < 0 || ny < 0 || nx >= w || ny >= h)
                        {
                            continue;
                        }

                        int j = (ny * w) + nx;
                        if (inside[j] && labels[j] < 0)
                        {
                            labels[j] = count;
                            queue[tail++] = j;
                        }
                    }
                }
            }

            count++;
        }

        return count;
    }

    /// <summary>
    /// A ring of grid corners in level-0 coordinates, simplified when asked. Every ring encloses at least one whole
    /// pixel, so it has at least 4 corners; a simplification that would leave fewer than 3 is not applied.
    /// </summary>
    private static Level0Point[] ToLevel0(List<Point> corners, Rect box, RasterMask map, double tolerance)
    {
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
            ring[i] = new Level0Point(map.Level0X + ((box.X + points[i].X) * map.Level0PerPixelX), map.Level0Y + ((box.Y + points[i].Y) * map.Level0PerPixelY));
        }

        return ring;
    }
}
