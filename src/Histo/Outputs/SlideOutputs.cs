using System.Globalization;
using System.Text;
using System.Text.Json;
using Histo.Annotations;
using Histo.Bach;
using Histo.Imaging;
using Histo.IO;
using Histo.Inference;
using Histo.Maps;
using Histo.Models;
using Histo.Patches;
using Histo.Scoring;
using Histo.Slides;

namespace Histo.Outputs;

/// <summary>
/// Writes the outputs of one slide into <c>OUT/&lt;slide name&gt;/</c>, published as a whole (a staged directory renamed
/// into place), so a directory that exists is complete: <c>heatmap.png</c> (a picture with its legend),
/// <c>heatmap-layer.png</c> (the same colours one pixel per map cell, transparent outside tissue, no legend: the layer
/// a viewer lays over the slide where <c>geometry.json</c> says), <c>overlay.png</c> (with a legend), <c>classmap.png</c>
/// (class index, 255 = no tissue) and <c>bach.png</c> (BACH codes, no tissue = 0; only when the card has BACH codes),
/// both palette PNGs whose values are the data and whose palette the class colours,
/// <c>geometry.json</c>, <c>patches.csv</c>, <c>prediction.geojson</c> and <c>summary.json</c> (written last; its
/// <c>run</c> object holds the run's start time and wall seconds, the only figures a rerun does not reproduce).
/// </summary>
public static class SlideOutputs
{
    /// <summary>File names inside a slide's output directory.</summary>
    public const string Heatmap = "heatmap.png", HeatmapLayer = "heatmap-layer.png", Overlay = "overlay.png", ClassMap = "classmap.png", Geometry = MapGeometry.FileName,
        Patches = "patches.csv", Prediction = "prediction.geojson", Summary = "summary.json";

    /// <summary>The output directory of a slide under <paramref name="outputRoot"/>.</summary>
    public static string DirectoryFor(string outputRoot, string slidePath) => Path.Combine(outputRoot, SlideFormats.SlideName(slidePath));

    /// <summary>True when the slide's output directory is complete (published with its summary).</summary>
    public static bool IsComplete(string outputRoot, string slidePath) => File.Exists(Path.Combine(DirectoryFor(outputRoot, slidePath), Summary));

    /// <summary>Removes staging directories a killed run left for this slide (<c>.name.tmp-*</c>, <c>.name.old-*</c>).</summary>
    public static void RemoveStale(string outputRoot, string slidePath)
    {
        if (!Directory.Exists(outputRoot))
        {
            return;
        }

        string name = SlideFormats.SlideName(slidePath);
        foreach (string dir in Directory.EnumerateDirectories(outputRoot, $".{name}.*"))
        {
            string rest = Path.GetFileName(dir)[(name.Length + 1)..];
            if (rest.StartsWith(".tmp-", StringComparison.Ordinal) || rest.StartsWith(".old-", StringComparison.Ordinal))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>Writes all outputs of <paramref name="result"/> into <c>outputRoot/&lt;slide name&gt;</c> atomically; returns the summary.</summary>
    public static SlideSummary Write(string outputRoot, SlideInferenceResult result, SlideProvenance provenance, RgbaImage thumbnail, long slideWidth, long slideHeight,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outputRoot);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(thumbnail);
        string directory = DirectoryFor(outputRoot, result.SlidePath);
        RemoveStale(outputRoot, result.SlidePath);
        SlideSummary summary = null!;
        AtomicFile.WriteDirectory(directory, staging =>
        {
            summary = WriteInto(staging, result, provenance, thumbnail, slideWidth, slideHeight, cancellationToken);
        });
        return summary;
    }

    /// <summary>
    /// Writes the outputs of a result the pipeline just made, with the thumbnail and slide size it took while the slide
    /// was open (see <see cref="Write(string, SlideInferenceResult, SlideProvenance, RgbaImage, long, long, CancellationToken)"/>).
    /// </summary>
    /// <exception cref="InvalidParameterException">A result read back from files (it has no thumbnail): give one.</exception>
    public static SlideSummary Write(string outputRoot, SlideInferenceResult result, SlideProvenance provenance, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        var thumbnail = result.Thumbnail
            ?? throw new InvalidParameterException($"the result of {SlideFormats.SlideName(result.SlidePath)} was read back from files and has no thumbnail: pass the slide's thumbnail and size");
        return Write(outputRoot, result, provenance, thumbnail, result.SlideSizePixels.Width, result.SlideSizePixels.Height, cancellationToken);
    }

    /// <summary>
    /// Rebuilds a result from a complete slide output directory (<c>geometry.json</c>, <c>classmap.png</c>,
    /// <c>patches.csv</c>, <c>summary.json</c>) made with a model of the same classes: the maps are recomputed from the
    /// stored patch probabilities (6 decimals) over the stored tissue cells, under <paramref name="rule"/> (default argmax).
    /// </summary>
    /// <exception cref="HistoException">Incomplete directory, other classes, malformed files.</exception>
    public static SlideInferenceResult Read(string slideOutputDirectory, ModelCard card, ClassMapRule? rule = null)
    {
        ArgumentNullException.ThrowIfNull(slideOutputDirectory);
        ArgumentNullException.ThrowIfNull(card);
        string summaryPath = Path.Combine(slideOutputDirectory, Summary);
        if (!File.Exists(summaryPath))
        {
            throw new HistoException($"{slideOutputDirectory}: not a complete slide output (no {Summary})");
        }

        var geometry = MapGeometry.Load(Path.Combine(slideOutputDirectory, Geometry));
        if (!geometry.Classes.SequenceEqual(card.DisplayClassNames) && !geometry.Classes.SequenceEqual(card.Classes))
        {
            throw new HistoException($"{slideOutputDirectory} was made by a model with classes {string.Join(",", geometry.Classes)}, not {string.Join(",", card.DisplayClassNames)}");
        }

        var (classMap, w, h) = ImageIO.LoadGray(Path.Combine(slideOutputDirectory, ClassMap));
        if (w != geometry.Width || h != geometry.Height)
        {
            throw new MapGeometryException($"{slideOutputDirectory}: {ClassMap} is {w}x{h} but {Geometry} says {geometry.Width}x{geometry.Height}");
        }

        int classes = card.Classes.Count;
        var patches = PatchTable.Read(Path.Combine(slideOutputDirectory, Patches), classes);

        double? mpp;
        SlideSampling? sampling;
        try
        {
            using var doc = JsonDocument.Parse(IO.InputFile.ReadAllText(summaryPath, 64L << 20, "a summary.json"));
            mpp = doc.RootElement.TryGetProperty("slide_mpp", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetDouble() : null;
            sampling = SlideSummary.ReadSampling(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new HistoException($"{summaryPath}: not valid JSON ({IO.InputFile.ParserDetail(e.Message)})", e);
        }

        var codes = card.HasBachCodes ? card.BachCodes! : Enumerable.Range(0, classes).ToList();
        double downsample = patches.Count > 0 ? (double)patches[0].Level0Size / card.PatchSizePixels : 1;
        var resolved = new ResolvedResolution(card.Mpp is { } cm ? Histo.Patches.Resolution.Mpp(cm) : Histo.Patches.Resolution.Native, downsample, mpp * downsample, null);
        string name = Path.GetFileName(Path.GetFullPath(slideOutputDirectory).TrimEnd(Path.DirectorySeparatorChar));
        var result = SlideInferenceResult.FromPatches(name, card, geometry, patches, (x, y) => classMap[y * geometry.Width + x] != SlideInferenceResult.NoTissue,
            rule ?? ClassMapRule.Argmax, codes, mpp, mpp, resolved, []);
        result.Sampling = sampling;
        return result;
    }

    private static SlideSummary WriteInto(string dir, SlideInferenceResult result, SlideProvenance provenance, RgbaImage thumbnail, long slideWidth, long slideHeight,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provenance);
        var g = result.Geometry;
        var card = result.Card;
        var bachCodes = card.HasBachCodes ? card.BachCodes : null;
        var names = card.DisplayClassNames;
        var c = CultureInfo.InvariantCulture;

        // Maps: palette PNGs, so the values stay the data and any image viewer shows the class colours.
        ImageIO.SaveIndexed(Path.Combine(dir, ClassMap), result.ClassMap, g.Width, g.Height, ClassMapPalette(card));
        if (result.BachMap() is { } bach)
        {
            ImageIO.SaveIndexed(Path.Combine(dir, SlideScorer.BachMapFileName), bach, g.Width, g.Height, BachMapPalette);
        }

        (g with { Classes = names, ClassColors = ClassColors(card).Select(ClassPalette.ToHex).ToList() }).Save(Path.Combine(dir, Geometry));
        var colored = MapRendering.ColorizeIntensity(result.Intensity.Select(v => (float)v).ToArray(), g.Width, g.Height);
        ImageIO.Save(Path.Combine(dir, HeatmapLayer), colored);

        // Pictures for people: each with the class names on its colour bar, the map cell size and a scale bar.
        int factor = MapRendering.EnlargementFactor(g.Width, g.Height);
        ImageIO.Save(Path.Combine(dir, Heatmap), MapRendering.WithLegend(MapRendering.Enlarge(colored, factor), HeatmapLegend(result, factor)));
        ImageIO.Save(Path.Combine(dir, Overlay), MapRendering.WithLegend(
            MapRendering.Overlay(thumbnail, colored, slideWidth, slideHeight, g.Level0X, g.Level0Y, g.Level0Width, g.Level0Height),
            OverlayLegend(result, slideWidth, thumbnail.Width)));
        cancellationToken.ThrowIfCancellationRequested();

        // Patches.
        AtomicFile.Write(Path.Combine(dir, Patches), stream =>
        {
            using var w = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            w.Write("level0_x,level0_y,level0_size,tissue_fraction");
            foreach (string name in names)
            {
                w.Write("," + CsvField("p_" + name));
            }

            w.Write('\n');
            foreach (var p in result.Patches)
            {
                w.Write(string.Create(c, $"{p.Level0X},{p.Level0Y},{p.Level0Size},{p.TissueFraction:0.####}"));
                foreach (float v in p.Probabilities)
                {
                    w.Write(',');
                    w.Write(v.ToString("0.######", c));
                }

                w.Write('\n');
            }
        });

        // Polygons.
        var mask = result.ClassMask();
        var shifted = new byte[result.ClassMap.Length];
        for (int i = 0; i < shifted.Length; i++)
        {
            shifted[i] = result.ClassMap[i] == SlideInferenceResult.NoTissue ? (byte)0 : (byte)(result.ClassMap[i] + 1);
        }

        var polygons = MapVectorizer.VectorizeRegions(g.CreateMask(shifted), ["none", .. names], new VectorizeOptions { ToleranceMaskPixels = 0 }, cancellationToken)
            .Select(r => r.Annotation with { ClassCode = r.Annotation.ClassCode - 1, Measurements = RegionMeasurements(result, r) })
            .ToList();
        AnnotationWriter.SaveGeoJson(Path.Combine(dir, Prediction), polygons, names, ClassColors(card));

        // Summary (last: its presence marks a complete directory).
        var tissue = new RasterMask(g.Width, g.Height, g.Level0PerPixelX, g.Level0PerPixelY,
            result.ClassMap.Select(v => v == SlideInferenceResult.NoTissue ? (byte)0 : (byte)255).ToArray());
        var stats = MapStatistics.Compute(mask, names, result.Level0MppX, result.Level0MppY, tissue, cancellationToken);
        var summary = new SlideSummary(SlideFormats.SlideName(result.SlidePath), provenance.ModelName, provenance.ModelId, names, result.Patches.Count, stats.CountedPixels,
            stats.CountedAreaMm2, stats.Classes.Where(s => s.Code < card.Classes.Count).ToList(), result.Warnings);
        AtomicFile.WriteAllText(Path.Combine(dir, Summary), summary.ToJson(result, provenance));
        return summary;
    }

    /// <summary>The legend of <c>heatmap.png</c>, whose map cells are enlarged <paramref name="factor"/> times.</summary>
    internal static MapLegend HeatmapLegend(SlideInferenceResult result, int factor)
    {
        string rule = result.Rule.Thresholds is null ? "class map by argmax" : "class map by the thresholds ticked";
        return new MapLegend
        {
            Title = $"Intensity (probability-weighted class code), {rule}; {CellCaption(result)}",
            ColorBarLabels = ColorBarClassLabels(result),
            ColorBarTicks = HeatmapTicks(result),
            MicronsPerPixel = result.Level0MppX * result.Geometry.Level0PerPixelX / factor,
        };
    }

    /// <summary>The legend of <c>overlay.png</c>, drawn on a thumbnail <paramref name="thumbnailWidth"/> pixels wide of a slide <paramref name="slideWidth"/> level-0 pixels wide.</summary>
    internal static MapLegend OverlayLegend(SlideInferenceResult result, long slideWidth, int thumbnailWidth) => new()
    {
        Title = $"Intensity over the slide (45 % opacity); {CellCaption(result)}",
        ColorBarLabels = ColorBarClassLabels(result),
        ColorBarTicks = HeatmapTicks(result),
        MicronsPerPixel = result.Level0MppX * slideWidth / thumbnailWidth,
    };

    /// <summary>"map cell 98.7 µm", as <c>summary.json</c>'s <c>cell_size_um</c> says it (to 0.1 µm).</summary>
    internal static string CellCaption(SlideInferenceResult result) => result.CellSizeMicrons is { } cell
        ? "map cell " + MapRendering.FormatMicrons(Math.Round(cell, 1))
        : "map cell size unknown (no MPP)";

    /// <summary>Name of a feature's measurement of the mean probability of class <paramref name="className"/>.</summary>
    public static string MeanProbabilityMeasurement(string className) => "Mean probability: " + className;

    /// <summary>Name of a feature's area measurement, as QuPath spells its own.</summary>
    public const string AreaMeasurement = "Area µm^2";

    /// <summary>
    /// A prediction polygon's measurements as QuPath lists them: its area in µm² (when the slide's µm/px is known) and
    /// the mean probability of each class over its map cells.
    /// </summary>
    private static List<AnnotationMeasurement> RegionMeasurements(SlideInferenceResult result, MapRegion region)
    {
        var measurements = new List<AnnotationMeasurement>();
        if (result.Level0MppX is { } mx)
        {
            double my = result.Level0MppY ?? mx;
            measurements.Add(new AnnotationMeasurement(AreaMeasurement, Math.Round(region.Annotation.Polygons.Sum(p => p.AreaLevel0) * mx * my, 3)));
        }

        var names = result.Card.DisplayClassNames;
        for (int k = 0; k < names.Count; k++)
        {
            double sum = 0;
            foreach (int cell in region.PixelIndices)
            {
                sum += result.ProbabilityMaps[k][cell];
            }

            measurements.Add(new AnnotationMeasurement(MeanProbabilityMeasurement(names[k]), Math.Round(sum / region.PixelIndices.Length, 6)));
        }

        return measurements;
    }

    /// <summary>The mean probability of each class over the slide's tissue cells (null when there are none).</summary>
    internal static double?[] MeanProbabilities(SlideInferenceResult result)
    {
        var means = new double?[result.ProbabilityMaps.Count];
        long cells = result.TissueCells;
        for (int k = 0; k < means.Length && cells > 0; k++)
        {
            double sum = 0;
            var map = result.ProbabilityMaps[k];
            for (int cell = 0; cell < map.Length; cell++)
            {
                if (result.ClassMap[cell] != SlideInferenceResult.NoTissue)
                {
                    sum += map[cell];
                }
            }

            means[k] = sum / cells;
        }

        return means;
    }

    /// <summary>
    /// The class names over the heatmap's colour bar: each class at the intensity of a cell that is all that class
    /// (its code over the largest code), classes sharing a code under one label.
    /// </summary>
    internal static List<(double Position, string Label)> ColorBarClassLabels(SlideInferenceResult result)
    {
        var names = result.Card.DisplayClassNames;
        int min = result.Codes.Min(), max = result.Codes.Max();
        return Enumerable.Range(0, names.Count)
            .GroupBy(k => result.Codes[k])
            .OrderBy(group => group.Key)
            .Select(group => (max == min ? 0.0 : (double)(group.Key - min) / (max - min), string.Join(" / ", group.Select(k => names[k]))))
            .ToList();
    }

    /// <summary>The ticks under the heatmap's colour bar: intensity 0 and 1, and the thresholds of a threshold rule.</summary>
    internal static List<(double Position, string Label)> HeatmapTicks(SlideInferenceResult result)
    {
        var ticks = new List<(double, string)> { (0, "0"), (1, "1") };
        if (result.Rule.Thresholds is { } thresholds)
        {
            ticks.AddRange(thresholds.Skip(1).Where(t => t is > 0 and < 1).Select(t => (t, t.ToString("0.##", CultureInfo.InvariantCulture))));
        }

        return ticks;
    }

    /// <summary>
    /// The palette of <c>classmap.png</c>: class i in its display colour (<see cref="ClassColors"/>), the no-tissue
    /// value 255 white, unused values grey.
    /// </summary>
    public static IReadOnlyList<(byte R, byte G, byte B)> ClassMapPalette(ModelCard card)
    {
        var colors = ClassColors(card);
        var palette = Enumerable.Repeat(UnusedPaletteColor, 256).ToArray();
        for (int k = 0; k < colors.Count && k < SlideInferenceResult.NoTissue; k++)
        {
            palette[k] = colors[k];
        }

        palette[SlideInferenceResult.NoTissue] = MapRendering.Background;
        return palette;
    }

    /// <summary>The palette of <c>bach.png</c>: BACH codes 0..3 in the BACH colours (no tissue is code 0, Normal), other values grey.</summary>
    public static IReadOnlyList<(byte R, byte G, byte B)> BachMapPalette =>
        Enumerable.Range(0, 256).Select(v => v <= 3 ? ClassPalette.ColorOfBachCode(v) : UnusedPaletteColor).ToArray();

    private static (byte R, byte G, byte B) UnusedPaletteColor => (128, 128, 128);

    /// <summary>The display colour of each class, as the pictures, the GeoJSON and the viewer show it.</summary>
    public static IReadOnlyList<(byte R, byte G, byte B)> ClassColors(ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        var codes = card.HasBachCodes ? card.BachCodes : null;
        return Enumerable.Range(0, card.Classes.Count).Select(k => ClassPalette.ColorOfClass(k, codes)).ToList();
    }

    internal static string CsvField(string value) => IO.CsvText.Field(value);
}
