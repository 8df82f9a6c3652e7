using System.Globalization;
using System.Threading.Channels;
using Histo.Annotations;
using Histo.Imaging;
using Histo.Maps;
using Histo.Models;
using Histo.Patches;
using Histo.Slides;
using Histo.Tissue;

namespace Histo.Inference;

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
    /// <see cref="MapAggregation.MapCells"/>). Patches then overlap: a 256 µm patch at a 100 µm stride covers about 2.6 cells across.
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
            level0Width / (double)MapAggregation.MapCells(level0Width, s * level0Downsample) * mppX,
            level0Height / (double)MapAggregation.MapCells(level0Height, s * level0Downsample) * mppY);

        double micronsPerPatchPixel = level0Downsample * Math.Max(mppX, mppY);
        stride = Math.Clamp((int)Math.Floor(MaxDefaultCellMicrons / micronsPerPatchPixel + 1e-9), 1, stride);

        // Whole cells over the slide stretch a cell by up to half a cell per axis: step down until it fits.
        while (stride > 1 && (stride - 1) * level0Downsample >= 1 && CellMicrons(stride) > MaxDefaultCellMicrons)
        {
            stride--;
        }

        return stride;
    }

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
        string name = SlideFormats.SlideName(slide.Path);
        var warnings = new List<HistoWarning>();
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
            warnings.Add(new HistoWarning(WarningCode.ModelWithoutMpp, "the model card has no MPP: patches are cut at level 0 (native resolution)"));
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
        int mapWidth = MapAggregation.MapCells(slide.Width, grid.Level0Stride);
        int mapHeight = MapAggregation.MapCells(slide.Height, grid.Level0Stride);
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
        SlideInferenceResult result = SlideInferenceResult.FromPatches(slide.Path, card, geometry, patches,
            (x, y) => !filter || coverage.NonZeroFraction(x * cellW, y * cellH, cellW, cellH) >= Options.MinTissueFraction,
            Rule, Codes, slide.MppX, slide.MppY, resolved, warnings);
        result.Engine = _classifier.Engine;
        result.Sampling = SlideSampling.Of(Options, grid);
        result.Thumbnail = slide.GetThumbnail(Options.ThumbnailMaxPixels);
        result.SlideSizePixels = (slide.Width, slide.Height);
        return result;
    }

    private RasterMask RegionMask(Slide slide, List<HistoWarning> warnings, CancellationToken cancellationToken)
    {
        switch (Options.Region)
        {
            case RegionOfInterest.MaskFile m:
            {
                var mask = RasterMask.Load(m.Path, slide.Width, slide.Height);
                if (!mask.Pixels.Any(v => v != 0))
                {
                    warnings.Add(new HistoWarning(WarningCode.EmptyRegion, $"region of interest {Path.GetFileName(m.Path)} is empty"));
                }

                return mask;
            }

            case RegionOfInterest.AnnotationFile a:
            {
                var set = AnnotationReader.Read(a.Path).ClipTo(0, 0, slide.Width, slide.Height);
                warnings.AddRange(set.Warnings.Select(w => w.ToWarning()));
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
                warnings.AddRange(tissue.Warnings.Where(w => w.Code != WarningCode.NoTissue)); // the maps say so themselves
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
