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
