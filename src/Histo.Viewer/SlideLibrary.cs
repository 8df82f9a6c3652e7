using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Histo.Bach;
using Histo.Imaging;
using Histo.Inference;
using Histo.Outputs;
using Histo.Slides;

namespace Histo.Viewer;

/// <summary>A level of a slide as the viewer reports it.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Downsample">Level-0 pixels per pixel.</param>
public sealed record SlideLevelInfo(long Width, long Height, double Downsample);

/// <summary>What the slide list shows of a slide, or why it cannot be opened.</summary>
/// <param name="Name">Slide name: its path relative to the served folder, '/'-separated.</param>
/// <param name="Width">Level-0 width in pixels (0 when the slide cannot be opened).</param>
/// <param name="Height">Level-0 height in pixels.</param>
/// <param name="MppX">Microns per level-0 pixel horizontally, or null when unknown.</param>
/// <param name="MppY">Microns per level-0 pixel vertically, or null when unknown.</param>
/// <param name="Vendor">Format or vendor.</param>
/// <param name="LevelCount">Pyramid levels.</param>
/// <param name="FileSizeBytes">Size of the file.</param>
/// <param name="HasPredictions">Whether a prediction folder exists for the slide.</param>
/// <param name="Error">Why the slide cannot be opened, or null.</param>
public sealed record SlideListEntry(string Name, long Width, long Height, double? MppX, double? MppY, string Vendor, int LevelCount, long FileSizeBytes, bool HasPredictions, string? Error);

/// <summary>The slides under the served folder and everything the viewer derives from them.</summary>
internal sealed class SlideLibrary : IDisposable
{
    /// <summary>File extensions listed as slides: OpenSlide's formats and plain images.</summary>
    public static IReadOnlySet<string> SlideExtensions => SlideFormats.SlideExtensions;

    /// <summary>Files a prediction folder may serve, and nothing else.</summary>
    public static readonly IReadOnlySet<string> PredictionFiles = new HashSet<string>(StringComparer.Ordinal)
    {
        SlideOutputs.Heatmap, SlideOutputs.HeatmapLayer, SlideOutputs.ClassMap, SlideOutputs.Overlay, SlideOutputs.Geometry, SlideOutputs.Prediction, SlideOutputs.Summary,
    };

    /// <summary>Longest side of a ground-truth label mask as sent to the browser (larger masks are sampled down, nearest neighbour).</summary>
    public const int MaxTruthMaskSidePixels = 4096;

    /// <summary>The classes of a label mask beside a slide: the BACH codes 0..3, as <c>histo score</c> and <c>histo tune</c> read it.</summary>
    public static IReadOnlyList<string> TruthMaskClasses => BachClasses.Names;

    private const int ThumbnailSizePixels = 256;
    private const int MaxListedSlides = 5000;
    private const int MaxCachedProbabilityMaps = 16;
    private readonly ViewerOptions _options;
    private readonly SlidePool _pool;
    private readonly ConcurrentDictionary<string, SlideListEntry> _summaries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<ProbabilityMaps>> _probabilities = new(StringComparer.Ordinal);

    public SlideLibrary(ViewerOptions options)
    {
        _options = options;
        Slides = new SafeRoot(options.SlidesFolder, "slides folder");
        Predictions = options.PredictionsFolder is { } p ? new SafeRoot(p, "predictions folder") : null;
        _pool = new SlidePool(options.MaxOpenSlides);
        Renders = new RenderCache(options.TileCacheSizeBytes, options.MaxConcurrentDecodes);
    }

    public SafeRoot Slides { get; }

    public SafeRoot? Predictions { get; }

    public RenderCache Renders { get; }

    /// <summary>
    /// Summaries of every slide under the folder, sorted by name; an image named as the ground truth of a slide beside it
    /// (<c>A01-window-labels.png</c> beside <c>A01-window.tif</c>) is that slide's label mask, not a slide of its own.
    /// </summary>
    public List<SlideListEntry> ListSlides()
    {
        var names = Slides.ListFiles(SlideExtensions, maxDepth: 8, limit: MaxListedSlides);
        if (_summaries.Count > 4 * MaxListedSlides)
        {
            _summaries.Clear();
        }

        var truth = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            string? dir = Path.GetDirectoryName(name)?.Replace('\\', '/');
            string prefix = string.IsNullOrEmpty(dir) ? "" : dir + "/";
            // an image with the slide's own stem (X.png beside X.svs) stays a slide: only suffixed names are masks here
            string slideName = SlideFormats.SlideName(name);
            truth.UnionWith(GroundTruth.FileNamesFor(slideName)
                .Where(f => !string.Equals(Path.GetFileNameWithoutExtension(f), slideName, StringComparison.Ordinal) || !f.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                .Select(f => prefix + f).Where(f => f != name));
        }

        return names.Where(n => !truth.Contains(n)).Select(Summarize).ToList();
    }

    /// <summary>Whether a name is a slide served (a file with a slide extension under the served folder).</summary>
    public bool IsSlide(string name) => SlideExtensions.Contains(Path.GetExtension(name)) && Slides.TryResolveFile(name, out _);

    /// <summary>Opens a slide by name; false when no such slide is served. Throws <see cref="SlideOpenException"/>.</summary>
    public bool TryOpen(string name, out SlidePool.Lease lease)
    {
        lease = null!;
        if (!SlideExtensions.Contains(Path.GetExtension(name)) || !Slides.TryResolveFile(name, out string real))
        {
            return false;
        }

        lease = _pool.Acquire(real);
        return true;
    }

    /// <summary>The <c>.dzi</c> descriptor of a slide.</summary>
    public static string Descriptor(OpenedSlide slide) => slide.DeepZoom.GetDescriptorXml();

    /// <summary>A Deep Zoom tile as JPEG, or null when the address does not exist.</summary>
    public Task<byte[]>? GetTileAsync(string name, OpenedSlide slide, int level, long column, long row)
    {
        if (!slide.DeepZoom.TryGetTileRegion(level, column, row, out var region))
        {
            return null;
        }

        string key = string.Create(CultureInfo.InvariantCulture, $"tile\n{slide.Slide.Path}\n{slide.Stamp}\n{level}/{column}_{row}");
        return Renders.GetOrRenderAsync(key, () => ImageIO.Encode(slide.DeepZoom.ReadTile(slide.Slide, region, slide.Background), ".jpg", _options.JpegQuality));
    }

    /// <summary>A thumbnail of at most 256 px a side, as JPEG.</summary>
    public Task<byte[]> GetThumbnailAsync(OpenedSlide slide)
    {
        int level = slide.DeepZoom.ThumbnailLevel(ThumbnailSizePixels);
        slide.DeepZoom.TryGetTileRegion(level, 0, 0, out var region);
        string key = $"thumb\n{slide.Slide.Path}\n{slide.Stamp}";
        return Renders.GetOrRenderAsync(key, () => ImageIO.Encode(slide.DeepZoom.ReadTile(slide.Slide, region, slide.Background), ".jpg", _options.JpegQuality));
    }

    /// <summary>Everything the slide page shows: geometry, MPP, properties, Deep Zoom and prediction details.</summary>
    public Dictionary<string, object?> Describe(string name, OpenedSlide opened)
    {
        var slide = opened.Slide;
        var dz = opened.DeepZoom;
        string url = UrlOf(name);
        return new Dictionary<string, object?>
        {
            ["name"] = name,
            ["width"] = slide.Width,
            ["height"] = slide.Height,
            ["mppX"] = slide.MppX,
            ["mppY"] = slide.MppY,
            ["mppSource"] = slide.MppSource.ToString(),
            ["objectivePower"] = slide.ObjectivePower,
            ["vendor"] = slide.Vendor,
            ["fileSizeBytes"] = new FileInfo(slide.Path).Length,
            ["levels"] = slide.Levels.Select(l => new SlideLevelInfo(l.Width, l.Height, l.Downsample)).ToList(),
            ["associatedImages"] = slide.AssociatedImageNames,
            ["properties"] = new SortedDictionary<string, string>(slide.Properties.ToDictionary(), StringComparer.Ordinal),
            ["deepZoom"] = new Dictionary<string, object?>
            {
                ["dzi"] = "/" + url + ".dzi",
                ["tileSize"] = dz.TileSizePixels,
                ["overlap"] = dz.OverlapPixels,
                ["levelCount"] = dz.LevelCount,
            },
            ["thumbnail"] = "/thumbnail/" + url,
            ["annotations"] = "/api/annotations/" + url,
            ["annotationFiles"] = TruthFiles(name).Where(f => !f.IsMask).Select(f => f.FileName).ToList(),
            ["truthMasks"] = DescribeTruthMasks(name, slide.Width, slide.Height),
            ["prediction"] = DescribePrediction(name),
        };
    }

    /// <summary>
    /// The polygon layers of a slide: the prediction's GeoJSON, then each ground-truth annotation file beside the
    /// slide (read by the pipeline's annotation reader with the BACH label map: a label naming a BACH class shows as
    /// that class, other labels as they are written).
    /// </summary>
    public List<AnnotationLayer> ReadAnnotations(string name)
    {
        var layers = new List<AnnotationLayer>();
        if (FindPredictionFile(name, SlideOutputs.Prediction) is { } geojson)
        {
            layers.Add(AnnotationLayers.FromGeoJson(geojson, "prediction"));
        }

        var colors = PredictionColors(name);
        layers.AddRange(TruthFiles(name).Where(f => !f.IsMask).Select(f => AnnotationLayers.FromTruthFile(f.RealPath, colors)));
        return layers;
    }

    /// <summary>
    /// A ground-truth label mask beside the slide painted in its class colours, the classes in <paramref name="hidden"/>
    /// transparent; null when <paramref name="file"/> is not a label mask of that slide.
    /// </summary>
    public async Task<byte[]?> GetTruthMaskAsync(string name, string file, IReadOnlySet<int> hidden)
    {
        var found = TruthFiles(name).FirstOrDefault(f => f.IsMask && f.FileName == file);
        if (found.RealPath is not { } path)
        {
            return null;
        }

        var info = new FileInfo(path);
        var classes = TruthClasses(PredictionColors(name));
        string key = string.Create(CultureInfo.InvariantCulture,
            $"truth\n{path}\n{info.LastWriteTimeUtc.Ticks}-{info.Length}\n{string.Join(",", classes.Select(c => c.Color))}\n{string.Join(",", hidden.Order())}");
        return await Renders.GetOrRenderAsync(key, () => OverlayRenderer.LabelMaskPng(path, classes, hidden, MaxTruthMaskSidePixels)).ConfigureAwait(false);
    }

    /// <summary>
    /// The class probabilities of the prediction at a level-0 point: those of the map cell holding it, the mean of the
    /// patches covering the cell's centre (from <c>patches.csv</c>); null when the slide has no prediction with a
    /// patch table and a geometry.
    /// </summary>
    public PointProbabilities? ProbabilitiesAt(string name, double level0X, double level0Y)
    {
        if (FindPredictionFile(name, SlideOutputs.Patches) is not { } patchesPath || LoadGeometry(name) is not { } geometry)
        {
            return null;
        }

        var info = new FileInfo(patchesPath);
        string? classMapPath = FindPredictionFile(name, SlideOutputs.ClassMap);
        long classMapStamp = classMapPath is null ? 0 : File.GetLastWriteTimeUtc(classMapPath).Ticks;
        string key = string.Create(CultureInfo.InvariantCulture,
            $"{patchesPath}\n{info.LastWriteTimeUtc.Ticks}-{info.Length}\n{classMapStamp}\n{geometry.Width}x{geometry.Height}\n{string.Join(",", geometry.Classes.Select(c => c.Name + c.Color))}");
        if (_probabilities.Count > MaxCachedProbabilityMaps)
        {
            _probabilities.Clear();
        }

        var maps = _probabilities.GetOrAdd(key, _ => new Lazy<ProbabilityMaps>(() => ProbabilityMaps.Load(patchesPath, classMapPath, geometry))).Value;
        return maps.At(level0X, level0Y);
    }

    /// <summary>
    /// A file of the slide's prediction folder, ready to send: the heatmap aspect-corrected, the class map painted in
    /// class colours, others as they are. Null when absent (or not one of <see cref="PredictionFiles"/>).
    /// </summary>
    /// <param name="name">The slide.</param>
    /// <param name="file">The file's name.</param>
    /// <param name="hiddenClasses">Class indices the class map leaves transparent (ignored for other files).</param>
    public async Task<(byte[] Bytes, string ContentType)?> GetPredictionFileAsync(string name, string file, IReadOnlySet<int>? hiddenClasses = null)
    {
        if (!PredictionFiles.Contains(file) || FindPredictionFile(name, file) is not { } path)
        {
            return null;
        }

        string contentType = file.EndsWith(".png", StringComparison.Ordinal) ? "image/png"
            : file.EndsWith(".geojson", StringComparison.Ordinal) ? "application/geo+json" : "application/json";
        if (file is not (SlideOutputs.Heatmap or SlideOutputs.HeatmapLayer or SlideOutputs.ClassMap))
        {
            return (await File.ReadAllBytesAsync(path).ConfigureAwait(false), contentType);
        }

        var geometry = LoadGeometry(name) ?? throw new PredictionFormatException($"{file} for {name} has no {SlideOutputs.Geometry} beside it, so it cannot be placed on the slide");
        var info = new FileInfo(path);
        var hidden = file == SlideOutputs.ClassMap && hiddenClasses != null ? hiddenClasses : new HashSet<int>();
        string key = string.Create(CultureInfo.InvariantCulture,
            $"prediction\n{path}\n{info.LastWriteTimeUtc.Ticks}-{info.Length}\n{string.Join(",", geometry.Classes.Select(c => c.Color))}\n{string.Join(",", hidden.Order())}");
        byte[] bytes = await Renders.GetOrRenderAsync(key, () => file != SlideOutputs.ClassMap
            ? OverlayRenderer.HeatmapPng(path, geometry)
            : OverlayRenderer.ClassMapPng(path, geometry, hidden)).ConfigureAwait(false);
        return (bytes, contentType);
    }

    /// <summary>The URL path of a slide name: each segment percent-encoded.</summary>
    public static string UrlOf(string name) => string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    public void Dispose()
    {
        _pool.Dispose();
        Renders.Dispose();
    }

    private SlideListEntry Summarize(string name)
    {
        Slides.TryResolveFile(name, out string real);
        var info = new FileInfo(real);
        if (!info.Exists)
        {
            return new SlideListEntry(name, 0, 0, null, null, "", 0, 0, false, "file not found (removed while listing)");
        }

        string key = string.Create(CultureInfo.InvariantCulture, $"{real}\n{info.LastWriteTimeUtc.Ticks}-{info.Length}");
        bool hasPredictions = FindPredictionFolder(name) != null;
        var summary = _summaries.GetOrAdd(key, _ =>
        {
            try
            {
                using var lease = _pool.Acquire(real);
                var s = lease.Slide.Slide;
                return new SlideListEntry(name, s.Width, s.Height, s.MppX, s.MppY, s.Vendor, s.LevelCount, info.Length, false, null);
            }
            catch (HistoException e)
            {
                return new SlideListEntry(name, 0, 0, null, null, "", 0, info.Length, false, Sanitize(e.Message));
            }
        });
        return summary with { Name = name, HasPredictions = hasPredictions };
    }

    /// <summary>Replaces the served folders' real paths in a message by nothing, so replies do not reveal the server's layout.</summary>
    public string Sanitize(string message)
    {
        string result = message.Replace(Slides.RealFolder + "/", "", StringComparison.Ordinal);
        return Predictions != null ? result.Replace(Predictions.RealFolder + "/", "", StringComparison.Ordinal) : result;
    }

    private Dictionary<string, object?>? DescribePrediction(string name)
    {
        if (FindPredictionFolder(name) is not { } folder)
        {
            return null;
        }

        string url = "/predictions/" + UrlOf(name) + "/";
        var result = new Dictionary<string, object?>
        {
            ["folder"] = folder,
            ["heatmap"] = HeatmapLayerOf(name) is { } layer ? url + layer : null,
            ["classmap"] = FindPredictionFile(name, SlideOutputs.ClassMap) != null ? url + SlideOutputs.ClassMap : null,
            ["overlay"] = FindPredictionFile(name, SlideOutputs.Overlay) != null ? url + SlideOutputs.Overlay : null,
            ["geojson"] = FindPredictionFile(name, SlideOutputs.Prediction) != null ? url + SlideOutputs.Prediction : null,
            ["probabilities"] = FindPredictionFile(name, SlideOutputs.Patches) != null ? "/api/probabilities/" + UrlOf(name) : null,
        };
        try
        {
            var geometry = LoadGeometry(name);
            result["geometry"] = geometry;
            result["classes"] = geometry?.Classes ?? [];
            if (geometry == null)
            {
                result["error"] = $"{SlideOutputs.Geometry} is missing, so the maps cannot be placed on the slide";
            }
        }
        catch (HistoException e)
        {
            result["geometry"] = null;
            result["classes"] = Array.Empty<PredictionClass>();
            result["error"] = Sanitize(e.Message);
        }

        if (result["heatmap"] is null && FindPredictionFile(name, SlideOutputs.Heatmap) != null)
        {
            result["heatmapNote"] = $"{SlideOutputs.Heatmap} is a picture with a legend, not a map layer; run histo slide again to get {SlideOutputs.HeatmapLayer}";
        }

        if (FindPredictionFile(name, SlideOutputs.Summary) is { } summaryPath)
        {
            try
            {
                result["summary"] = JsonSerializer.Deserialize<JsonElement>(File.ReadAllBytes(summaryPath));
            }
            catch (JsonException)
            {
                result["summary"] = null;
            }
        }

        return result;
    }

    /// <summary>
    /// The file to lay over the slide as the heatmap: <c>heatmap-layer.png</c>, or a <c>heatmap.png</c> that is itself a
    /// map (one pixel per cell, as other tools write it); null when there is only the pipeline's picture with its legend.
    /// </summary>
    private string? HeatmapLayerOf(string name)
    {
        if (FindPredictionFile(name, SlideOutputs.HeatmapLayer) != null)
        {
            return SlideOutputs.HeatmapLayer;
        }

        if (FindPredictionFile(name, SlideOutputs.Heatmap) is not { } picture)
        {
            return null;
        }

        try
        {
            return LoadGeometry(name) is { } g && ImageSizeReader.TryReadHeaderSize(picture, out int w, out int h) && (w, h) == (g.Width, g.Height)
                ? SlideOutputs.Heatmap
                : null;
        }
        catch (HistoException)
        {
            return null; // the geometry's error is reported with the prediction
        }
    }

    private PredictionGeometry? LoadGeometry(string name)
    {
        if (FindPredictionFile(name, SlideOutputs.Geometry) is not { } geometryPath)
        {
            return null;
        }

        return PredictionGeometry.Load(geometryPath, () => GeoJsonClassColors(name));
    }

    /// <summary>Class colours the prediction's GeoJSON gives (QuPath's classification colours), by class name; null without a readable GeoJSON.</summary>
    private Dictionary<string, string>? GeoJsonClassColors(string name)
    {
        if (FindPredictionFile(name, SlideOutputs.Prediction) is not { } path)
        {
            return null;
        }

        try
        {
            return AnnotationLayers.ColorsByLabel(path);
        }
        catch (HistoException)
        {
            return null; // reported when the annotations are read
        }
    }

    /// <summary>
    /// The prediction folder of a slide, relative to the predictions folder: <c>&lt;slide folder&gt;/&lt;stem&gt;</c>,
    /// then <c>&lt;stem&gt;</c>, then <c>&lt;file name&gt;</c> (the pipeline names it after the slide).
    /// </summary>
    private string? FindPredictionFolder(string name)
    {
        if (Predictions == null)
        {
            return null;
        }

        string stem = Path.GetFileNameWithoutExtension(name);
        string? dir = Path.GetDirectoryName(name)?.Replace('\\', '/');
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(dir))
        {
            candidates.Add(dir + "/" + stem);
        }

        candidates.Add(stem);
        candidates.Add(Path.GetFileName(name));
        return candidates.FirstOrDefault(c => Predictions.TryResolveFolder(c, out _));
    }

    private string? FindPredictionFile(string name, string file)
    {
        if (Predictions == null || FindPredictionFolder(name) is not { } folder)
        {
            return null;
        }

        return Predictions.TryResolveFile(folder + "/" + file, out string real) ? real : null;
    }

    /// <summary>
    /// Ground truth beside the slide, named as <c>histo score</c> and <c>histo tune</c> pair it (see
    /// <see cref="GroundTruth.FileNamesFor"/>: <c>A01.xml</c>, <c>A01-window-labels.png</c>, ...): annotation files,
    /// and label masks (images, told apart by their content). The slide itself is never its own truth.
    /// </summary>
    private List<(string RealPath, string FileName, bool IsMask)> TruthFiles(string name)
    {
        string? dir = Path.GetDirectoryName(name)?.Replace('\\', '/');
        string prefix = string.IsNullOrEmpty(dir) ? "" : dir + "/";
        Slides.TryResolveFile(name, out string slideReal);
        var files = new List<(string, string, bool)>();
        foreach (string candidate in GroundTruth.FileNamesFor(SlideFormats.SlideName(name)))
        {
            if (Slides.TryResolveFile(prefix + candidate, out string real) && real != slideReal && files.All(f => f.Item1 != real))
            {
                files.Add((real, candidate, GroundTruth.IsImage(real)));
            }
        }

        return files;
    }

    /// <summary>What the page needs of each label mask beside the slide: its URL, classes and the level-0 rectangle it covers (the whole slide).</summary>
    private List<Dictionary<string, object?>> DescribeTruthMasks(string name, long slideWidth, long slideHeight)
    {
        var classes = TruthClasses(PredictionColors(name));
        var result = new List<Dictionary<string, object?>>();
        foreach (var (real, file, _) in TruthFiles(name).Where(f => f.IsMask))
        {
            var mask = new Dictionary<string, object?>
            {
                ["source"] = file,
                ["url"] = "/truth/" + UrlOf(name) + "/" + Uri.EscapeDataString(file),
                ["classes"] = classes,
                ["level0X"] = 0, ["level0Y"] = 0, ["level0Width"] = slideWidth, ["level0Height"] = slideHeight,
            };
            if (ImageSizeReader.TryReadHeaderSize(real, out int w, out int h))
            {
                mask["width"] = w;
                mask["height"] = h;
                if (Math.Abs((double)w / h / ((double)slideWidth / slideHeight) - 1) > 0.02)
                {
                    mask["error"] = string.Create(CultureInfo.InvariantCulture, $"{file} is {w} x {h} pixels, not the shape of the slide ({slideWidth} x {slideHeight}), so it cannot be laid over it");
                }
            }

            result.Add(mask);
        }

        return result;
    }

    /// <summary>Truth classes: the BACH codes, in the prediction's colour for a class it shares, else the viewer's.</summary>
    private static List<PredictionClass> TruthClasses(IReadOnlyDictionary<string, string> predictionColors) =>
        TruthMaskClasses.Select((n, i) => new PredictionClass(i, n, predictionColors.TryGetValue(n, out var c) ? c : ClassColors.Default(n, i))).ToList();

    /// <summary>The prediction's class colours by class name (empty without a usable geometry.json).</summary>
    private Dictionary<string, string> PredictionColors(string name)
    {
        try
        {
            return LoadGeometry(name)?.Classes.GroupBy(c => c.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Color, StringComparer.Ordinal)
                ?? new Dictionary<string, string>(StringComparer.Ordinal);
        }
        catch (HistoException)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal); // the geometry's error is reported with the prediction
        }
    }
}
