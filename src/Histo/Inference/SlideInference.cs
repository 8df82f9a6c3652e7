using System.Globalization;
using System.Threading.Channels;
using Histo.Annotations;
using Histo.Imaging;
using Histo.Masks;
using Histo.Models;
using Histo.Patches;
using Histo.Slides;
using Histo.Tissue;

namespace Histo.Inference;

/// <summary>Where the patches of a slide may lie: detected tissue (default), a mask PNG, or an annotation file.</summary>
public abstract record RegionOfInterest
{
    private RegionOfInterest()
    {
    }

    /// <summary>Tissue found by <see cref="TissueDetector"/>.</summary>
    public sealed record DetectedTissue(TissueOptions? Options = null) : RegionOfInterest;

    /// <summary>An 8-bit mask PNG over the whole slide (non-zero = region), same aspect ratio as the slide.</summary>
    public sealed record MaskFile(string Path) : RegionOfInterest;

    /// <summary>An annotation file (Aperio / ASAP XML, GeoJSON): the union of all its polygons, whatever their labels.</summary>
    public sealed record AnnotationFile(string Path) : RegionOfInterest;

    /// <summary>Reads a path as a mask (PNG/JPEG/TIFF image) or an annotation file, by its content.</summary>
    public static RegionOfInterest FromPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new HistoException($"{path}: region of interest not found (give a mask PNG or an annotation file)");
        }

        return Imaging.ImageSignature.Detect(IO.InputFile.ReadHead(path, Imaging.ImageSignature.HeadBytes)) is not null ? new MaskFile(path) : new AnnotationFile(path);
    }
}

/// <summary>Settings of <see cref="SlideInference"/>.</summary>
public sealed record SlideInferenceOptions
{
    /// <summary>Patches per model call (default 16).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Threads reading and decoding patches while the model computes (default: half the cores, at least 1).</summary>
    public int ReaderThreads { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>
    /// Step between patches in patch pixels. A smaller stride gives a finer map: each map cell is one stride wide and
    /// averages the probabilities of every patch covering its centre. Default (null): the card's crop stride when the
    /// model was trained on sliding-window crops (the seed's Part B maps: 41.6 µm cells under 628 µm crops), else the
    /// patch size, shortened on a slide with MPP so that map cells are at most
    /// <see cref="SlideInference.MaxDefaultCellMicrons"/> (overlapping patches). See
    /// <see cref="SlideInference.DefaultStridePixels"/>.
    /// </summary>
    public int? StridePixels { get; init; }

    /// <summary>
    /// Patches (and map cells) with less region of interest than this fraction are skipped (default 0.05, the seed's
    /// 5 %); 0 keeps every grid position.
    /// </summary>
    public double MinTissueFraction { get; init; } = 0.05;

    /// <summary>Where patches may lie (default: detected tissue).</summary>
    public RegionOfInterest Region { get; init; } = new RegionOfInterest.DetectedTissue();

    /// <summary>The class-map rule; null = the card's tuned thresholds when it has them, else argmax.</summary>
    public ClassMapRule? Rule { get; init; }

    /// <summary>Longer side of the thumbnail under the overlay, in pixels (default 1024).</summary>
    public int ThumbnailMaxPixels { get; init; } = 1024;

    /// <summary>Checks the values.</summary>
    public void Validate()
    {
        if (BatchSize is < 1 or > 4096)
        {
            throw new InvalidParameterException($"batch size must be between 1 and 4096, got {BatchSize}");
        }

        if (ReaderThreads is < 1 or > 256)
        {
            throw new InvalidParameterException($"reader threads must be between 1 and 256, got {ReaderThreads}");
        }

        if (StridePixels is < 1)
        {
            throw new InvalidParameterException($"stride must be at least 1 pixel, got {StridePixels}");
        }

        if (!(MinTissueFraction is >= 0 and <= 1))
        {
            throw new InvalidParameterException($"minimum tissue fraction must be between 0 and 1, got {MinTissueFraction.ToString(CultureInfo.InvariantCulture)}");
        }

        if (ThumbnailMaxPixels < 16)
        {
            throw new InvalidParameterException($"thumbnail size must be at least 16 pixels, got {ThumbnailMaxPixels}");
        }
    }
}

/// <summary>Progress of one slide: what stage it is in and how many patches are done.</summary>
/// <param name="Slide">The slide's name.</param>
/// <param name="Stage">"tissue", "patches" or "writing".</param>
/// <param name="PatchesDone">Patches classified so far.</param>
/// <param name="PatchCount">Patches to classify (known once the grid is filtered).</param>
public readonly record struct SlideInferenceProgress(string Slide, string Stage, long PatchesDone, long PatchCount);

/// <summary>How a slide's patches were laid out and filtered: the settings its <c>summary.json</c> records.</summary>
/// <param name="StridePixels">Step between patches in patch pixels (<c>--stride-pixels</c>, or its default).</param>
/// <param name="Level0StridePixels">The same step in level-0 pixels.</param>
/// <param name="MinTissueFraction">Patches and map cells with less region of interest than this were skipped.</param>
/// <param name="Region">Where patches could lie: <c>tissue</c> (detected), <c>mask</c> or <c>annotation</c> (<c>--roi</c>).</param>
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

/// <summary>One classified patch.</summary>
/// <param name="Level0X">Left edge, level-0 pixels.</param>
/// <param name="Level0Y">Top edge, level-0 pixels.</param>
/// <param name="Level0Size">Side, level-0 pixels.</param>
/// <param name="TissueFraction">Fraction of the patch inside the region of interest.</param>
/// <param name="Probabilities">Class probabilities in the card's class order.</param>
public sealed record PatchPrediction(long Level0X, long Level0Y, long Level0Size, double TissueFraction, float[] Probabilities);

/// <summary>
/// The maps of one slide. Map cell (x, y) covers the level-0 rectangle given by <see cref="Geometry"/>; the maps are
/// row-major, <see cref="MapGeometry.Width"/> x <see cref="MapGeometry.Height"/>.
/// </summary>
public sealed class SlideInferenceResult
{
    /// <summary>Value of <see cref="ClassMap"/> cells outside the region of interest.</summary>
    public const byte NoTissue = 255;

    internal SlideInferenceResult(string slidePath, ModelCard card, MapGeometry geometry, float[][] probabilityMaps, double[] intensity,
        byte[] classMap, IReadOnlyList<PatchPrediction> patches, ClassMapRule rule, IReadOnlyList<int> codes, double? level0MppX, double? level0MppY,
        ResolvedResolution resolution, IReadOnlyList<string> warnings)
    {
        (SlidePath, Card, Geometry, ProbabilityMaps, Intensity, ClassMap, Patches, Rule, Codes, Level0MppX, Level0MppY, Resolution, Warnings) =
            (slidePath, card, geometry, probabilityMaps, intensity, classMap, patches, rule, codes, level0MppX, level0MppY, resolution, warnings);
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
    public IReadOnlyList<string> Warnings { get; }

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
        return SlideInference.Classify(ProbabilityMaps, ClassMap, rule, Codes);
    }
}

/// <summary>
/// Whole-slide inference: region of interest (detected tissue, a mask or an annotation file) → patch grid at the
/// card's µm/px and patch size → batched <see cref="IPatchClassifier.Predict"/> → per-class probability maps, the
/// seed's intensity heatmap and a class map. Patches are read, decoded (and, for an <see cref="IPreparingPatchClassifier"/>,
/// stain-normalised and resized) on <see cref="SlideInferenceOptions.ReaderThreads"/> threads, one batch ahead of the model (a bounded channel of two batches), so memory is bounded by the batch and
/// map sizes whatever the slide size. Batches hold consecutive grid positions, so results do not depend on thread timing.
/// <para>
/// Resolution: patches are cut at the card's µm/px. A slide without MPP is refused when the card has an MPP (the
/// scale would be a guess); when the card has none either, patches are cut at level 0 with a warning. A slide scanned
/// more than twice as coarse as the card's µm/px is refused (model/slide mismatch).
/// </para>
/// </summary>
public sealed class SlideInference
{
    /// <summary>Below this level-0 downsample (patches enlarged more than 2x) the slide is too coarse for the model.</summary>
    public const double MinDownsample = 0.5;

    private readonly IPatchClassifier _classifier;

    /// <summary>Creates the pipeline for a classifier; the options are validated here.</summary>
    public SlideInference(IPatchClassifier classifier, SlideInferenceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        _classifier = classifier;
        Options = options ?? new SlideInferenceOptions();
        Options.Validate();
        var card = classifier.Card;
        Codes = card.HasBachCodes ? card.BachCodes! : Enumerable.Range(0, card.Classes.Count).ToList();
        Rule = Options.Rule ?? (card.Thresholds is { Count: > 0 } t ? ClassMapRule.WithThresholds(t) : ClassMapRule.Argmax);
        if (Rule.Thresholds is { } thresholds && thresholds.Count != Codes.Max() + 1)
        {
            throw new InvalidParameterException(
                $"the threshold rule needs {Codes.Max() + 1} thresholds (one per code 0..{Codes.Max()}), got {thresholds.Count}");
        }
    }

    /// <summary>The settings in use.</summary>
    public SlideInferenceOptions Options { get; }

    /// <summary>The model's card.</summary>
    public ModelCard Card => _classifier.Card;

    /// <summary>The class-map rule in use.</summary>
    public ClassMapRule Rule { get; }

    /// <summary>The ordinal codes used for the intensity (BACH codes, or class indices).</summary>
    public IReadOnlyList<int> Codes { get; }

    /// <summary>Largest map cell, in µm, of a run given no stride (on a slide with MPP): 100 µm.</summary>
    public const double MaxDefaultCellMicrons = 100;

    /// <summary>
    /// The model's own patch stride: <paramref name="requestedPixels"/> when given, else the card's crop stride
    /// (rounded, at least 1) for a model trained on overlapping crops, else null (the patch size). A run given no
    /// stride shortens it further to keep map cells small (see <see cref="DefaultStridePixels"/>).
    /// </summary>
    public static int? StridePixelsFor(ModelCard card, int? requestedPixels)
    {
        ArgumentNullException.ThrowIfNull(card);
        if (requestedPixels != null)
        {
            return requestedPixels;
        }

        return card.CropStridePixels is { } crop && crop > 0 && crop < card.PatchSizePixels
            ? Math.Max(1, (int)Math.Round(crop, MidpointRounding.AwayFromZero))
            : null;
    }

    /// <summary>
    /// The stride, in patch pixels, of a run given none: the model's own (<see cref="StridePixelsFor"/>: its crop stride,
    /// else the patch size), shortened when the slide's MPP is known until every map cell is at most
    /// <see cref="MaxDefaultCellMicrons"/> on both axes, the map being fitted to the slide in whole cells (see
    /// <see cref="MapCells"/>). Patches then overlap: a 256 µm patch at a 100 µm stride covers about 2.6 cells across.
    /// </summary>
    /// <param name="card">The model's card.</param>
    /// <param name="level0Downsample">Level-0 pixels per patch pixel.</param>
    /// <param name="level0MppX">Slide µm per level-0 pixel across, or null when unknown (then no shortening).</param>
    /// <param name="level0MppY">Slide µm per level-0 pixel down, or null when unknown.</param>
    /// <param name="level0Width">Slide width in level-0 pixels.</param>
    /// <param name="level0Height">Slide height in level-0 pixels.</param>
    public static int DefaultStridePixels(ModelCard card, double level0Downsample, double? level0MppX, double? level0MppY, long level0Width, long level0Height)
    {
        ArgumentNullException.ThrowIfNull(card);
        int stride = StridePixelsFor(card, null) ?? card.PatchSizePixels;
        if (level0MppX is not { } mppX || level0MppY is not { } mppY || !(mppX > 0 && mppY > 0) || !(level0Downsample > 0))
        {
            return stride;
        }

        double CellMicrons(int s) => Math.Max(
            level0Width / (double)MapCells(level0Width, s * level0Downsample) * mppX,
            level0Height / (double)MapCells(level0Height, s * level0Downsample) * mppY);

        double micronsPerPatchPixel = level0Downsample * Math.Max(mppX, mppY);
        stride = Math.Clamp((int)Math.Floor(MaxDefaultCellMicrons / micronsPerPatchPixel + 1e-9), 1, stride);

        // Whole cells over the slide stretch a cell by up to half a cell per axis: step down until it fits.
        while (stride > 1 && (stride - 1) * level0Downsample >= 1 && CellMicrons(stride) > MaxDefaultCellMicrons)
        {
            stride--;
        }

        return stride;
    }

    /// <summary>
    /// Map cells along an axis of <paramref name="level0Length"/> pixels for a stride of <paramref name="level0Stride"/>
    /// level-0 pixels: the map covers the axis exactly in whole cells, each stretched or shrunk by under half a cell.
    /// </summary>
    public static int MapCells(long level0Length, double level0Stride) => (int)Math.Clamp(Math.Round(level0Length / level0Stride), 1, 1 << 20);

    /// <summary>Runs the pipeline on one slide.</summary>
    /// <exception cref="HistoException">Unreadable slide or region of interest, slide without MPP for a model with one.</exception>
    public SlideInferenceResult Run(string slidePath, IProgress<SlideInferenceProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(slidePath);
        using var slide = Slide.Open(slidePath);
        return Run(slide, progress, cancellationToken);
    }

    /// <summary>Runs the pipeline on an open slide.</summary>
    public SlideInferenceResult Run(Slide slide, IProgress<SlideInferenceProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(slide);
        var card = _classifier.Card;
        string name = CohortInputs.SlideName(slide.Path);
        var warnings = new List<string>();
        Resolution resolution;
        if (card.Mpp is { } cardMpp)
        {
            if (slide.MppX is null)
            {
                throw new HistoException(string.Create(CultureInfo.InvariantCulture,
                    $"{Path.GetFileName(slide.Path)} has no MPP but the model was trained at {cardMpp:0.###} µm/px: the patch scale cannot be known (convert the slide with its resolution, or use a model without an MPP)"));
            }

            resolution = Patches.Resolution.Mpp(cardMpp);
        }
        else
        {
            resolution = Patches.Resolution.Native;
            warnings.Add("the model card has no MPP: patches are cut at level 0 (native resolution)");
        }

        var resolvedEarly = resolution.Resolve(slide);
        if (resolvedEarly.Level0Downsample < MinDownsample)
        {
            throw new HistoException(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(slide.Path)} is scanned at {slide.MppX:0.###} µm/px, much coarser than the model's {card.Mpp:0.###} µm/px (patches would be enlarged {1 / resolvedEarly.Level0Downsample:0.#}x): wrong model for this slide"));
        }

        progress?.Report(new SlideInferenceProgress(name, "tissue", 0, 0));
        var region = RegionMask(slide, warnings, cancellationToken);
        bool filter = Options.MinTissueFraction > 0;
        int stride = Options.StridePixels
            ?? DefaultStridePixels(card, resolvedEarly.Level0Downsample, slide.MppX, slide.MppY, slide.Width, slide.Height);
        var grid = PatchGrid.ForSlide(slide, resolution, card.PatchSizePixels, stride, filter ? region : null, Options.MinTissueFraction);
        warnings.AddRange(grid.Warnings);
        var resolved = grid.Resolution!;

        // Map cells are one stride wide; the map covers the whole slide exactly (cells are stretched by under half a cell).
        int mapWidth = MapCells(slide.Width, grid.Level0Stride);
        int mapHeight = MapCells(slide.Height, grid.Level0Stride);
        if ((long)mapWidth * mapHeight > 1L << 28)
        {
            throw new InvalidParameterException($"a map of {mapWidth}x{mapHeight} cells is too large; use a larger stride");
        }

        var geometry = new MapGeometry(0, 0, slide.Width, slide.Height, mapWidth, mapHeight, card.DisplayClassNames);
        var positions = grid.ToList();
        progress?.Report(new SlideInferenceProgress(name, "patches", 0, positions.Count));
        var probabilities = Classify(slide, positions, card, name, progress, cancellationToken);

        // A cell counts when a classified patch covers its centre and the region covers enough of the cell itself.
        var coverage = new MaskCoverage(region);
        var patches = new List<PatchPrediction>(positions.Count);
        for (int i = 0; i < positions.Count; i++)
        {
            var p = positions[i];
            patches.Add(new PatchPrediction(p.Level0X, p.Level0Y, p.Level0Size,
                p.TissueFraction ?? coverage.NonZeroFraction(p.Level0X, p.Level0Y, p.Level0Size, p.Level0Size), probabilities[i]));
        }

        double cellW = geometry.Level0PerPixelX, cellH = geometry.Level0PerPixelY;
        SlideInferenceResult result = BuildResult(slide.Path, card, geometry, patches,
            (x, y) => !filter || coverage.NonZeroFraction(x * cellW, y * cellH, cellW, cellH) >= Options.MinTissueFraction,
            Rule, Codes, slide.MppX, slide.MppY, resolved, warnings);
        result.Engine = _classifier.Engine;
        result.Sampling = SlideSampling.Of(Options, grid);
        return result;
    }

    /// <summary>
    /// The maps from classified patches: each cell averages the patches covering its centre; a cell is inside the
    /// region when some patch covers it and <paramref name="cellInRegion"/>(x, y) holds.
    /// </summary>
    internal static SlideInferenceResult BuildResult(string slidePath, ModelCard card, MapGeometry geometry, List<PatchPrediction> patches,
        Func<int, int, bool> cellInRegion, ClassMapRule rule, IReadOnlyList<int> codes, double? mppX, double? mppY, ResolvedResolution resolved,
        List<string> warnings)
    {
        int mapWidth = geometry.Width, mapHeight = geometry.Height;
        int classes = card.Classes.Count;
        var sums = PatchTable.CellMeans(geometry, patches, classes);
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

                classMap[cell] = inside ? (byte)0 : SlideInferenceResult.NoTissue;
            }
        }

        var intensity = new double[mapWidth * mapHeight];
        var cellProbabilities = new float[classes];
        for (int cell = 0; cell < intensity.Length; cell++)
        {
            if (classMap[cell] == SlideInferenceResult.NoTissue)
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

        classMap = Classify(sums, classMap, rule, codes);
        if (!classMap.Any(v => v != SlideInferenceResult.NoTissue))
        {
            warnings.Add("no tissue found: the maps are empty");
        }

        return new SlideInferenceResult(slidePath, card, geometry, sums, intensity, classMap, patches, rule, codes, mppX, mppY, resolved, warnings);
    }

    /// <summary>Applies a rule to every cell that is inside the region (not <see cref="SlideInferenceResult.NoTissue"/> in <paramref name="region"/>).</summary>
    internal static byte[] Classify(IReadOnlyList<float[]> probabilityMaps, byte[] region, ClassMapRule rule, IReadOnlyList<int> codes)
    {
        int classes = probabilityMaps.Count;
        var result = new byte[region.Length];
        var p = new float[classes];
        for (int cell = 0; cell < region.Length; cell++)
        {
            if (region[cell] == SlideInferenceResult.NoTissue)
            {
                result[cell] = SlideInferenceResult.NoTissue;
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

    /// <summary>The cells [first, end) whose centres lie inside [start, start + size) along one axis.</summary>
    private RasterMask RegionMask(Slide slide, List<string> warnings, CancellationToken cancellationToken)
    {
        switch (Options.Region)
        {
            case RegionOfInterest.MaskFile m:
            {
                var mask = RasterMask.Load(m.Path, slide.Width, slide.Height);
                if (!mask.Pixels.Any(v => v != 0))
                {
                    warnings.Add($"region of interest {Path.GetFileName(m.Path)} is empty");
                }

                return mask;
            }

            case RegionOfInterest.AnnotationFile a:
            {
                var set = AnnotationReader.Read(a.Path).ClipTo(0, 0, slide.Width, slide.Height);
                warnings.AddRange(set.Warnings.Select(w => w.Message));
                if (set.Annotations.Count == 0)
                {
                    throw new AnnotationFormatException(a.Path, $"{a.Path}: no annotation polygon lies on the slide ({slide.Width}x{slide.Height} level-0 px)");
                }

                var plan = TissueDetector.PlanMask(slide, new TissueOptions());
                return AnnotationRasterizer.Rasterize(set.Annotations.Select(x => x with { ClassCode = 255 }), plan.Width, plan.Height,
                    plan.Level0PerPixelX, plan.Level0PerPixelY, 0, 0, cancellationToken);
            }

            case RegionOfInterest.DetectedTissue t:
            {
                var tissue = new TissueDetector(t.Options).Detect(slide, null, cancellationToken);
                warnings.AddRange(tissue.Warnings.Where(w => !w.StartsWith("no tissue", StringComparison.Ordinal)));
                return tissue.Mask;
            }

            default:
                throw new InvalidParameterException("unknown region of interest");
        }
    }

    private float[][] Classify(Slide slide, List<PatchPosition> positions, ModelCard card, string name,
        IProgress<SlideInferenceProgress>? progress, CancellationToken cancellationToken)
    {
        var result = new float[positions.Count][];
        if (positions.Count == 0)
        {
            return result;
        }

        int batch = Options.BatchSize, size = card.PatchSizePixels;
        var preparing = _classifier as IPreparingPatchClassifier; // preprocessing then runs on the reader threads too
        int batches = (positions.Count + batch - 1) / batch;
        var channel = Channel.CreateBounded<(int Start, RgbaImage[] Images)>(new BoundedChannelOptions(2)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                for (int b = 0; b < batches; b++)
                {
                    int start = b * batch, count = Math.Min(batch, positions.Count - start);
                    var images = new RgbaImage[count];
                    ParallelWork.For(count, Options.ReaderThreads, linked.Token, i =>
                    {
                        var patch = PatchReader.Read(slide, positions[start + i], size);
                        images[i] = preparing is null ? patch : preparing.Prepare(patch);
                    });
                    await channel.Writer.WriteAsync((start, images), linked.Token).ConfigureAwait(false);
                }

                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.Complete(e);
            }
        }, linked.Token);

        try
        {
            long done = 0;
            var reader = channel.Reader;
            while (reader.WaitToReadAsync(linked.Token).AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var item))
                {
                    var rows = preparing is null ? _classifier.Predict(item.Images, linked.Token) : preparing.PredictPrepared(item.Images, linked.Token);
                    if (rows.Length != item.Images.Length || rows.Any(r => r.Length != card.Classes.Count))
                    {
                        throw new HistoException($"the model returned {rows.Length} rows for {item.Images.Length} patches (expected {card.Classes.Count} probabilities each)");
                    }

                    rows.CopyTo(result, item.Start);
                    done += rows.Length;
                    progress?.Report(new SlideInferenceProgress(name, "patches", done, positions.Count));
                }
            }
        }
        catch
        {
            linked.Cancel();
            try
            {
                producer.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
            }

            throw;
        }

        producer.GetAwaiter().GetResult();
        return result;
    }
}
