using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Histo.Imaging;
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
public sealed record SlideSummary(string Name, long Width, long Height, double? MppX, double? MppY, string Vendor, int LevelCount, long FileSizeBytes, bool HasPredictions, string? Error);

/// <summary>The slides under the served folder and everything the viewer derives from them.</summary>
internal sealed class SlideLibrary : IDisposable
{
    /// <summary>File extensions listed as slides: OpenSlide's formats and plain images.</summary>
    public static IReadOnlySet<string> SlideExtensions => SlideFormats.SlideExtensions;

    /// <summary>Files a prediction folder may serve, and nothing else.</summary>
    public static readonly IReadOnlySet<string> PredictionFiles = new HashSet<string>(StringComparer.Ordinal)
    {
        "heatmap.png", HeatmapLayerFile, "classmap.png", "overlay.png", "geometry.json", "prediction.geojson", "summary.json",
    };

    /// <summary>The pipeline's heatmap layer: one pixel per map cell, no legend (heatmap.png is a picture with a legend).</summary>
    public const string HeatmapLayerFile = "heatmap-layer.png";

    private const int ThumbnailSizePixels = 256;
    private const int MaxListedSlides = 5000;
    private readonly ViewerOptions _options;
    private readonly SlidePool _pool;
    private readonly ConcurrentDictionary<string, SlideSummary> _summaries = new(StringComparer.Ordinal);

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

    /// <summary>Summaries of every slide under the folder, sorted by name.</summary>
    public List<SlideSummary> ListSlides()
    {
        var names = Slides.ListFiles(SlideExtensions, maxDepth: 8, limit: MaxListedSlides);
        if (_summaries.Count > 4 * MaxListedSlides)
        {
            _summaries.Clear();
        }

        return names.Select(Summarize).ToList();
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
            ["annotationFiles"] = AnnotationFiles(name).Select(f => Path.GetFileName(f)).ToList(),
            ["prediction"] = DescribePrediction(name),
        };
    }

    /// <summary>The annotation layers of a slide: the prediction's GeoJSON and files beside the slide with its stem.</summary>
    public List<AnnotationLayer> ReadAnnotations(string name)
    {
        var layers = new List<AnnotationLayer>();
        if (FindPredictionFile(name, "prediction.geojson") is { } geojson)
        {
            layers.Add(AnnotationReader.ReadGeoJson(geojson, "prediction"));
        }

        layers.AddRange(AnnotationFiles(name).Select(f => AnnotationReader.Read(f, "annotation")));
        return layers;
    }

    /// <summary>
    /// A file of the slide's prediction folder, ready to send: the heatmap aspect-corrected, the class map painted in
    /// class colours, others as they are. Null when absent (or not one of <see cref="PredictionFiles"/>).
    /// </summary>
    public async Task<(byte[] Bytes, string ContentType)?> GetPredictionFileAsync(string name, string file)
    {
        if (!PredictionFiles.Contains(file) || FindPredictionFile(name, file) is not { } path)
        {
            return null;
        }

        string contentType = file.EndsWith(".png", StringComparison.Ordinal) ? "image/png"
            : file.EndsWith(".geojson", StringComparison.Ordinal) ? "application/geo+json" : "application/json";
        if (file is not ("heatmap.png" or HeatmapLayerFile or "classmap.png"))
        {
            return (await File.ReadAllBytesAsync(path).ConfigureAwait(false), contentType);
        }

        var geometry = LoadGeometry(name) ?? throw new PredictionFormatException($"{file} for {name} has no geometry.json beside it, so it cannot be placed on the slide");
        var info = new FileInfo(path);
        string key = string.Create(CultureInfo.InvariantCulture, $"prediction\n{path}\n{info.LastWriteTimeUtc.Ticks}-{info.Length}\n{string.Join(",", geometry.Classes.Select(c => c.Color))}");
        byte[] bytes = await Renders.GetOrRenderAsync(key, () => file != "classmap.png"
            ? OverlayRenderer.HeatmapPng(path, geometry)
            : OverlayRenderer.ClassMapPng(path, geometry)).ConfigureAwait(false);
        return (bytes, contentType);
    }

    /// <summary>The URL path of a slide name: each segment percent-encoded.</summary>
    public static string UrlOf(string name) => string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    public void Dispose()
    {
        _pool.Dispose();
        Renders.Dispose();
    }

    private SlideSummary Summarize(string name)
    {
        Slides.TryResolveFile(name, out string real);
        var info = new FileInfo(real);
        if (!info.Exists)
        {
            return new SlideSummary(name, 0, 0, null, null, "", 0, 0, false, "file not found (removed while listing)");
        }

        string key = string.Create(CultureInfo.InvariantCulture, $"{real}\n{info.LastWriteTimeUtc.Ticks}-{info.Length}");
        bool hasPredictions = FindPredictionFolder(name) != null;
        var summary = _summaries.GetOrAdd(key, _ =>
        {
            try
            {
                using var lease = _pool.Acquire(real);
                var s = lease.Slide.Slide;
                return new SlideSummary(name, s.Width, s.Height, s.MppX, s.MppY, s.Vendor, s.LevelCount, info.Length, false, null);
            }
            catch (HistoException e)
            {
                return new SlideSummary(name, 0, 0, null, null, "", 0, info.Length, false, Sanitize(e.Message));
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
            ["classmap"] = FindPredictionFile(name, "classmap.png") != null ? url + "classmap.png" : null,
            ["overlay"] = FindPredictionFile(name, "overlay.png") != null ? url + "overlay.png" : null,
            ["geojson"] = FindPredictionFile(name, "prediction.geojson") != null ? url + "prediction.geojson" : null,
        };
        try
        {
            var geometry = LoadGeometry(name);
            result["geometry"] = geometry;
            result["classes"] = geometry?.Classes ?? [];
            if (geometry == null)
            {
                result["error"] = "geometry.json is missing, so the maps cannot be placed on the slide";
            }
        }
        catch (HistoException e)
        {
            result["geometry"] = null;
            result["classes"] = Array.Empty<PredictionClass>();
            result["error"] = Sanitize(e.Message);
        }

        if (result["heatmap"] is null && FindPredictionFile(name, "heatmap.png") != null)
        {
            result["heatmapNote"] = "heatmap.png is a picture with a legend, not a map layer; run histo slide again to get heatmap-layer.png";
        }

        if (FindPredictionFile(name, "summary.json") is { } summaryPath)
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
        if (FindPredictionFile(name, HeatmapLayerFile) != null)
        {
            return HeatmapLayerFile;
        }

        if (FindPredictionFile(name, "heatmap.png") is not { } picture)
        {
            return null;
        }

        try
        {
            return LoadGeometry(name) is { } g && Histo.Datasets.ImageSizeReader.TryReadHeaderSize(picture, out int w, out int h) && (w, h) == (g.Width, g.Height)
                ? "heatmap.png"
                : null;
        }
        catch (HistoException)
        {
            return null; // the geometry's error is reported with the prediction
        }
    }

    private PredictionGeometry? LoadGeometry(string name)
    {
        if (FindPredictionFile(name, "geometry.json") is not { } geometryPath)
        {
            return null;
        }

        return PredictionGeometry.Load(geometryPath, GeoJsonClassColors(name));
    }

    /// <summary>Class colours the prediction's GeoJSON gives (QuPath's classification colours), by class name.</summary>
    private Dictionary<string, string>? GeoJsonClassColors(string name)
    {
        if (FindPredictionFile(name, "prediction.geojson") is not { } path)
        {
            return null;
        }

        try
        {
            using var stream = File.OpenRead(path);
            using var doc = JsonDocument.Parse(stream);
            var colors = new Dictionary<string, string>(StringComparer.Ordinal);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("features", out var features) && features.ValueKind == JsonValueKind.Array)
            {
                foreach (var f in features.EnumerateArray())
                {
                    if (f.ValueKind == JsonValueKind.Object && f.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object
                        && p.TryGetProperty("classification", out var c) && c.ValueKind == JsonValueKind.Object
                        && c.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                        && c.TryGetProperty("color", out var col) && ClassColors.Parse(col) is { } hex)
                    {
                        colors.TryAdd(n.GetString()!, hex);
                    }
                }
            }

            return colors;
        }
        catch (JsonException)
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

    /// <summary>Annotation files beside the slide with its stem: <c>.geojson</c> and <c>.xml</c> (ImageScope or ASAP).</summary>
    private List<string> AnnotationFiles(string name)
    {
        string? dir = Path.GetDirectoryName(name)?.Replace('\\', '/');
        string stem = Path.GetFileNameWithoutExtension(name);
        string prefix = string.IsNullOrEmpty(dir) ? stem : dir + "/" + stem;
        var files = new List<string>();
        foreach (string ext in new[] { ".geojson", ".xml" })
        {
            if (Slides.TryResolveFile(prefix + ext, out string real))
            {
                files.Add(real);
            }
        }

        return files;
    }
}
