namespace Histo.Slides;

/// <summary>
/// What Histo takes for a slide file and for an image file, in one place. Two named sets: the plain images that the
/// image decoder reads (<see cref="ImageExtensions"/>: what a dataset of patches or fields holds, and what images are
/// written as) and the slides that <see cref="Slide.Open"/> opens (<see cref="SlideExtensions"/>: OpenSlide's
/// whole-slide formats plus those plain images). Folder listings of slides (cohort runs, patch export, the viewer)
/// go through <see cref="FindSlideFiles"/> or these sets.
/// </summary>
public static class SlideFormats
{
    /// <summary>Extensions of TIFF files: both a plain image and a (generic tiled) whole-slide format.</summary>
    public static IReadOnlySet<string> TiffExtensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".tif", ".tiff" };

    /// <summary>Extensions of the plain images the image decoder reads and writes (PNG, JPEG, TIFF, BMP).</summary>
    public static IReadOnlySet<string> ImageExtensions { get; } =
        new HashSet<string>(new[] { ".png", ".jpg", ".jpeg", ".bmp" }.Concat(TiffExtensions), StringComparer.OrdinalIgnoreCase);

    /// <summary>Extensions of the whole-slide formats OpenSlide reads (Aperio, Hamamatsu, Leica, MIRAX, Philips/Ventana, generic TIFF).</summary>
    public static IReadOnlySet<string> WholeSlideExtensions { get; } =
        new HashSet<string>(new[] { ".svs", ".ndpi", ".vms", ".vmu", ".scn", ".mrxs", ".svslide", ".bif" }.Concat(TiffExtensions), StringComparer.OrdinalIgnoreCase);

    /// <summary>Every extension taken as a slide: the whole-slide formats and the plain images.</summary>
    public static IReadOnlySet<string> SlideExtensions { get; } =
        new HashSet<string>(WholeSlideExtensions.Concat(ImageExtensions), StringComparer.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="path"/> has an image extension (<see cref="ImageExtensions"/>).</summary>
    public static bool IsImageFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ImageExtensions.Contains(Path.GetExtension(path));
    }

    /// <summary>True when <paramref name="path"/> has a TIFF extension (<see cref="TiffExtensions"/>).</summary>
    public static bool IsTiffFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return TiffExtensions.Contains(Path.GetExtension(path));
    }

    /// <summary>True when <paramref name="path"/> has a slide extension and is not a hidden file (name starting with '.').</summary>
    public static bool IsSlideFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return SlideExtensions.Contains(Path.GetExtension(path)) && !Path.GetFileName(path).StartsWith('.');
    }

    /// <summary>
    /// The slide files in <paramref name="folder"/> (and its sub-folders when <paramref name="recursive"/>), sorted by
    /// path, each path starting with <paramref name="folder"/> as given. Hidden files and folders (names starting
    /// with '.') and everything under <paramref name="excludeDirectory"/> (typically the output) are skipped. Empty
    /// when there is none; the caller says what that means.
    /// </summary>
    public static IReadOnlyList<string> FindSlideFiles(string folder, bool recursive, string? excludeDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string? excluded = excludeDirectory is null ? null : Path.GetFullPath(excludeDirectory).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return Directory.EnumerateFiles(folder, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly)
            .Where(f => SlideExtensions.Contains(Path.GetExtension(f)))
            .Where(f => !Path.GetRelativePath(folder, f).Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.')))
            .Where(f => excluded is null || !Path.GetFullPath(f).StartsWith(excluded, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The name a slide goes by: its file name without extension. It names the slide's output folder
    /// (<c>OUT/&lt;slide name&gt;/</c>), its ground truth (<c>&lt;slide name&gt;.xml</c>, ...) and its cohort row.
    /// </summary>
    public static string SlideName(string slidePath) => Path.GetFileNameWithoutExtension(slidePath);

    /// <summary>The slide extensions for an error message ("looked for .bif, .bmp, ...").</summary>
    public static string Listing => string.Join(", ", SlideExtensions.Order(StringComparer.Ordinal));
}
