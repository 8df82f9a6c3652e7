using System.Globalization;
using Histo.Annotations;
using Histo.Imaging;
using Histo.Maps;
using Histo.Scoring;
using Histo.Slides;

namespace Histo.Inference;

/// <summary>Ground truth of a slide as a BACH code map (0..3) on a prediction's grid.</summary>
public static class GroundTruth
{
    /// <summary>
    /// The truth on <paramref name="geometry"/>: an annotation file (Aperio / ASAP XML, GeoJSON) rasterised onto the
    /// grid (unannotated = Normal 0, innermost region wins), or a label mask PNG of BACH codes covering the same
    /// level-0 area as the geometry (any size of the same shape; sampled at pixel centres).
    /// </summary>
    /// <exception cref="HistoException">Missing or unreadable file, no usable label, mask of another shape, codes above 3.</exception>
    public static RasterMask Load(string path, MapGeometry geometry, LabelMap? labelMap = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(geometry);
        if (!File.Exists(path))
        {
            throw new ScoringException($"{path}: ground truth not found");
        }

        if (IsImage(path))
        {
            var (pixels, width, height) = ImageIO.LoadGray(path);
            if (!SlideScorer.SameShape(width, height, geometry.Width, geometry.Height) && Math.Abs((double)width / height / (geometry.Level0Width / geometry.Level0Height) - 1) > 0.02)
            {
                throw new ScoringException($"label mask {path} is {width}x{height}, which is not the shape of the slide ({geometry.Level0Width}x{geometry.Level0Height})");
            }

            if (pixels.Any(v => v > 3))
            {
                throw new ScoringException($"label mask {path} holds values above 3; expected BACH codes 0..3");
            }

            var resized = SlideScorer.ResizeNearest(new RasterMask(width, height, geometry.Level0Width / width, geometry.Level0Height / height, pixels), geometry.Width, geometry.Height);
            return geometry.CreateMask(resized.Pixels);
        }

        var set = AnnotationReader.Read(path, labelMap ?? LabelMap.Bach);
        if (!set.Classified.Any())
        {
            throw new ScoringException($"no label of {path} maps to a BACH class ({string.Join(", ", set.UnknownLabels.Select(u => $"'{u.Label}'"))})");
        }

        var clipped = set.ClipTo(geometry.Level0X, geometry.Level0Y, geometry.Level0Width, geometry.Level0Height);
        if (!clipped.Classified.Any())
        {
            throw new ScoringException($"every annotated region of {path} lies outside the slide: wrong slide?");
        }

        return AnnotationRasterizer.Rasterize(clipped.Classified.Where(a => a.ClassCode is >= 0 and <= 3), geometry, cancellationToken);
    }

    /// <summary>True when the file looks like an image (label mask) rather than an annotation file.</summary>
    public static bool IsImage(string path) => Imaging.ImageSignature.Detect(IO.InputFile.ReadHead(path, Imaging.ImageSignature.HeadBytes)) is not null;

    /// <summary>
    /// Pairs slides with truth files by name: the truth's file name without extension is the slide's, optionally
    /// followed by <c>-labels</c>, <c>_labels</c>, <c>-mask</c>, <c>_mask</c>, <c>-annotations</c> or <c>_annotations</c>
    /// (<c>A01.svs</c> ↔ <c>A01.xml</c>, <c>A01-window.tif</c> ↔ <c>A01-window-labels.png</c>).
    /// </summary>
    /// <exception cref="HistoException">A slide without a truth, a truth without a slide, or two truths for one slide.</exception>
    public static IReadOnlyList<(string Slide, string Truth)> Pair(IReadOnlyList<string> slides, IReadOnlyList<string> truths)
    {
        ArgumentNullException.ThrowIfNull(slides);
        ArgumentNullException.ThrowIfNull(truths);
        var pairs = new List<(string, string)>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (string slide in slides)
        {
            string name = SlideFormats.SlideName(slide);
            var matches = truths.Where(t => TruthStemMatches(Path.GetFileNameWithoutExtension(t), name)).ToList();
            if (matches.Count == 0)
            {
                throw new ScoringException($"{slide}: no ground truth named like the slide (expected {name}.xml, {name}.geojson or {name}-labels.png among the arguments)");
            }

            if (matches.Count > 1)
            {
                throw new ScoringException($"{slide}: several ground truth files match ({string.Join(", ", matches.Select(Path.GetFileName))})");
            }

            used.Add(matches[0]);
            pairs.Add((slide, matches[0]));
        }

        var unused = truths.Where(t => !used.Contains(t)).ToList();
        if (unused.Count > 0)
        {
            throw new ScoringException($"{unused[0]}: no slide named like this ground truth among the arguments");
        }

        return pairs;
    }

    /// <summary>True when a file name (without extension) is a truth name of <see cref="Pair"/> (ends with a truth suffix).</summary>
    public static bool HasTruthSuffix(string stem) => Suffixes.Any(s => s.Length > 0 && stem.EndsWith(s, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The file names <see cref="Pair"/> pairs with a slide named <paramref name="slideName"/> (its file name without
    /// extension), in order of preference: the name with each truth suffix, then <c>.xml</c>, <c>.geojson</c>,
    /// <c>.json</c> (annotation files) and <c>.png</c> (label masks).
    /// </summary>
    public static IEnumerable<string> FileNamesFor(string slideName)
    {
        ArgumentNullException.ThrowIfNull(slideName);
        return from suffix in Suffixes from extension in TruthExtensions select slideName + suffix + extension;
    }

    private static readonly string[] Suffixes = ["", "-labels", "_labels", "-mask", "_mask", "-annotations", "_annotations"];

    private static readonly string[] TruthExtensions = [".xml", ".geojson", ".json", ".png"];

    private static bool TruthStemMatches(string stem, string slideName) =>
        Suffixes.Any(s => string.Equals(stem, slideName + s, StringComparison.OrdinalIgnoreCase));
}

/// <summary>The outcome of <see cref="ThresholdTuner.Tune"/>.</summary>
/// <param name="Thresholds">The best thresholds t_0..t_3 (t_0 = 0).</param>
/// <param name="Score">Pooled BACH Part B score at those thresholds.</param>
/// <param name="SeedScore">Pooled score at the seed's 0 / 0.35 / 0.70 / 0.75.</param>
/// <param name="ArgmaxScore">Pooled score of the argmax class maps.</param>
/// <param name="Cells">Map cells pooled.</param>
/// <param name="Step">Grid step of the search.</param>
public sealed record TuningResult(IReadOnlyList<double> Thresholds, double Score, double SeedScore, double ArgmaxScore, long Cells, double Step);

/// <summary>
/// Chooses the heatmap thresholds that maximise the pooled BACH Part B score over annotated slides: an exhaustive
/// search over t_1 ≤ t_2 ≤ t_3 on a grid (step 0.01 by default; t_0 = 0). Each slide adds a histogram of its cells'
/// intensities per truth code, so the search costs nothing per cell. Cells without tissue count as predicted Normal
/// (as in <c>bach.png</c>). Ties go to the first combination in lexicographic order.
/// </summary>
public sealed class ThresholdTuner
{
    private const int Bins = 100; // intensity bins of 0.01; bin b holds b/100 <= I < (b+1)/100 (I = 1 in bin 100)

    private readonly long[,] _histogram = new long[4, Bins + 1]; // [truth code, intensity bin]
    private readonly long[] _noTissue = new long[4]; // cells outside tissue, by truth code
    private readonly long[] _argmaxConfusion = new long[16];

    /// <summary>Cells added so far.</summary>
    public long Cells { get; private set; }

    /// <summary>Adds one slide: its inference result (the card must map classes to BACH codes) and its truth on the same grid.</summary>
    public void Add(SlideInferenceResult result, RasterMask truth)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(truth);
        if (!result.Card.HasBachCodes)
        {
            throw new InvalidParameterException("tuning needs a model whose classes map to BACH codes (bach_codes in the card)");
        }

        if (truth.Width != result.Geometry.Width || truth.Height != result.Geometry.Height)
        {
            throw new ScoringException($"truth {truth.Width}x{truth.Height} does not match the map {result.Geometry.Width}x{result.Geometry.Height}");
        }

        var codes = result.Card.BachCodes!;
        var argmax = result.ClassMapWith(ClassMapRule.Argmax);
        for (int i = 0; i < truth.Pixels.Length; i++)
        {
            int g = truth.Pixels[i];
            if (g > 3)
            {
                throw new ScoringException($"truth holds {g}, not a BACH code 0..3");
            }

            if (result.ClassMap[i] == SlideInferenceResult.NoTissue)
            {
                _noTissue[g]++;
                _argmaxConfusion[g * 4]++;
            }
            else
            {
                _histogram[g, Bin(result.Intensity[i])]++;
                _argmaxConfusion[g * 4 + codes[argmax[i]]]++;
            }
        }

        Cells += truth.Pixels.Length;
    }

    /// <summary>Searches the thresholds; <paramref name="step"/> must be a multiple of 0.01 (0.01 to 0.25).</summary>
    public TuningResult Tune(double step = 0.01)
    {
        int stepBins = (int)Math.Round(step * Bins);
        if (stepBins < 1 || stepBins > 25 || Math.Abs(stepBins - step * Bins) > 1e-9)
        {
            throw new InvalidParameterException($"the search step must be a multiple of 0.01 between 0.01 and 0.25, got {step.ToString(CultureInfo.InvariantCulture)}");
        }

        if (Cells == 0)
        {
            throw new InvalidParameterException("no slide was added: nothing to tune on");
        }

        // Per truth code g and predicted code p: cells with intensity bin < b (prefix sums), so a threshold set gives
        // counts per predicted code by differences.
        var prefix = new long[4, Bins + 2];
        for (int g = 0; g < 4; g++)
        {
            for (int b = 0; b <= Bins; b++)
            {
                prefix[g, b + 1] = prefix[g, b] + _histogram[g, b];
            }
        }

        double bestScore = double.NegativeInfinity;
        int[] best = [0, 0, 0];
        var confusion = new long[16];
        for (int t1 = 0; t1 <= Bins; t1 += stepBins)
        {
            for (int t2 = t1; t2 <= Bins; t2 += stepBins)
            {
                for (int t3 = t2; t3 <= Bins; t3 += stepBins)
                {
                    Fill(confusion, prefix, t1, t2, t3);
                    double s = Score(confusion);
                    if (s > bestScore)
                    {
                        (bestScore, best) = (s, [t1, t2, t3]);
                    }
                }
            }
        }

        Fill(confusion, prefix, 35, 70, 75);
        double seed = Score(confusion);
        double argmax = Score(_argmaxConfusion);
        IReadOnlyList<double> thresholds = [0, best[0] / (double)Bins, best[1] / (double)Bins, best[2] / (double)Bins];
        return new TuningResult(thresholds, bestScore, seed, argmax, Cells, stepBins / (double)Bins);
    }

    /// <summary>The intensity bin of a value: floor(100 I), so I &gt;= k/100 exactly when the bin is &gt;= k.</summary>
    private static int Bin(double intensity) => Math.Clamp((int)Math.Floor(intensity * Bins), 0, Bins);

    private void Fill(long[] confusion, long[,] prefix, int t1, int t2, int t3)
    {
        for (int g = 0; g < 4; g++)
        {
            long total = prefix[g, Bins + 1];
            long below1 = prefix[g, t1], below2 = prefix[g, t2], below3 = prefix[g, t3];
            confusion[g * 4] = below1 + _noTissue[g];
            confusion[g * 4 + 1] = below2 - below1;
            confusion[g * 4 + 2] = below3 - below2;
            confusion[g * 4 + 3] = total - below3;
        }
    }

    /// <summary>The Part B score of a confusion table (DOMAIN.md); 1 when no cell counts.</summary>
    private static double Score(long[] confusion)
    {
        double error = 0, weight = 0;
        for (int g = 0; g < 4; g++)
        {
            for (int p = 0; p < 4; p++)
            {
                long n = confusion[g * 4 + p];
                if (n == 0 || (g == 0 && p == 0))
                {
                    continue;
                }

                error += n * Math.Abs(p - g);
                weight += n * Math.Max(g, 3 - g);
            }
        }

        return weight == 0 ? 1 : 1 - error / weight;
    }
}
