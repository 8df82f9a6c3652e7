using Histo.Maps;

namespace Histo.Annotations;

/// <summary>
/// Paints annotations into a label mask at any resolution. The mask starts filled with class 0 (Normal: in BACH,
/// tissue outside every region is Normal); then polygons are painted largest first (by the area of their exterior
/// ring), so a region nested inside another is painted after it and the innermost label wins.
/// <para>
/// A mask pixel takes a polygon's value when its centre lies inside the polygon (the sampling rule of
/// <see cref="RasterMask"/> and of nearest-neighbour downsampling, so no region grows or shrinks on average).
/// A polygon's holes are filled together with its exterior under the even-odd rule: holes stay unpainted and show
/// what lies below, and a self-intersecting ring is filled even-odd (areas covered twice are left out).
/// Annotations with an unknown class (null code) or a code above 255 are not painted.
/// </para>
/// <para>
/// The fill is a scanline fill over each pixel row's centre line, not OpenCV's FillPoly: FillPoly also draws each
/// polygon's outline and rounds span ends to the nearest pixel, which grows every region by about half a mask pixel
/// on each side (a 4 x 4-pixel square is painted 5 x 5), a bias that matters on coarse maps such as patch grids.
/// </para>
/// </summary>
public static class AnnotationRasterizer
{
    /// <summary>Rasterises onto an explicit grid: mask pixel (x, y) covers level-0 x from level0X + x * level0PerPixelX.</summary>
    public static RasterMask Rasterize(IEnumerable<Annotation> annotations, int width, int height, double level0PerPixelX, double level0PerPixelY,
        double level0X = 0, double level0Y = 0, CancellationToken cancellationToken = default)
    {
        var mask = new RasterMask(width, height, level0PerPixelX, level0PerPixelY, null, level0X, level0Y);
        Paint(mask, annotations, cancellationToken);
        return mask;
    }

    /// <summary>Rasterises onto the grid of a map (for example a prediction's <c>geometry.json</c>).</summary>
    public static RasterMask Rasterize(IEnumerable<Annotation> annotations, MapGeometry geometry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var mask = geometry.CreateMask();
        Paint(mask, annotations, cancellationToken);
        return mask;
    }

    /// <summary>
    /// Rasterises over a whole slide at a downsample (level-0 pixels per mask pixel, e.g. 16): the mask is
    /// round(width / downsample) x round(height / downsample) pixels and covers the slide exactly.
    /// </summary>
    public static RasterMask RasterizeSlide(IEnumerable<Annotation> annotations, long slideLevel0Width, long slideLevel0Height, double downsample,
        CancellationToken cancellationToken = default)
    {
        if (!(downsample > 0) || !double.IsFinite(downsample))
        {
            throw new ArgumentOutOfRangeException(nameof(downsample), "downsample must be positive");
        }

        if (slideLevel0Width <= 0 || slideLevel0Height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(slideLevel0Width), "slide size must be positive");
        }

        int width = (int)Math.Max(1, Math.Round(slideLevel0Width / downsample));
        int height = (int)Math.Max(1, Math.Round(slideLevel0Height / downsample));
        return Rasterize(annotations, width, height, (double)slideLevel0Width / width, (double)slideLevel0Height / height, 0, 0, cancellationToken);
    }

    /// <summary>Rasterises over a whole slide at a target resolution in µm per mask pixel, given the slide's level-0 µm/px.</summary>
    public static RasterMask RasterizeSlideAtMpp(IEnumerable<Annotation> annotations, long slideLevel0Width, long slideLevel0Height,
        double slideMpp, double targetMpp, CancellationToken cancellationToken = default)
    {
        if (!(slideMpp > 0) || !(targetMpp > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(targetMpp), "µm per pixel must be positive");
        }

        return RasterizeSlide(annotations, slideLevel0Width, slideLevel0Height, targetMpp / slideMpp, cancellationToken);
    }

    /// <summary>Paints annotations over an existing mask (largest first), leaving pixels outside every polygon unchanged.</summary>
    public static void Paint(RasterMask mask, IEnumerable<Annotation> annotations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(annotations);
        var order = annotations
            .Where(a => a.ClassCode is >= 0 and <= 255)
            .SelectMany(a => a.Polygons.Select(p => (Polygon: p, Code: (byte)a.ClassCode!.Value)))
            .OrderByDescending(x => x.Polygon.ExteriorAreaLevel0)
            .ToList();
        var filler = new ScanlineFiller();
        foreach (var (polygon, code) in order)
        {
            cancellationToken.ThrowIfCancellationRequested();
            filler.Fill(mask, polygon, code);
        }
    }

    /// <summary>Even-odd scanline fill sampling pixel centres; buffers are reused across polygons.</summary>
    private sealed class ScanlineFiller
    {
        private readonly List<Edge> _edges = [];
        private readonly List<Edge> _active = [];
        private double[] _crossings = new double[64];

        private readonly record struct Edge(int FirstRow, int EndRow, double X0, double Y0, double Slope);

        public void Fill(RasterMask mask, AnnotationPolygon polygon, byte code)
        {
            _edges.Clear();
            AddRing(mask, polygon.Exterior);
            foreach (var hole in polygon.Holes)
            {
                AddRing(mask, hole);
            }

            if (_edges.Count == 0)
            {
                return;
            }

            _edges.Sort((a, b) => a.FirstRow.CompareTo(b.FirstRow));
            _active.Clear();
            int next = 0;
            int firstRow = Math.Max(0, _edges[0].FirstRow);
            int lastRow = Math.Min(mask.Height, _edges.Max(e => e.EndRow));
            for (int row = firstRow; row < lastRow; row++)
            {
                while (next < _edges.Count && _edges[next].FirstRow <= row)
                {
                    _active.Add(_edges[next++]);
                }

                int kept = 0;
                for (int i = 0; i < _active.Count; i++)
                {
                    if (_active[i].EndRow > row)
                    {
                        _active[kept++] = _active[i];
                    }
                }

                _active.RemoveRange(kept, _active.Count - kept);
                if (_active.Count > _crossings.Length)
                {
                    _crossings = new double[_active.Count * 2];
                }

                double yc = row + 0.5;
                for (int i = 0; i < _active.Count; i++)
                {
                    var e = _active[i];
                    _crossings[i] = e.X0 + ((yc - e.Y0) * e.Slope);
                }

                var xs = _crossings.AsSpan(0, _active.Count);
                xs.Sort();
                var pixels = mask.Row(row);
                for (int i = 0; i + 1 < xs.Length; i += 2)
                {
                    // Pixels whose centres x + 0.5 lie in [xs[i], xs[i + 1]).
                    double from = Math.Ceiling(xs[i] - 0.5), to = Math.Ceiling(xs[i + 1] - 0.5);
                    int x0 = (int)Math.Clamp(from, 0, mask.Width), x1 = (int)Math.Clamp(to, 0, mask.Width);
                    if (x1 > x0)
                    {
                        pixels[x0..x1].Fill(code);
                    }
                }
            }
        }

        /// <summary>
        /// Adds a ring's non-horizontal edges in mask coordinates (x = 0 at the mask's left edge). An edge serves the
        /// rows whose centre line y + 0.5 lies in [its lower y, its upper y), so a vertex on a centre line counts once.
        /// </summary>
        private void AddRing(RasterMask mask, Level0Point[] ring)
        {
            for (int i = 0, j = ring.Length - 1; i < ring.Length; j = i++)
            {
                double ax = (ring[j].X - mask.Level0X) / mask.Level0PerPixelX, ay = (ring[j].Y - mask.Level0Y) / mask.Level0PerPixelY;
                double bx = (ring[i].X - mask.Level0X) / mask.Level0PerPixelX, by = (ring[i].Y - mask.Level0Y) / mask.Level0PerPixelY;
                if (ay == by)
                {
                    continue;
                }

                if (ay > by)
                {
                    (ax, ay, bx, by) = (bx, by, ax, ay);
                }

                double first = Math.Ceiling(ay - 0.5), end = Math.Ceiling(by - 0.5);
                if (end <= 0 || first >= mask.Height || end <= first)
                {
                    continue;
                }

                _edges.Add(new Edge((int)Math.Max(first, 0), (int)Math.Min(end, mask.Height), ax, ay, (bx - ax) / (by - ay)));
            }
        }
    }
}
