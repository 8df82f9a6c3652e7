using System.Globalization;
using Histo.Imaging;
using Histo.Maps;
using Histo.Slides;
using OpenCvSharp;

namespace Histo.Tissue;

/// <summary>
/// Where a tissue mask is read from and how large it is: the mask covers the whole slide, each mask pixel covering
/// <see cref="Level0PerPixelX"/> x <see cref="Level0PerPixelY"/> level-0 pixels.
/// </summary>
/// <param name="LevelIndex">The pyramid level the pixels are read from.</param>
/// <param name="Width">Mask width in pixels.</param>
/// <param name="Height">Mask height in pixels.</param>
/// <param name="Level0PerPixelX">Level-0 pixels per mask pixel, horizontally.</param>
/// <param name="Level0PerPixelY">Level-0 pixels per mask pixel, vertically.</param>
/// <param name="IsWholeLevel">True when the mask is exactly a pyramid level (read without resizing).</param>
public readonly record struct MaskPlan(int LevelIndex, int Width, int Height, double Level0PerPixelX, double Level0PerPixelY, bool IsWholeLevel);

/// <summary>
/// Finds tissue on a slide or a pixel buffer: picks a low resolution (about <see cref="TissueOptions.MaskMpp"/> µm per
/// pixel), marks candidate pixels (<see cref="TissueMethod"/>), rejects pen ink, then closes gaps, fills holes and
/// drops small pieces. The detection itself works on pixel buffers (<see cref="DetectImage"/>); <see cref="Detect"/>
/// only adds the reading of the slide at the chosen resolution, in tiles when the level is large.
/// </summary>
public sealed class TissueDetector
{
    /// <summary>Largest side, in level pixels, of one region read from a slide.</summary>
    private const int MaxReadSide = 2048;

    // Pen ink rules on 8-bit HSV with the full hue range (hue byte = degrees x 256 / 360). H&E tissue lies between
    // about 240 and 345 degrees; green and blue ink between 70 and 235; red ink from 342 through 0 to 20 degrees with
    // a higher saturation than eosin; black ink is darker than any tissue at mask resolution.
    private const int PenMinSaturation = 38; // 0.15
    private const int GreenBlueMinHue = 50; // 70 degrees
    private const int GreenBlueMaxHue = 167; // 235 degrees
    private const int RedMinHue = 243; // 342 degrees
    private const int RedMaxHue = 14; // 20 degrees
    private const int RedMinSaturation = 89; // 0.35
    private const int BlackMaxValue = 64; // 0.25

    // Relaxed rules for the blurred rim of a stroke (ink thinned out over glass or tissue): counted as pen only where
    // connected to a stroke found with the strict rules above.
    private const int RimGreenBlueMinSaturation = 15; // 0.06
    private const int RimGreenBlueMinHue = 43; // 60 degrees
    private const int RimGreenBlueMaxHue = 178; // 250 degrees
    private const int RimRedMinHue = 240; // 338 degrees
    private const int RimRedMinSaturation = 26; // 0.10
    private const int RimBlackMaxValue = 128; // 0.5

    /// <summary>Creates a detector; the options are validated here.</summary>
    public TissueDetector(TissueOptions? options = null)
    {
        Options = options ?? new TissueOptions();
        Options.Validate();
    }

    /// <summary>The settings in use.</summary>
    public TissueOptions Options { get; }

    /// <summary>
    /// Chooses the mask's level and size for a slide. With MPP: a downsample of <see cref="TissueOptions.MaskMpp"/> /
    /// MPP (made finer when the mask's longer side would fall below <see cref="TissueOptions.MinMaskLongSidePixels"/>,
    /// never finer than level 0). Without MPP: the level whose longer side is closest to
    /// <see cref="TissueOptions.FallbackMaskLongSidePixels"/>, shrunk to that size if it is more than twice as long.
    /// A level within 10 % of the wanted downsample is used as it is.
    /// </summary>
    public static MaskPlan PlanMask(Slide slide, TissueOptions options)
    {
        ArgumentNullException.ThrowIfNull(slide);
        ArgumentNullException.ThrowIfNull(options);
        long longSide = Math.Max(slide.Width, slide.Height);
        double downsample;
        if (slide.MppX is { } mpp)
        {
            downsample = Math.Min(options.MaskMpp / mpp, (double)longSide / options.MinMaskLongSidePixels);
        }
        else
        {
            int best = 0;
            double bestDistance = double.MaxValue;
            for (int i = 0; i < slide.LevelCount; i++)
            {
                var l = slide.Levels[i];
                double distance = Math.Abs(Math.Log((double)Math.Max(l.Width, l.Height) / options.FallbackMaskLongSidePixels));
                if (distance < bestDistance)
                {
                    (best, bestDistance) = (i, distance);
                }
            }

            var chosen = slide.Levels[best];
            downsample = Math.Max(chosen.Width, chosen.Height) > 2L * options.FallbackMaskLongSidePixels
                ? (double)longSide / options.FallbackMaskLongSidePixels
                : chosen.Downsample;
        }

        downsample = Math.Max(downsample, 1.0);
        for (int i = 0; i < slide.LevelCount; i++)
        {
            var l = slide.Levels[i];
            if (Math.Abs(l.Downsample / downsample - 1) <= 0.10 && l.Width <= int.MaxValue && l.Height <= int.MaxValue)
            {
                CheckReadBound(slide, i);
                return new MaskPlan(i, (int)l.Width, (int)l.Height, (double)slide.Width / l.Width, (double)slide.Height / l.Height, true);
            }
        }

        int width = (int)Math.Clamp(Math.Round(slide.Width / downsample), 1, int.MaxValue);
        int height = (int)Math.Clamp(Math.Round(slide.Height / downsample), 1, int.MaxValue);
        if ((long)width * height > Slide.MaxRegionPixels)
        {
            throw new InvalidParameterException($"a tissue mask of {width}x{height} pixels is too large; use a coarser mask resolution");
        }

        int levelIndex = slide.GetBestLevelForDownsample(downsample);
        CheckReadBound(slide, levelIndex);
        return new MaskPlan(levelIndex, width, height, (double)slide.Width / width, (double)slide.Height / height, false);
    }

    /// <summary>
    /// Most level pixels a mask is made from (4.3 Gpx, a 65,536-pixel square). A slide without a pyramid level near
    /// the mask resolution is read whole; one larger than this (a header declaring a million pixels square in a few
    /// KB, say) is refused instead of being read for minutes.
    /// </summary>
    public const long MaxMaskReadPixels = 1L << 32;

    private static void CheckReadBound(Slide slide, int levelIndex)
    {
        var level = slide.Levels[levelIndex];
        if ((double)level.Width * level.Height > MaxMaskReadPixels)
        {
            throw new InvalidRegionException(string.Create(CultureInfo.InvariantCulture,
                $"a tissue mask of {System.IO.Path.GetFileName(slide.Path)} would be made from all {level.Width}x{level.Height} pixels of level {levelIndex} (more than {MaxMaskReadPixels:0.#e0}): the slide has no pyramid level near the mask resolution; give it one (e.g. vips tiffsave --tile --pyramid)"));
        }
    }

    /// <summary>
    /// Detects tissue on a slide. Reads the planned level (in tiles of at most 2048 x 2048 level pixels, on all cores), composites
    /// it over white and runs the detection. Reports progress as a fraction 0..1 of the tiles read.
    /// </summary>
    public TissueResult Detect(Slide slide, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(slide);
        var plan = PlanMask(slide, Options);
        var image = ReadMaskImage(slide, plan, progress, cancellationToken);
        var warnings = new List<HistoWarning>();
        double? mppX = slide.MppX * plan.Level0PerPixelX, mppY = slide.MppY * plan.Level0PerPixelY;
        if (mppX is null)
        {
            warnings.Add(new HistoWarning(WarningCode.NoMpp, string.Create(CultureInfo.InvariantCulture,
                $"{System.IO.Path.GetFileName(slide.Path)} has no MPP: the mask ({plan.Width}x{plan.Height}) was made from level {plan.LevelIndex}, and morphology sizes are relative to the mask size")));
        }

        return Run(image, plan.LevelIndex, plan.Level0PerPixelX, plan.Level0PerPixelY, mppX, mppY, warnings);
    }

    /// <summary>
    /// Detects tissue on a pixel buffer at its own resolution (the mask has the image's size, one level-0 pixel per
    /// mask pixel). Transparent pixels count as white glass. <paramref name="micronsPerPixel"/> scales the morphology;
    /// without it sizes are relative to the image size.
    /// </summary>
    public TissueResult DetectImage(RgbaImage image, double? micronsPerPixel = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (micronsPerPixel is { } m && !(m > 0 && double.IsFinite(m)))
        {
            throw new InvalidParameterException($"microns per pixel must be positive, got {m.ToString(CultureInfo.InvariantCulture)}");
        }

        return Run(ImageIO.IsOpaque(image) ? image : image.CompositeOverWhite(), 0, 1, 1, micronsPerPixel, micronsPerPixel, []);
    }

    /// <summary>
    /// Reads the planned mask image in tiles of at most <paramref name="maxReadSide"/> level pixels, on all cores
    /// (slide reads are thread-safe; each tile fills its own rectangle of the output).
    /// </summary>
    internal static RgbaImage ReadMaskImage(Slide slide, MaskPlan plan, IProgress<double>? progress, CancellationToken cancellationToken,
        int maxReadSide = MaxReadSide)
    {
        var level = slide.Levels[plan.LevelIndex];
        double levelPerMaskX = plan.Level0PerPixelX / level.Downsample, levelPerMaskY = plan.Level0PerPixelY / level.Downsample;
        int tile = Math.Max(16, (int)Math.Floor(maxReadSide / Math.Max(1.0, Math.Max(levelPerMaskX, levelPerMaskY))));
        var output = new RgbaImage(plan.Width, plan.Height);
        int tilesX = (plan.Width + tile - 1) / tile, tilesY = (plan.Height + tile - 1) / tile;
        int done = 0;
        var gate = new object();
        ParallelWork.For(tilesX * tilesY, Environment.ProcessorCount, cancellationToken, t =>
        {
            int mx = t % tilesX * tile, my = t / tilesX * tile;
            int tw = Math.Min(tile, plan.Width - mx), th = Math.Min(tile, plan.Height - my);
            long lx0 = (long)Math.Floor(mx * levelPerMaskX), ly0 = (long)Math.Floor(my * levelPerMaskY);
            long lx1 = Math.Min(level.Width, (long)Math.Ceiling((mx + tw) * levelPerMaskX));
            long ly1 = Math.Min(level.Height, (long)Math.Ceiling((my + th) * levelPerMaskY));
            if (plan.IsWholeLevel)
            {
                (lx0, ly0, lx1, ly1) = (mx, my, mx + tw, my + th);
            }

            int rw = (int)Math.Max(1, lx1 - lx0), rh = (int)Math.Max(1, ly1 - ly0);
            var region = slide.ReadRegion((long)Math.Round(lx0 * level.Downsample), (long)Math.Round(ly0 * level.Downsample),
                plan.LevelIndex, rw, rh);
            region = ImageIO.IsOpaque(region) ? region : region.CompositeOverWhite();
            if (rw != tw || rh != th)
            {
                region = ImageIO.Resize(region, tw, th);
            }

            for (int row = 0; row < th; row++)
            {
                region.Row(row).CopyTo(output.Pixels.AsSpan(((my + row) * plan.Width + mx) * RgbaImage.Channels, tw * RgbaImage.Channels));
            }

            if (progress != null)
            {
                lock (gate)
                {
                    progress.Report((double)++done / (tilesX * tilesY));
                }
            }
        });
        return output;
    }

    private TissueResult Run(RgbaImage image, int levelIndex, double level0PerPixelX, double level0PerPixelY,
        double? maskMppX, double? maskMppY, List<HistoWarning> warnings)
    {
        int width = image.Width, height = image.Height;
        var sizes = MorphologySizes.For(Options, width, height, maskMppX, maskMppY);
        using var rgb = MatRows.ToRgb(image);
        using var hsv = new Mat();
        Cv2.CvtColor(rgb, hsv, ColorConversionCodes.RGB2HSV_FULL);
        using var pen = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
        long penPixels = 0;
        if (Options.RejectPenMarks)
        {
            InkColours(hsv, pen, strict: true);
            if (KeepLargePieces(pen, sizes.PenOpenRadius, sizes.PenMinArea) > 0)
            {
                using var rim = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
                InkColours(hsv, rim, strict: false);
                penPixels = AddConnectedRim(pen, rim);
            }
        }

        using var mask = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
        using var notPen = new Mat();
        Cv2.BitwiseNot(pen, notPen);
        double threshold = Options.Method == TissueMethod.Lab ? LabCandidates(rgb, notPen, mask) : OtsuCandidates(hsv, notPen, mask);

        if (sizes.CloseRadius > 0)
        {
            using var kernel = Ellipse(sizes.CloseRadius);
            // OpenCV's default border for morphology neither grows nor erodes from the image edge, so tissue cut by
            // the edge stays up to the edge.
            Cv2.MorphologyEx(mask, mask, MorphTypes.Close, kernel);
        }

        if (Options.FillHoles)
        {
            FillHoles(mask);
        }

        if (penPixels > 0)
        {
            using var kernel = Ellipse(sizes.PenHaloRadius);
            using var grown = new Mat();
            Cv2.Dilate(pen, grown, kernel);
            mask.SetTo(Scalar.All(0), grown);
        }

        long tissuePixels = RemoveSmallObjects(mask, sizes.MinObjectArea);
        var raster = new RasterMask(width, height, level0PerPixelX, level0PerPixelY, MatRows.ToBytes(mask));
        var penPixelsOut = penPixels > 0 ? MatRows.ToBytes(pen) : new byte[width * height];

        var penRaster = new RasterMask(width, height, level0PerPixelX, level0PerPixelY, penPixelsOut);
        if (tissuePixels == 0)
        {
            warnings.Add(new HistoWarning(WarningCode.NoTissue, "no tissue found: the mask is empty"));
        }

        return new TissueResult(raster, penRaster, image, Options.Method, levelIndex, maskMppX, maskMppY, tissuePixels, penPixels, threshold, warnings);
    }

    private static Mat Ellipse(int radius) => Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(2 * radius + 1, 2 * radius + 1));

    /// <summary>
    /// Keeps only ink that forms strokes: an opening removes specks (dark nuclei, bluish debris) and pieces smaller
    /// than <paramref name="minArea"/> pixels are dropped. Returns the pixels left.
    /// </summary>
    private static long KeepLargePieces(Mat pen, int openRadius, double minArea)
    {
        if (Cv2.CountNonZero(pen) == 0)
        {
            return 0;
        }

        if (openRadius > 0)
        {
            using var kernel = Ellipse(openRadius);
            Cv2.MorphologyEx(pen, pen, MorphTypes.Open, kernel);
        }

        return RemoveSmallObjects(pen, minArea);
    }

    /// <summary>
    /// Adds to <paramref name="pen"/> the pieces of <paramref name="rim"/> (which contains every pen pixel) that touch
    /// a stroke; returns the pen pixel count.
    /// </summary>
    private static long AddConnectedRim(Mat pen, Mat rim)
    {
        rim.SetTo(Scalar.All(255), pen);
        using var labels = new Mat();
        int count = Cv2.ConnectedComponents(rim, labels, PixelConnectivity.Connectivity8, MatType.CV_32S);
        var touches = new bool[count];
        int rows = pen.Rows;
        for (int y = 0; y < rows; y++)
        {
            var label = MatRows.IntRow(labels, y);
            var stroke = MatRows.Row(pen, y);
            for (int x = 0; x < stroke.Length; x++)
            {
                if (stroke[x] != 0)
                {
                    touches[label[x]] = true;
                }
            }
        }

        for (int y = 0; y < rows; y++)
        {
            var label = MatRows.IntRow(labels, y);
            var stroke = MatRows.Row(pen, y);
            for (int x = 0; x < stroke.Length; x++)
            {
                if (label[x] != 0 && touches[label[x]])
                {
                    stroke[x] = 255;
                }
            }
        }

        return Cv2.CountNonZero(pen);
    }

    /// <summary>
    /// Marks (255) the pixels of pen-ink colour, with the strict stroke rules or the relaxed rim rules, from 8-bit
    /// full-range HSV: vectorised range tests (black, green-blue hue band, and red hue on both sides of 0°).
    /// </summary>
    private static void InkColours(Mat hsv, Mat ink, bool strict)
    {
        var ranges = strict
            ? new[]
            {
                (new Scalar(0, 0, 0), new Scalar(255, 255, BlackMaxValue - 1)),
                (new Scalar(GreenBlueMinHue, PenMinSaturation, 0), new Scalar(GreenBlueMaxHue, 255, 255)),
                (new Scalar(RedMinHue, RedMinSaturation, 0), new Scalar(255, 255, 255)),
                (new Scalar(0, RedMinSaturation, 0), new Scalar(RedMaxHue, 255, 255)),
            }
            : new[]
            {
                (new Scalar(0, 0, 0), new Scalar(255, 255, RimBlackMaxValue - 1)),
                (new Scalar(RimGreenBlueMinHue, RimGreenBlueMinSaturation, 0), new Scalar(RimGreenBlueMaxHue, 255, 255)),
                (new Scalar(RimRedMinHue, RimRedMinSaturation, 0), new Scalar(255, 255, 255)),
                (new Scalar(0, RimRedMinSaturation, 0), new Scalar(RedMaxHue, 255, 255)),
            };
        using var part = new Mat();
        foreach (var (low, high) in ranges)
        {
            Cv2.InRange(hsv, low, high, part);
            Cv2.BitwiseOr(ink, part, ink);
        }
    }

    /// <summary>The seed's rule with a floor and a cap: a* &gt; clamp(factor x mean a*, floor, cap), pen excluded.</summary>
    private double LabCandidates(Mat rgb, Mat notPen, Mat mask)
    {
        using var lab = new Mat();
        Cv2.CvtColor(rgb, lab, ColorConversionCodes.RGB2Lab);
        using var a = new Mat();
        Cv2.ExtractChannel(lab, a, 1);
        double mean = Cv2.CountNonZero(notPen) == 0 ? 0 : Cv2.Mean(a, notPen).Val0 - 128;
        double threshold = Math.Clamp(Options.LabMeanFactor * mean, Options.LabMinThreshold, Options.LabMaxThreshold);
        // a* > threshold  <=>  a8 > floor(threshold) + 128 for the integer a8 = a* + 128
        Cv2.Threshold(a, mask, Math.Floor(threshold) + 128, 255, ThresholdTypes.Binary);
        Cv2.BitwiseAnd(mask, notPen, mask);
        return threshold;
    }

    /// <summary>Otsu's threshold on saturation (over non-pen pixels), clamped to [floor, cap].</summary>
    private double OtsuCandidates(Mat hsv, Mat notPen, Mat mask)
    {
        using var saturation = new Mat();
        Cv2.ExtractChannel(hsv, saturation, 1);
        Span<long> histogram = stackalloc long[256];
        histogram.Clear();
        int rows = saturation.Rows;
        for (int y = 0; y < rows; y++)
        {
            var s = MatRows.Row(saturation, y);
            var keep = MatRows.Row(notPen, y);
            for (int x = 0; x < s.Length; x++)
            {
                histogram[s[x]] += keep[x] & 1;
            }
        }

        int otsu = OtsuThreshold(histogram);
        int cut = Math.Clamp(otsu, (int)Math.Round(Options.OtsuMinSaturation * 255), (int)Math.Round(Options.OtsuMaxSaturation * 255));
        Cv2.Threshold(saturation, mask, cut, 255, ThresholdTypes.Binary);
        Cv2.BitwiseAnd(mask, notPen, mask);
        return cut / 255.0;
    }

    /// <summary>Otsu's method on a 256-bin histogram: the value t maximising the between-class variance of [0..t] and (t..255].</summary>
    internal static int OtsuThreshold(ReadOnlySpan<long> histogram)
    {
        long total = 0;
        double sumAll = 0;
        for (int i = 0; i < 256; i++)
        {
            total += histogram[i];
            sumAll += (double)i * histogram[i];
        }

        if (total == 0)
        {
            return 0;
        }

        long weightBelow = 0;
        double sumBelow = 0, best = -1;
        int threshold = 0;
        for (int t = 0; t < 255; t++)
        {
            weightBelow += histogram[t];
            sumBelow += (double)t * histogram[t];
            long weightAbove = total - weightBelow;
            if (weightBelow == 0 || weightAbove == 0)
            {
                continue;
            }

            double meanBelow = sumBelow / weightBelow, meanAbove = (sumAll - sumBelow) / weightAbove;
            double between = (double)weightBelow * weightAbove * (meanBelow - meanAbove) * (meanBelow - meanAbove);
            if (between > best)
            {
                (best, threshold) = (between, t);
            }
        }

        return threshold;
    }

    /// <summary>Sets to 255 every background pixel not connected to the image border.</summary>
    private static void FillHoles(Mat mask)
    {
        using var padded = new Mat();
        Cv2.CopyMakeBorder(mask, padded, 1, 1, 1, 1, BorderTypes.Constant, Scalar.All(0));
        Cv2.FloodFill(padded, new Point(0, 0), Scalar.All(128));
        using var inner = new Mat(padded, new Rect(1, 1, mask.Cols, mask.Rows));
        using var holes = new Mat();
        Cv2.Compare(inner, Scalar.All(0), holes, CmpTypes.EQ);
        mask.SetTo(Scalar.All(255), holes);
    }

    /// <summary>Morphology sizes in mask pixels, from µm when the MPP is known, else relative to the mask size.</summary>
    private readonly record struct MorphologySizes(int CloseRadius, double MinObjectArea, int PenOpenRadius, double PenMinArea, int PenHaloRadius)
    {
        /// <summary>Pen strokes are wide: ink pieces under 20,000 µm² (a 140 µm square) are not pen marks.</summary>
        private const double PenMinAreaUm2 = 20_000;

        public static MorphologySizes For(TissueOptions options, int width, int height, double? mppX, double? mppY)
        {
            if (mppX is { } mx && mppY is { } my)
            {
                double mpp = Math.Sqrt(mx * my);
                return new MorphologySizes(
                    (int)Math.Round(options.CloseRadiusUm / mpp),
                    options.MinObjectAreaUm2 / (mx * my),
                    Math.Max(1, (int)Math.Round(8.0 / mpp)),
                    PenMinAreaUm2 / (mx * my),
                    Math.Max(1, (int)Math.Round(24.0 / mpp)));
            }

            int longSide = Math.Max(width, height);
            double area = (double)width * height;
            return new MorphologySizes(
                options.CloseRadiusUm > 0 ? Math.Max(1, (int)Math.Round(longSide / 256.0)) : 0,
                options.MinObjectAreaUm2 > 0 ? area / 2_000 : 0,
                Math.Max(1, (int)Math.Round(longSide / 512.0)),
                area / 2_000,
                Math.Max(1, (int)Math.Round(longSide / 128.0)));
        }
    }

    /// <summary>Clears 8-connected pieces smaller than <paramref name="minArea"/> pixels; returns the pixels left.</summary>
    private static long RemoveSmallObjects(Mat mask, double minArea)
    {
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        int count = Cv2.ConnectedComponentsWithStats(mask, labels, stats, centroids, PixelConnectivity.Connectivity8, MatType.CV_32S);
        long kept = 0;
        for (int i = 1; i < count; i++)
        {
            int area = stats.At<int>(i, (int)ConnectedComponentsTypes.Area);
            if (area >= minArea)
            {
                kept += area;
                continue;
            }

            // Small pieces have small boxes: clear this label inside its bounding box only.
            int left = stats.At<int>(i, (int)ConnectedComponentsTypes.Left), top = stats.At<int>(i, (int)ConnectedComponentsTypes.Top);
            int boxWidth = stats.At<int>(i, (int)ConnectedComponentsTypes.Width), boxHeight = stats.At<int>(i, (int)ConnectedComponentsTypes.Height);
            for (int y = top; y < top + boxHeight; y++)
            {
                var label = MatRows.IntRow(labels, y).Slice(left, boxWidth);
                var dst = MatRows.Row(mask, y).Slice(left, boxWidth);
                for (int x = 0; x < boxWidth; x++)
                {
                    if (label[x] == i)
                    {
                        dst[x] = 0;
                    }
                }
            }
        }

        return kept;
    }
}
