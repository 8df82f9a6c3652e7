using System.Globalization;
using Histo.Maps;

namespace Histo.Outputs;

/// <summary>
/// The classified patches of a slide output (<c>patches.csv</c>: <c>level0_x,level0_y,level0_size,tissue_fraction</c>
/// then one <c>p_&lt;class&gt;</c> column per class, in class order) (the maps are made from them by <see cref="MapAggregation"/>).
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
}
