namespace Histo.Maps;

/// <summary>One classified patch.</summary>
/// <param name="Level0X">Left edge, level-0 pixels.</param>
/// <param name="Level0Y">Top edge, level-0 pixels.</param>
/// <param name="Level0Size">Side, level-0 pixels.</param>
/// <param name="TissueFraction">Fraction of the patch inside the region of interest.</param>
/// <param name="Probabilities">Class probabilities in the card's class order.</param>
public sealed record PatchPrediction(long Level0X, long Level0Y, long Level0Size, double TissueFraction, float[] Probabilities);

/// <summary>The maps of one slide made from its classified patches (see <see cref="MapAggregation.Aggregate"/>), row-major over a <see cref="MapGeometry"/>.</summary>
/// <param name="ProbabilityMaps">One map per class: the mean probability of the patches covering each cell (NaN outside the region).</param>
/// <param name="Intensity">The seed's intensity 0..1 per cell (<see cref="ClassMapRule.Intensity"/>), NaN outside the region.</param>
/// <param name="ClassMap">Class index per cell, <see cref="MapAggregation.NoTissue"/> outside the region.</param>
public sealed record PatchMaps(float[][] ProbabilityMaps, double[] Intensity, byte[] ClassMap);

/// <summary>
/// The patch-to-map aggregation: how classified patches become per-class probability maps, the intensity heatmap and
/// a class map on a map geometry. Used by the pipeline and when a slide's outputs are read back.
/// </summary>
public static class MapAggregation
{
    /// <summary>Value of class-map cells outside the region of interest.</summary>
    public const byte NoTissue = 255;

    /// <summary>
    /// Map cells along an axis of <paramref name="level0Length"/> pixels for a stride of <paramref name="level0Stride"/>
    /// level-0 pixels: the map covers the axis exactly in whole cells, each stretched or shrunk by under half a cell.
    /// </summary>
    public static int MapCells(long level0Length, double level0Stride) => (int)Math.Clamp(Math.Round(level0Length / level0Stride), 1, 1 << 20);

    /// <summary>
    /// The maps from classified patches: each cell averages the patches covering its centre (<see cref="CellMeans"/>);
    /// a cell is inside the region when some patch covers it and <paramref name="cellInRegion"/>(x, y) holds. Inside
    /// cells get their intensity and the class <paramref name="rule"/> gives them.
    /// </summary>
    /// <param name="geometry">The map's geometry.</param>
    /// <param name="patches">The classified patches.</param>
    /// <param name="classCount">Probabilities per patch.</param>
    /// <param name="cellInRegion">Whether map cell (x, y) lies in the region of interest.</param>
    /// <param name="rule">The class-map rule.</param>
    /// <param name="codes">The ordinal code of each class (BACH codes, or class indices).</param>
    public static PatchMaps Aggregate(MapGeometry geometry, IReadOnlyList<PatchPrediction> patches, int classCount, Func<int, int, bool> cellInRegion,
        ClassMapRule rule, IReadOnlyList<int> codes)
    {
        int mapWidth = geometry.Width, mapHeight = geometry.Height;
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(cellInRegion);
        ArgumentNullException.ThrowIfNull(rule);
        int classes = classCount;
        var sums = CellMeans(geometry, patches, classes);
        var classMap = new byte[mapWidth * mapHeight];
        for (int y = 0; y < mapHeight; y++)
        {
            for (int x = 0; x < mapWidth; x++)
            {
                int cell = y * mapWidth + x;
                bool inside = !float.IsNaN(sums[0][cell]) && cellInRegion(x, y); // some patch covers the cell
                for (int k = 0; k < classes && !inside; k++)
                {
                    sums[k][cell] = float.NaN;
                }

                classMap[cell] = inside ? (byte)0 : NoTissue;
            }
        }

        var intensity = new double[mapWidth * mapHeight];
        var cellProbabilities = new float[classes];
        for (int cell = 0; cell < intensity.Length; cell++)
        {
            if (classMap[cell] == NoTissue)
            {
                intensity[cell] = double.NaN;
                continue;
            }

            for (int k = 0; k < classes; k++)
            {
                cellProbabilities[k] = sums[k][cell];
            }

            intensity[cell] = ClassMapRule.Intensity(cellProbabilities, codes);
        }

        return new PatchMaps(sums, intensity, Classify(sums, classMap, rule, codes));
    }

    /// <summary>Applies a rule to every cell that is inside the region (not <see cref="NoTissue"/> in <paramref name="region"/>).</summary>
    public static byte[] Classify(IReadOnlyList<float[]> probabilityMaps, byte[] region, ClassMapRule rule, IReadOnlyList<int> codes)
    {
        ArgumentNullException.ThrowIfNull(probabilityMaps);
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(rule);
        int classes = probabilityMaps.Count;
        var result = new byte[region.Length];
        var p = new float[classes];
        for (int cell = 0; cell < region.Length; cell++)
        {
            if (region[cell] == NoTissue)
            {
                result[cell] = NoTissue;
                continue;
            }

            for (int k = 0; k < classes; k++)
            {
                p[k] = probabilityMaps[k][cell];
            }

            result[cell] = (byte)rule.Classify(p, codes);
        }

        return result;
    }

    /// <summary>
    /// The probability of each class in each cell of <paramref name="geometry"/>: the mean over the patches whose
    /// square covers the cell's centre; NaN in cells no patch covers. Indexed [class][y * width + x].
    /// </summary>
    public static float[][] CellMeans(MapGeometry geometry, IReadOnlyList<PatchPrediction> patches, int classCount)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(patches);
        int width = geometry.Width, height = geometry.Height;
        var sums = new float[classCount][];
        for (int k = 0; k < classCount; k++)
        {
            sums[k] = new float[width * height];
        }

        var counts = new int[width * height];
        foreach (var p in patches)
        {
            var row = p.Probabilities;
            var (x0, x1) = CentresInside(p.Level0X - geometry.Level0X, p.Level0Size, geometry.Level0PerPixelX, width);
            var (y0, y1) = CentresInside(p.Level0Y - geometry.Level0Y, p.Level0Size, geometry.Level0PerPixelY, height);
            for (int y = y0; y < y1; y++)
            {
                for (int x = x0; x < x1; x++)
                {
                    int cell = y * width + x;
                    counts[cell]++;
                    for (int k = 0; k < classCount; k++)
                    {
                        sums[k][cell] += row[k];
                    }
                }
            }
        }

        for (int cell = 0; cell < counts.Length; cell++)
        {
            for (int k = 0; k < classCount; k++)
            {
                sums[k][cell] = counts[cell] > 0 ? sums[k][cell] / counts[cell] : float.NaN;
            }
        }

        return sums;
    }

    /// <summary>The map cells [first, end) along one axis whose centres lie in [start, start + size).</summary>
    private static (int First, int End) CentresInside(double start, long size, double cell, int count)
    {
        int first = (int)Math.Ceiling(start / cell - 0.5);
        int end = (int)Math.Ceiling((start + size) / cell - 0.5);
        return (Math.Clamp(first, 0, count), Math.Clamp(end, 0, count));
    }
}
