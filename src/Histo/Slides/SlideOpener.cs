namespace Histo.Slides;

/// <summary>Chooses the reader for a file: OpenSlide when it recognises the file, the plain-image reader otherwise.</summary>
internal static class SlideOpener
{
    public static Slide Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        switch (IO.InputFile.KindOf(path))
        {
            case IO.InputFileKind.Regular:
                break;
            case IO.InputFileKind.Directory:
                throw new SlideOpenException(path, $"{path} is a directory, not a slide");
            default:
                // Only regular files are opened: a FIFO would block the open forever, a device stream forever.
                throw new SlideOpenException(path, IO.InputFile.Problem(path)!);
        }

        try
        {
            using var probe = File.OpenRead(path);
            if (probe.Length == 0)
            {
                throw new SlideOpenException(path, $"{path}: empty file");
            }
        }
        catch (UnauthorizedAccessException e)
        {
            throw new SlideOpenException(path, $"{path}: permission denied", e);
        }
        catch (IOException e)
        {
            throw new SlideOpenException(path, $"{path}: cannot read ({e.Message})", e);
        }

        string? vendor;
        try
        {
            vendor = OpenSlideSlide.DetectVendor(path);
        }
        catch (DllNotFoundException e)
        {
            throw new SlideOpenException(path, "libopenslide.so.0 is not installed (apt-get install libopenslide0)", e);
        }

        if (vendor != null)
        {
            try
            {
                return OpenSlideSlide.OpenFile(path);
            }
            catch (SlideOpenException) when (SlideFormats.IsImageFile(path))
            {
                // e.g. a flat, untiled TIFF: OpenSlide claims it but cannot read it; an image decoder can.
                return ImageSlide.OpenFile(path);
            }
        }

        if (SlideFormats.IsImageFile(path))
        {
            return ImageSlide.OpenFile(path);
        }

        throw new SlideOpenException(path, $"{path}: not a recognised slide or image format");
    }
}
