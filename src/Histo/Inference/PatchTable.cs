using System.Globalization;
using Histo.Masks;

namespace Histo.Inference;

/// <summary>
/// The classified patches of a slide output (<c>patches.csv</c>: <c>level0_x,level0_y,level0_size,tissue_fraction</c>
/// then one <c>p_&lt;class&gt;</c> column per class, in class order) and the per-class probability of each map cell
/// made from them, as the maps were made.
/// </summary>
public static class PatchTable
{
    private const string HeaderStart = "level0_x,level0_y,level0_size,tissue_fraction";

    /// <summary>Reads <c>patches.csv</c> written for a model of <paramref name="classCount"/> classes.</summary>
    /// <exception cref="HistoException">Missing file, another header, a malformed row or another number of classes.</exception>
    public static List<PatchPrediction> Read(string path, int classCount)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new HistoException($"{path}: not found");
        }

        var c = CultureInfo.InvariantCulture;
        var patches = new List<PatchPrediction>();
        bool header = true;
        foreach (string line in File.ReadLines(path))
        {
            if (header)
            {
                if (!line.StartsWith(HeaderStart, StringComparison.Ordinal))
                {
                    throw new HistoException($"{path}: not a patch table (the header does not start with {HeaderStart})");
                }

                header = false;
                continue;
            }

            var f = line.Split(',');
            if (f.Length != 4 + classCount
                || !long.TryParse(f[0], NumberStyles.Integer, c, out long x) || !long.TryParse(f[1], NumberStyles.Integer, c, out long y)
                || !long.TryParse(f[2], NumberStyles.Integer, c, out long size) || !double.TryParse(f[3], NumberStyles.Float, c, out double tissue))
            {
                throw new HistoException($"{path}: malformed row '{line}' (expected 4 + {classCount} numbers)");
            }

            var p = new float[classCount];
            for (int k = 0; k < classCount; k++)
            {
                if (!float.TryParse(f[4 + k], NumberStyles.Float, c, out p[k]))
                {
                    throw new HistoException($"{path}: malformed probability in row '{line}'");
                }
            }

            patches.Add(new PatchPrediction(x, y, size, tissue, p));
        }

        return patches;
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
