using Histo.Imaging;
using Histo.Inference;
using Histo.Maps;
using Histo.Outputs;

namespace Histo.Viewer;

/// <summary>The probability the prediction gives one class at a point.</summary>
/// <param name="Index">Class index (its value in <c>classmap.png</c>).</param>
/// <param name="Name">Class name.</param>
/// <param name="Color">Display colour, <c>#rrggbb</c>.</param>
/// <param name="Probability">Probability, 0..1.</param>
public sealed record ClassProbability(int Index, string Name, string Color, double Probability);

/// <summary>The prediction at a level-0 point: the map cell holding it and that cell's class probabilities.</summary>
/// <param name="Level0X">The point, level-0 pixels.</param>
/// <param name="Level0Y">The point, level-0 pixels.</param>
/// <param name="Column">Map column of the cell, or null when the point lies outside the map.</param>
/// <param name="Row">Map row of the cell, or null outside the map.</param>
/// <param name="Tissue">Whether the cell was classified (inside the tissue / region of interest).</param>
/// <param name="Classes">The cell's class probabilities, in class order; empty when the cell was not classified.</param>
public sealed record PointProbabilities(double Level0X, double Level0Y, int? Column, int? Row, bool Tissue, IReadOnlyList<ClassProbability> Classes);

/// <summary>
/// The per-class probability maps of a prediction folder, rebuilt from its <c>patches.csv</c> on the grid of its
/// <c>geometry.json</c> as the pipeline built its maps (each cell: the mean of the patches covering its centre);
/// cells that <c>classmap.png</c> marks as no tissue (255) are not classified.
/// </summary>
internal sealed class ProbabilityMaps
{
    /// <summary>Largest patch table read (bytes).</summary>
    public const long MaxPatchTableBytes = 512L * 1024 * 1024;

    private readonly PredictionGeometry _geometry;
    private readonly float[][] _maps;
    private readonly byte[]? _classMap;

    private ProbabilityMaps(PredictionGeometry geometry, float[][] maps, byte[]? classMap)
    {
        _geometry = geometry;
        _maps = maps;
        _classMap = classMap;
    }

    /// <summary>Reads the patch table (and the class map, when there is one) of a prediction folder.</summary>
    /// <exception cref="HistoException">A malformed or oversized table, a class map of another size.</exception>
    public static ProbabilityMaps Load(string patchesPath, string? classMapPath, PredictionGeometry geometry)
    {
        long length = new FileInfo(patchesPath).Length;
        if (length > MaxPatchTableBytes)
        {
            throw new PredictionFormatException($"{Path.GetFileName(patchesPath)} is {length} bytes, more than the {MaxPatchTableBytes} a patch table may have here");
        }

        int classes = geometry.Classes.Count;
        var patches = PatchTable.Read(patchesPath, classes);
        byte[]? classMap = null;
        if (classMapPath != null)
        {
            var (pixels, w, h) = ImageIO.LoadGray(classMapPath);
            if ((w, h) != (geometry.Width, geometry.Height))
            {
                throw new PredictionFormatException($"{SlideOutputs.ClassMap} is {w} x {h} pixels but {SlideOutputs.Geometry} describes a {geometry.Width} x {geometry.Height} map");
            }

            classMap = pixels;
        }

        return new ProbabilityMaps(geometry, MapAggregation.CellMeans(geometry.Map, patches, classes), classMap);
    }

    /// <summary>The cell holding a level-0 point and its class probabilities (6 decimals, as the patch table holds them).</summary>
    public PointProbabilities At(double level0X, double level0Y)
    {
        var g = _geometry;
        double u = (level0X - g.Level0X) / (g.Level0Width / g.Width), v = (level0Y - g.Level0Y) / (g.Level0Height / g.Height);
        if (!(u >= 0 && u < g.Width && v >= 0 && v < g.Height))
        {
            return new PointProbabilities(level0X, level0Y, null, null, false, []);
        }

        int column = (int)u, row = (int)v, cell = row * g.Width + column;
        bool tissue = (_maps.Length == 0 || !float.IsNaN(_maps[0][cell])) && (_classMap == null || _classMap[cell] != SlideInferenceResult.NoTissue);
        var classes = tissue
            ? g.Classes.Select((c, k) => new ClassProbability(c.Index, c.Name, c.Color, Math.Round(_maps[k][cell], 6))).ToList()
            : [];
        return new PointProbabilities(level0X, level0Y, column, row, tissue, classes);
    }
}
