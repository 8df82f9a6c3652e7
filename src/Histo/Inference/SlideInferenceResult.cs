using Histo.Imaging;
using Histo.Maps;
using Histo.Models;
using Histo.Patches;
using Histo.Tissue;

namespace Histo.Inference;

/// <summary>Progress of one slide: what stage it is in and how many patches are done.</summary>
/// <param name="Slide">The slide's name.</param>
/// <param name="Stage">"tissue", "patches" or "writing".</param>
/// <param name="PatchesDone">Patches classified so far.</param>
/// <param name="PatchCount">Patches to classify (known once the grid is filtered).</param>
public readonly record struct SlideInferenceProgress(string Slide, string Stage, long PatchesDone, long PatchCount);

/// <summary>How a slide's patches were laid out and filtered: the settings its <c>summary.json</c> records.</summary>
/// <param name="StridePixels">Step between patches in patch pixels (<see cref="SlideInferenceOptions.StridePixels"/>, or its default).</param>
/// <param name="Level0StridePixels">The same step in level-0 pixels.</param>
/// <param name="MinTissueFraction">Patches and map cells with less region of interest than this were skipped.</param>
/// <param name="Region">Where patches could lie: <c>tissue</c> (detected), <c>mask</c> or <c>annotation</c> (<see cref="SlideInferenceOptions.Region"/>).</param>
/// <param name="RegionFile">The mask or annotation file's name; null for detected tissue.</param>
/// <param name="TissueMethod">The tissue detector's candidate rule (<c>lab</c> or <c>otsu</c>) for detected tissue; null otherwise.</param>
public sealed record SlideSampling(int StridePixels, double Level0StridePixels, double MinTissueFraction, string Region, string? RegionFile, string? TissueMethod)
{
    /// <summary>The sampling of a run with <paramref name="options"/> over <paramref name="grid"/>.</summary>
    internal static SlideSampling Of(SlideInferenceOptions options, PatchGrid grid) => options.Region switch
    {
        RegionOfInterest.MaskFile m => new(grid.StridePixels, grid.Level0Stride, options.MinTissueFraction, "mask", Path.GetFileName(m.Path), null),
        RegionOfInterest.AnnotationFile a => new(grid.StridePixels, grid.Level0Stride, options.MinTissueFraction, "annotation", Path.GetFileName(a.Path), null),
        RegionOfInterest.DetectedTissue t => new(grid.StridePixels, grid.Level0Stride, options.MinTissueFraction, "tissue", null,
            (t.Options?.Method ?? new TissueOptions().Method).ToString().ToLowerInvariant()),
        _ => throw new InvalidParameterException("unknown region of interest"),
    };
}

/// <summary>
/// The maps of one slide. Map cell (x, y) covers the level-0 rectangle given by <see cref="Geometry"/>; the maps are
/// row-major, <see cref="MapGeometry.Width"/> x <see cref="MapGeometry.Height"/>.
/// </summary>
public sealed class SlideInferenceResult
{
    /// <summary>Value of <see cref="ClassMap"/> cells outside the region of interest (<see cref="MapAggregation.NoTissue"/>).</summary>
    public const byte NoTissue = MapAggregation.NoTissue;

    internal SlideInferenceResult(string slidePath, ModelCard card, MapGeometry geometry, float[][] probabilityMaps, double[] intensity,
        byte[] classMap, IReadOnlyList<PatchPrediction> patches, ClassMapRule rule, IReadOnlyList<int> codes, double? level0MppX, double? level0MppY,
        ResolvedResolution resolution, IReadOnlyList<HistoWarning> warnings)
    {
        (SlidePath, Card, Geometry, ProbabilityMaps, Intensity, ClassMap, Patches, Rule, Codes, Level0MppX, Level0MppY, Resolution, Warnings) =
            (slidePath, card, geometry, probabilityMaps, intensity, classMap, patches, rule, codes, level0MppX, level0MppY, resolution, warnings);
    }

    /// <summary>
    /// The result from classified patches, the maps aggregated by <see cref="MapAggregation.Aggregate"/> (a cell is
    /// inside the region when some patch covers it and <paramref name="cellInRegion"/>(x, y) holds); adds the
    /// "no tissue" warning when no cell is.
    /// </summary>
    internal static SlideInferenceResult FromPatches(string slidePath, ModelCard card, MapGeometry geometry, List<PatchPrediction> patches,
        Func<int, int, bool> cellInRegion, ClassMapRule rule, IReadOnlyList<int> codes, double? mppX, double? mppY, ResolvedResolution resolved,
        List<HistoWarning> warnings)
    {
        var maps = MapAggregation.Aggregate(geometry, patches, card.Classes.Count, cellInRegion, rule, codes);
        if (!maps.ClassMap.Any(v => v != NoTissue))
        {
            warnings.Add(new HistoWarning(WarningCode.NoTissue, "no tissue found: the maps are empty"));
        }

        return new SlideInferenceResult(slidePath, card, geometry, maps.ProbabilityMaps, maps.Intensity, maps.ClassMap, patches, rule, codes, mppX, mppY, resolved, warnings);
    }

    /// <summary>The slide read.</summary>
    public string SlidePath { get; }

    /// <summary>The model's card.</summary>
    public ModelCard Card { get; }

    /// <summary>How the maps lie over the slide (covers the whole slide; class names = the card's).</summary>
    public MapGeometry Geometry { get; }

    /// <summary>One map per class: the mean probability of the patches covering each cell (NaN outside the region).</summary>
    public IReadOnlyList<float[]> ProbabilityMaps { get; }

    /// <summary>The seed's intensity 0..1 per cell (see <see cref="ClassMapRule.Intensity"/>), NaN outside the region.</summary>
    public double[] Intensity { get; }

    /// <summary>Class index per cell, <see cref="NoTissue"/> outside the region.</summary>
    public byte[] ClassMap { get; }

    /// <summary>The classified patches in grid order.</summary>
    public IReadOnlyList<PatchPrediction> Patches { get; }

    /// <summary>The rule that made <see cref="ClassMap"/>.</summary>
    public ClassMapRule Rule { get; }

    /// <summary>The ordinal code of each class used for the intensity: BACH codes when the card has them, else class indices.</summary>
    public IReadOnlyList<int> Codes { get; }

    /// <summary>Slide level-0 µm/px (x), when known.</summary>
    public double? Level0MppX { get; }

    /// <summary>Slide level-0 µm/px (y), when known.</summary>
    public double? Level0MppY { get; }

    /// <summary>The patch resolution as resolved on the slide.</summary>
    public ResolvedResolution Resolution { get; }

    /// <summary>Fallbacks and notes (no MPP, no tissue...).</summary>
    public IReadOnlyList<HistoWarning> Warnings { get; }

    /// <summary>The engine that classified the patches (see <see cref="IPatchClassifier.Engine"/>); null for a result read back from files.</summary>
    public EngineUsage? Engine { get; internal set; }

    /// <summary>
    /// The side of a map cell in µm (the longer side, when fitting whole cells to the slide makes them slightly
    /// oblong), or null when the slide has no MPP.
    /// </summary>
    public double? CellSizeMicrons => Level0MppX is { } x && Level0MppY is { } y
        ? Math.Max(Geometry.Level0PerPixelX * x, Geometry.Level0PerPixelY * y)
        : null;
    /// <summary>How the patches were laid out and filtered; null for a result read back from files that do not record it.</summary>
    public SlideSampling? Sampling { get; internal set; }

    /// <summary>
    /// The slide's thumbnail (longest side <see cref="SlideInferenceOptions.ThumbnailMaxPixels"/>), taken while the
    /// pipeline had the slide open, for the pictures of its outputs; null for a result read back from files.
    /// </summary>
    public RgbaImage? Thumbnail { get; internal set; }

    /// <summary>The slide's level-0 size in pixels, (0, 0) for a result read back from files.</summary>
    public (long Width, long Height) SlideSizePixels { get; internal set; }

    /// <summary>Number of map cells inside the region of interest.</summary>
    public long TissueCells => ClassMap.LongCount(v => v != NoTissue);

    /// <summary>The class map as a mask on <see cref="Geometry"/>.</summary>
    public RasterMask ClassMask() => Geometry.CreateMask(ClassMap);

    /// <summary>The BACH code map (0..3; no tissue = 0 Normal), or null when the card has no BACH codes.</summary>
    public byte[]? BachMap()
    {
        if (!Card.HasBachCodes)
        {
            return null;
        }

        var codes = Card.BachCodes!;
        var map = new byte[ClassMap.Length];
        for (int i = 0; i < map.Length; i++)
        {
            map[i] = ClassMap[i] == NoTissue ? (byte)0 : (byte)codes[ClassMap[i]];
        }

        return map;
    }

    /// <summary>The class map again under another rule (the probabilities are kept), e.g. for tuning thresholds.</summary>
    public byte[] ClassMapWith(ClassMapRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return MapAggregation.Classify(ProbabilityMaps, ClassMap, rule, Codes);
    }
}
