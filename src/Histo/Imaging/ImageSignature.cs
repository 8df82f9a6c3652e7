namespace Histo.Imaging;

/// <summary>The plain image formats Histo decodes, as told by a file's first bytes.</summary>
public enum ImageFileFormat
{
    /// <summary>PNG.</summary>
    Png,

    /// <summary>JPEG (JFIF or Exif).</summary>
    Jpeg,

    /// <summary>TIFF, classic or BigTIFF, either byte order.</summary>
    Tiff,

    /// <summary>Windows bitmap.</summary>
    Bmp,
}

/// <summary>
/// The one place that tells an image format from a file's first bytes (its magic number), whatever the file is called:
/// the decoder refuses anything else before reading it whole, a truth file is taken for a label mask when it is an
/// image, and the header reader picks its parser from it.
/// </summary>
public static class ImageSignature
{
    /// <summary>How many leading bytes <see cref="Detect"/> looks at.</summary>
    public const int HeadBytes = 4;

    /// <summary>The whole 8-byte PNG signature (the header parsers check all of it).</summary>
    internal static ReadOnlySpan<byte> Png => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// The format whose signature <paramref name="head"/> (the file's first <see cref="HeadBytes"/> bytes or more)
    /// starts with, or null: PNG (0x89 "PNG"), JPEG (FF D8 FF), TIFF ("II*\0", "MM\0*", BigTIFF "II+\0", "MM\0+"), BMP ("BM").
    /// </summary>
    public static ImageFileFormat? Detect(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith(Png[..4]))
        {
            return ImageFileFormat.Png;
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return ImageFileFormat.Jpeg;
        }

        if (head.StartsWith("II*\0"u8) || head.StartsWith("MM\0*"u8) || head.StartsWith("II+\0"u8) || head.StartsWith("MM\0+"u8))
        {
            return ImageFileFormat.Tiff;
        }

        return head.StartsWith("BM"u8) ? ImageFileFormat.Bmp : null;
    }
}
