using Histo.Imaging;

namespace Histo.Slides;

/// <summary>
/// What Histo takes for a slide file, in one place: OpenSlide's whole-slide formats plus the plain images that
/// <see cref="Slide.Open"/> also opens. Folder listings (cohort runs, patch export, the viewer) use these sets.
/// </summary>
public static class SlideFormats
{
    /// <summary>Extensions of the whole-slide formats OpenSlide reads (Aperio, Hamamatsu, Leica, MIRAX, Philips/Ventana, generic TIFF).</summary>
    public static IReadOnlySet<string> WholeSlideExtensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".svs", ".tif", ".tiff", ".ndpi", ".vms", ".vmu", ".scn", ".mrxs", ".svslide", ".bif",
    };

    /// <summary>Every extension taken as a slide: the whole-slide formats and the plain images (<see cref="ImageIO.ImageExtensions"/>).</summary>
    public static IReadOnlySet<string> SlideExtensions { get; } =
        new HashSet<string>(WholeSlideExtensions.Concat(ImageIO.ImageExtensions), StringComparer.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="path"/> has a slide extension and is not a hidden file (name starting with '.').</summary>
    public static bool IsSlideFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return SlideExtensions.Contains(Path.GetExtension(path)) && !Path.GetFileName(path).StartsWith('.');
    }

    /// <summary>The extensions for an error message ("looked for .bif, .bmp, ...").</summary>
    public static string Listing => string.Join(", ", SlideExtensions.Order(StringComparer.Ordinal));
}
