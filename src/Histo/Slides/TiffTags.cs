using System.Buffers.Binary;
using System.Globalization;

namespace Histo.Slides;

/// <summary>
/// The few baseline tags Histo needs from the first directory of a TIFF file (size, resolution and description),
/// read by hand because OpenCV, which decodes plain images, does not expose them without decoding the pixels.
/// </summary>
internal sealed class TiffTags
{
    public double? XResolution { get; private init; }
    public double? YResolution { get; private init; }
    public int? ResolutionUnit { get; private init; }
    public string? ImageDescription { get; private init; }

    public IEnumerable<(string Key, string Value)> AsProperties()
    {
        if (XResolution is { } x)
        {
            yield return ("tiff.XResolution", x.ToString("R", CultureInfo.InvariantCulture));
        }

        if (YResolution is { } y)
        {
            yield return ("tiff.YResolution", y.ToString("R", CultureInfo.InvariantCulture));
        }

        if (ResolutionUnit is { } u)
        {
            yield return ("tiff.ResolutionUnit", u switch { 1 => "none", 2 => "inch", 3 => "centimeter", _ => u.ToString(CultureInfo.InvariantCulture) });
        }

        if (ImageDescription is { } d)
        {
            yield return ("tiff.ImageDescription", d);
        }
    }

    /// <summary>Width of the first image (tag 256), when present.</summary>
    public long? WidthPixels { get; private init; }

    /// <summary>Height of the first image (tag 257), when present.</summary>
    public long? HeightPixels { get; private init; }

    /// <summary>Reads the tags of a file, or returns null for anything that is not a well-formed TIFF or BigTIFF.</summary>
    public static TiffTags? TryRead(string path)
    {
        if (!IO.InputFile.IsRegular(path))
        {
            return null;
        }

        try
        {
            using var stream = File.OpenRead(path);
            return TryRead(stream);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Reads the first directory's tags from a seekable stream (classic TIFF or BigTIFF, either byte order), or returns
    /// null when the stream is not a well-formed TIFF. The one TIFF header parser of the library: image sizes
    /// (<c>ImageSizeReader</c>) and resolutions (<see cref="ImageFileResolution"/>) both come from here.
    /// </summary>
    /// <exception cref="IOException">The stream cannot be read.</exception>
    public static TiffTags? TryRead(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Position = 0;
        Span<byte> header = stackalloc byte[16];
        if (stream.ReadAtLeast(header[..8], 8, throwOnEndOfStream: false) != 8)
        {
            return null;
        }

        bool little = header[0] == 'I' && header[1] == 'I';
        if (!little && !(header[0] == 'M' && header[1] == 'M'))
        {
            return null;
        }

        int version = U16(header[2..], little);
        bool bigTiff = version == 43;
        if (version != 42 && !bigTiff)
        {
            return null;
        }

        long ifd;
        if (bigTiff)
        {
            if (stream.ReadAtLeast(header[8..16], 8, throwOnEndOfStream: false) != 8)
            {
                return null;
            }

            ifd = (long)U64(header[8..], little);
        }
        else
        {
            ifd = U32(header[4..], little);
        }

        int countSize = bigTiff ? 8 : 2, entrySize = bigTiff ? 20 : 12, valueAt = bigTiff ? 12 : 8;
        if (ifd < 8 || ifd + countSize > stream.Length)
        {
            return null;
        }

        stream.Position = ifd;
        Span<byte> countBytes = stackalloc byte[8];
        stream.ReadExactly(countBytes[..countSize]);
        long count = bigTiff ? (long)U64(countBytes, little) : U16(countBytes, little);
        if (count is <= 0 or > 4096 || ifd + countSize + (count * entrySize) > stream.Length)
        {
            return null;
        }

        var entries = new byte[count * entrySize];
        stream.ReadExactly(entries);
        double? xres = null, yres = null;
        int? unit = null;
        long? width = null, height = null;
        string? description = null;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> e = entries.AsSpan(i * entrySize, entrySize);
            int tag = U16(e, little), type = U16(e[2..], little);
            long n = bigTiff ? (long)U64(e[4..], little) : U32(e[4..], little);
            ReadOnlySpan<byte> value = e[valueAt..];
            long offset = bigTiff ? (long)U64(value, little) : U32(value, little);
            switch (tag)
            {
                case 256 or 257 when n == 1:
                    long v = type switch { 3 => U16(value, little), 4 => U32(value, little), 16 => (long)U64(value, little), _ => -1 };
                    if (v > 0)
                    {
                        if (tag == 256)
                        {
                            width = v;
                        }
                        else
                        {
                            height = v;
                        }
                    }

                    break;
                case 282 when type == 5 && n == 1: xres = bigTiff ? Rational(value, little) : ReadRational(stream, offset, little); break;
                case 283 when type == 5 && n == 1: yres = bigTiff ? Rational(value, little) : ReadRational(stream, offset, little); break;
                case 296 when type == 3: unit = U16(value, little); break;
                case 270 when type == 2 && n is > 4 and < 1 << 20:
                    if (n > (bigTiff ? 8 : 4) && offset + n <= stream.Length)
                    {
                        var text = new byte[n];
                        stream.Position = offset;
                        stream.ReadExactly(text);
                        description = System.Text.Encoding.UTF8.GetString(text).TrimEnd('\0');
                    }

                    break;
            }
        }

        return new TiffTags
        {
            WidthPixels = width, HeightPixels = height,
            XResolution = xres, YResolution = yres, ResolutionUnit = unit ?? (xres != null ? 2 : null), ImageDescription = description,
        };
    }

    private static double? Rational(ReadOnlySpan<byte> b, bool little)
    {
        long num = U32(b, little), den = U32(b[4..], little);
        return den == 0 ? null : (double)num / den;
    }

    private static double? ReadRational(Stream stream, long offset, bool little)
    {
        if (offset + 8 > stream.Length)
        {
            return null;
        }

        Span<byte> b = stackalloc byte[8];
        stream.Position = offset;
        stream.ReadExactly(b);
        long num = U32(b, little), den = U32(b[4..], little);
        return den == 0 ? null : (double)num / den;
    }

    private static int U16(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);

    private static long U32(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);

    private static ulong U64(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt64LittleEndian(b) : BinaryPrimitives.ReadUInt64BigEndian(b);
}
