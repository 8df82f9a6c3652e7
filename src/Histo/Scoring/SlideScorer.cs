using System.Globalization;
using Histo.Annotations;
using Histo.Bach;
using Histo.Imaging;
using Histo.Maps;

namespace Histo.Scoring;

/// <summary>What the truth was read from.</summary>
public enum TruthKind
{
    /// <summary>An annotation file (Aperio / ASAP XML, GeoJSON) rasterised onto the prediction's grid.</summary>
    Annotations,

    /// <summary>A label mask image of BACH codes.</summary>
    Mask,
}

/// <summary>The outcome of scoring one prediction against its truth.</summary>
/// <param name="Score">Score, confusion counts and Dice.</param>
/// <param name="Width">Width of the compared maps (the prediction's).</param>
/// <param name="Height">Height of the compared maps.</param>
/// <param name="PredictionPath">The BACH map read.</param>
/// <param name="TruthPath">The truth file read.</param>
/// <param name="Truth">How the truth was read.</param>
/// <param name="Warnings">Recoverable problems (annotation repairs, clipping, resizing).</param>
/// <param name="UnknownLabels">Annotation label texts the label map did not know (those regions were not painted).</param>
public sealed record ScoreReport(BachScore Score, int Width, int Height, string PredictionPath, string TruthPath, TruthKind Truth,
    IReadOnlyList<HistoWarning> Warnings, IReadOnlyList<LabelCount> UnknownLabels);

/// <summary>
/// Scores a prediction file against a truth file: the <c>histo score</c> job. The prediction is a BACH map PNG
/// (codes 0..3) or a slide output directory holding <c>bach.png</c> and <c>geometry.json</c>. The truth is either an
/// annotation file, rasterised onto the prediction's grid (this needs the geometry), or a label mask PNG covering
/// the same level-0 area: the prediction's size or a scaled copy (same aspect ratio up to one pixel of rounding),
/// resized to the prediction with nearest-neighbour sampling of pixel centres.
/// </summary>
public static class SlideScorer
{
    /// <summary>File name of the BACH map in a slide output directory.</summary>
    public const string BachMapFileName = "bach.png";

    /// <summary>Scores <paramref name="prediction"/> against <paramref name="truth"/>.</summary>
    /// <param name="prediction">A slide output directory or a BACH map PNG.</param>
    /// <param name="truth">An annotation file or a label mask image.</param>
    /// <param name="labelMap">Resolves annotation labels (BACH substrings by default).</param>
    /// <param name="geometryPath">The map's geometry; by default <c>geometry.json</c> beside the map, if present.</param>
    /// <param name="cancellationToken">Cancels rasterisation.</param>
    /// <exception cref="HistoException">Unreadable inputs, sizes that do not match, truth that cannot be placed.</exception>
    public static ScoreReport Score(string prediction, string truth, LabelMap? labelMap = null, string? geometryPath = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(truth);
        labelMap ??= LabelMap.Bach;
        string mapPath = prediction;
        if (Directory.Exists(prediction))
        {
            mapPath = Path.Combine(prediction, BachMapFileName);
            if (!File.Exists(mapPath))
            {
                throw new ScoringException($"{prediction} holds no {BachMapFileName} (it is written when the model's classes map to BACH codes)");
            }
        }
        else if (!File.Exists(prediction))
        {
            throw new ScoringException($"{prediction}: prediction not found (give a slide output directory or a {BachMapFileName})");
        }

        if (geometryPath is null)
        {
            string sibling = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(mapPath)) ?? ".", MapGeometry.FileName);
            geometryPath = File.Exists(sibling) ? sibling : null;
        }

        var geometry = geometryPath is null ? null : MapGeometry.Load(geometryPath);
        var (pixels, width, height) = ImageIO.LoadGray(mapPath);
        if (geometry != null && (geometry.Width != width || geometry.Height != height))
        {
            throw new MapGeometryException($"{geometryPath} describes a {geometry.Width}x{geometry.Height} map but {mapPath} is {width}x{height}");
        }

        var predictionMask = geometry?.CreateMask(pixels) ?? new RasterMask(width, height, 1, 1, pixels);
        if (!File.Exists(truth))
        {
            throw new ScoringException(Directory.Exists(truth) ? $"{truth} is a directory; give an annotation file or a label mask" : $"{truth}: truth not found");
        }

        var warnings = new List<HistoWarning>();
        IReadOnlyList<LabelCount> unknown = [];
        RasterMask truthMask;
        TruthKind kind;
        if (Imaging.ImageSignature.Detect(ReadHead(truth)) is not null)
        {
            kind = TruthKind.Mask;
            truthMask = LoadTruthMask(truth, predictionMask, warnings);
        }
        else
        {
            kind = TruthKind.Annotations;
            var set = AnnotationReader.Read(truth, labelMap);
            unknown = set.UnknownLabels;
            if (geometry is null)
            {
                string problem = $"cannot place the annotations of {truth} on {mapPath}: no {MapGeometry.FileName} beside it";
                throw new ScoringException(problem, HistoParameter.MapGeometry, $"{problem} (give the slide output directory, or the map's {MapGeometry.FileName})");
            }

            CheckLabels(set, truth);
            var clipped = set.ClipTo(geometry.Level0X, geometry.Level0Y, geometry.Level0Width, geometry.Level0Height, "the prediction's area");
            if (!clipped.Classified.Any())
            {
                throw new ScoringException(string.Create(CultureInfo.InvariantCulture,
                    $"every annotated region of {truth} lies outside the prediction's area (level-0 x {geometry.Level0X:0}..{geometry.Level0X + geometry.Level0Width:0}, y {geometry.Level0Y:0}..{geometry.Level0Y + geometry.Level0Height:0}): wrong slide, or wrong geometry?"));
            }

            warnings.AddRange(clipped.Warnings.Select(w => w.ToWarning()));
            warnings.AddRange(unknown.Select(u => HistoWarning.WithRemedy(WarningCode.UnknownLabel,
                $"unknown label '{u.Label}' on {u.Count} region(s): not painted ({labelMap.Description})", HistoParameter.LabelMap, "give a label map that names it")));
            truthMask = AnnotationRasterizer.Rasterize(clipped.Annotations, geometry, cancellationToken);
        }

        var score = BachScore.Compute(predictionMask, truthMask);
        return new ScoreReport(score, width, height, mapPath, truth, kind, warnings, unknown);
    }

    private static void CheckLabels(AnnotationSet set, string truth)
    {
        if (set.Annotations.Count == 0)
        {
            string why = set.Warnings.Count > 0 ? $" ({set.Warnings.Count} skipped: {set.Warnings[0].Message})" : "";
            throw new ScoringException($"{truth} holds no usable annotation polygon{why}");
        }

        if (!set.Classified.Any())
        {
            string labels = string.Join(", ", set.UnknownLabels.Select(u => $"'{u.Label}' x{u.Count}"));
            string problem = $"no label of {truth} maps to a BACH class ({labels})";
            throw new ScoringException(problem, HistoParameter.LabelMap, $"{problem}; give a label map, e.g. \"{set.UnknownLabels[0].Label}=Invasive\"", set.UnknownLabels);
        }
    }

    private static byte[] ReadHead(string path) => IO.InputFile.ReadHead(path, 8);

    private static RasterMask LoadTruthMask(string path, RasterMask prediction, List<HistoWarning> warnings)
    {
        var (pixels, width, height) = ImageIO.LoadGray(path);
        int pw = prediction.Width, ph = prediction.Height;
        if (width == pw && height == ph)
        {
            return new RasterMask(pw, ph, prediction.Level0PerPixelX, prediction.Level0PerPixelY, pixels, prediction.Level0X, prediction.Level0Y);
        }

        if (!SameShape(width, height, pw, ph))
        {
            throw new ScoringException(
                $"truth mask {path} is {width}x{height}, prediction is {pw}x{ph}: the truth must be the prediction's size or a scaled copy of the same area (same aspect ratio)");
        }

        warnings.Add(new HistoWarning(WarningCode.MaskResized, $"truth mask {width}x{height} resized to the prediction's {pw}x{ph} (nearest neighbour)"));
        var resized = ResizeNearest(new RasterMask(width, height, 1, 1, pixels), pw, ph);
        return new RasterMask(pw, ph, prediction.Level0PerPixelX, prediction.Level0PerPixelY, resized.Pixels, prediction.Level0X, prediction.Level0Y);
    }

    /// <summary>
    /// True when one scale factor s maps the truth size onto the prediction size up to one pixel of rounding in each
    /// direction: s ∈ [t/(p+1), t/(p-1)] for both width and height.
    /// </summary>
    internal static bool SameShape(int truthWidth, int truthHeight, int predictionWidth, int predictionHeight)
    {
        static (double Low, double High) Range(int t, int p) => ((double)t / (p + 1), p > 1 ? (double)t / (p - 1) : double.PositiveInfinity);
        var (lx, hx) = Range(truthWidth, predictionWidth);
        var (ly, hy) = Range(truthHeight, predictionHeight);
        return Math.Max(lx, ly) <= Math.Min(hx, hy);
    }

    /// <summary>
    /// Nearest-neighbour resize that samples, for each output pixel, the input pixel under its centre:
    /// source x = floor((x + 0.5) * inputWidth / width) (the pixel-centre convention of <see cref="RasterMask"/>).
    /// The result covers the same level-0 area.
    /// </summary>
    public static RasterMask ResizeNearest(RasterMask mask, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var sourceX = new int[width];
        for (int x = 0; x < width; x++)
        {
            sourceX[x] = Math.Min(mask.Width - 1, (int)((x + 0.5) * mask.Width / width));
        }

        var pixels = new byte[width * height];
        for (int y = 0; y < height; y++)
        {
            var source = mask.Row(Math.Min(mask.Height - 1, (int)((y + 0.5) * mask.Height / height)));
            var target = pixels.AsSpan(y * width, width);
            for (int x = 0; x < width; x++)
            {
                target[x] = source[sourceX[x]];
            }
        }

        return new RasterMask(width, height, mask.Level0PerPixelX * mask.Width / width, mask.Level0PerPixelY * mask.Height / height, pixels, mask.Level0X, mask.Level0Y);
    }
}
