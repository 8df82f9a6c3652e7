using System.Buffers.Binary;
using System.Globalization;

namespace Histo.Slides;

/// <summary>
/// The few baseline tags Histo needs from the first directory of a TIFF file (resolution and description),
/// read by hand because OpenCV, which decodes plain images, does not expose them.
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

    /// <summary>Reads the tags, or returns null for anything that is not a well-formed classic TIFF.</summary>
    public static TiffTags? TryRead(string path)
    {
        if (!IO.InputFile.IsRegular(path))
        {
            return null;
        }

        try
        {
            using var stream = File.OpenRead(path);
            Span<byte> header = stackalloc byte[8];
            if (stream.Read(header) != 8)
            {
                return null;
            }

            bool little = header[0] == 'I' && header[1] == 'I';
            bool big = header[0] == 'M' && header[1] == 'M';
            if (!little && !big || U16(header[2..], little) != 42)
            {
                return null;
            }

            long ifd = U32(header[4..], little);
            if (ifd < 8 || ifd + 2 > stream.Length)
            {
                return null;
            }

            stream.Position = ifd;
            Span<byte> countBytes = stackalloc byte[2];
            stream.ReadExactly(countBytes);
            int count = U16(countBytes, little);
            if (count == 0 || ifd + 2 + count * 12L > stream.Length)
            {
                return null;
            }

            var entries = new byte[count * 12];
            stream.ReadExactly(entries);
            double? xres = null, yres = null;
            int? unit = null;
            string? description = null;
            for (int i = 0; i < count; i++)
            {
                var e = entries.AsSpan(i * 12, 12);
                int tag = U16(e, little), type = U16(e[2..], little);
                long n = U32(e[4..], little);
                switch (tag)
                {
                    case 282 when type == 5 && n == 1: xres = ReadRational(stream, U32(e[8..], little), little); break;
                    case 283 when type == 5 && n == 1: yres = ReadRational(stream, U32(e[8..], little), little); break;
                    case 296 when type == 3: unit = U16(e[8..], little); break;
                    case 270 when type == 2 && n is > 4 and < 1 << 20:
                        long offset = U32(e[8..], little);
                        if (offset + n <= stream.Length)
                        {
                            var text = new byte[n];
                            stream.Position = offset;
                            stream.ReadExactly(text);
                            description = System.Text.Encoding.UTF8.GetString(text).TrimEnd('\0');
                        }

                        break;
                }
            }

            return new TiffTags { XResolution = xres, YResolution = yres, ResolutionUnit = unit ?? (xres != null ? 2 : null), ImageDescription = description };
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
}
