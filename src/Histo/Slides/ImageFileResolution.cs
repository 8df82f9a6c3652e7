namespace Histo.Slides;

/// <summary>The pixel size recorded in a plain image file, without decoding its pixels.</summary>
public static class ImageFileResolution
{
    /// <summary>
    /// Microns per pixel from a TIFF file's resolution tags (centimetre or inch units, plausible values only, the
    /// mean of X and Y), or null for other formats and for TIFFs without a usable resolution. PNG and JPEG density
    /// fields are not read: their writers rarely mean a physical pixel size.
    /// </summary>
    public static double? TryReadMpp(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var tags = TiffTags.TryRead(path);
        if (tags is null)
        {
            return null;
        }

        double? x = Slide.MppFromTiffResolution(tags.XResolution, tags.ResolutionUnit);
        double? y = Slide.MppFromTiffResolution(tags.YResolution, tags.ResolutionUnit);
        return x is { } mx && y is { } my ? (mx + my) / 2 : null;
    }
}
