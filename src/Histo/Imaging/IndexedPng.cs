using System.Buffers.Binary;
using System.IO.Compression;

namespace Histo.Imaging;

/// <summary>
/// 8-bit palette (indexed, PNG colour type 3) PNGs: the pixel values are the indices, the PLTE chunk their colours.
/// Written and read here because OpenCV can neither write a palette PNG nor read one's indices (libpng expands the
/// palette to colours), and a class map must keep its values while showing its class colours in any image viewer.
/// The encoder writes unfiltered rows through <see cref="ZLibStream"/>; the decoder reads non-interlaced palette
/// PNGs of bit depth 1, 2, 4 or 8 with any row filter, checking every chunk's CRC.
/// </summary>
internal static class IndexedPng
{
    /// <summary>PNG colour type of a palette image.</summary>
    private const byte PaletteColorType = 3;

    /// <summary>True when the bytes are a PNG whose header declares a palette image.</summary>
    public static bool IsIndexed(ReadOnlySpan<byte> encoded) =>
        encoded.Length >= 33 && encoded.StartsWith(ImageSignature.Png) && encoded.Slice(12, 4).SequenceEqual("IHDR"u8) && encoded[25] == PaletteColorType;

    /// <summary>
    /// Encodes <paramref name="indices"/> (row-major, one byte per pixel) with a 256-entry palette
    /// (<paramref name="palette"/>[i] is the colour of value i).
    /// </summary>
    public static byte[] Encode(ReadOnlySpan<byte> indices, int width, int height, IReadOnlyList<(byte R, byte G, byte B)> palette)
    {
        ArgumentNullException.ThrowIfNull(palette);
        if (width <= 0 || height <= 0 || (long)width * height != indices.Length)
        {
            throw new ArgumentException($"expected {width} x {height} indices, got {indices.Length}", nameof(indices));
        }

        if (palette.Count != 256)
        {
            throw new ArgumentException($"a palette for 8-bit indices has 256 colours, got {palette.Count}", nameof(palette));
        }

        using var png = new MemoryStream();
        png.Write(ImageSignature.Png);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8; // bit depth
        header[9] = PaletteColorType;
        header[10] = header[11] = header[12] = 0; // deflate, adaptive filtering, no interlace
        WriteChunk(png, "IHDR"u8, header);

        var plte = new byte[256 * 3];
        for (int i = 0; i < 256; i++)
        {
            (plte[i * 3], plte[i * 3 + 1], plte[i * 3 + 2]) = palette[i];
        }

        WriteChunk(png, "PLTE"u8, plte);
        using (var raw = new MemoryStream())
        {
            using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
            {
                for (int y = 0; y < height; y++)
                {
                    z.WriteByte(0); // filter: none (class maps are runs of equal values; deflate handles them well)
                    z.Write(indices.Slice(y * width, width));
                }
            }

            WriteChunk(png, "IDAT"u8, raw.GetBuffer().AsSpan(0, (int)raw.Length));
        }

        WriteChunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    /// <summary>Decodes a palette PNG to its indices and palette.</summary>
    /// <exception cref="ImageFormatException">Not a palette PNG, an unsupported variant, truncated or corrupt.</exception>
    public static (byte[] Indices, int Width, int Height, (byte R, byte G, byte B)[] Palette) Decode(ReadOnlySpan<byte> encoded, string name)
    {
        if (!IsIndexed(encoded))
        {
            throw new ImageFormatException($"{name}: not a palette PNG");
        }

        int width = 0, height = 0, bitDepth = 0;
        (byte R, byte G, byte B)[]? palette = null;
        using var idat = new MemoryStream();
        int at = ImageSignature.Png.Length;
        bool ended = false;
        while (!ended)
        {
            if (encoded.Length - at < 12)
            {
                throw Corrupt(name, "truncated");
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(encoded[at..]);
            if (length > int.MaxValue || length > encoded.Length - at - 12)
            {
                throw Corrupt(name, "truncated");
            }

            var type = encoded.Slice(at + 4, 4);
            var data = encoded.Slice(at + 8, (int)length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(encoded[(at + 8 + (int)length)..]);
            if (Crc32(type, data) != crc)
            {
                throw Corrupt(name, $"bad CRC in its {System.Text.Encoding.ASCII.GetString(type)} chunk");
            }

            at += 12 + (int)length;
            if (type.SequenceEqual("IHDR"u8))
            {
                if (data.Length != 13)
                {
                    throw Corrupt(name, "bad IHDR");
                }

                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                bitDepth = data[8];
                if (width <= 0 || height <= 0 || bitDepth is not (1 or 2 or 4 or 8) || data[10] != 0 || data[11] != 0)
                {
                    throw Corrupt(name, "bad IHDR");
                }

                if (data[12] != 0)
                {
                    throw new ImageFormatException($"{name}: interlaced palette PNGs are not read; save it without interlacing");
                }

                if (ImageIO.TooLarge(width, height) is { } problem)
                {
                    throw new ImageFormatException($"{name}: {problem}");
                }
            }
            else if (type.SequenceEqual("PLTE"u8))
            {
                if (data.Length == 0 || data.Length % 3 != 0 || data.Length > 256 * 3)
                {
                    throw Corrupt(name, "bad PLTE");
                }

                palette = new (byte, byte, byte)[data.Length / 3];
                for (int i = 0; i < palette.Length; i++)
                {
                    palette[i] = (data[i * 3], data[i * 3 + 1], data[i * 3 + 2]);
                }
            }
            else if (type.SequenceEqual("IDAT"u8))
            {
                idat.Write(data);
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                ended = true;
            }
        }

        if (palette is null)
        {
            throw Corrupt(name, "no PLTE chunk");
        }

        long rowBytes = ((long)width * bitDepth + 7) / 8;
        long rawLength = (rowBytes + 1) * height;
        if (rawLength > Array.MaxLength)
        {
            throw Corrupt(name, "too large");
        }

        var raw = new byte[rawLength];
        idat.Position = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            if (z.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false) != raw.Length)
            {
                throw Corrupt(name, "its image data is shorter than its size");
            }
        }
        catch (InvalidDataException e)
        {
            throw new ImageFormatException($"{name}: not a readable image (corrupt image data: {e.Message})", e);
        }

        var indices = new byte[(long)width * height];
        Unfilter(raw, (int)rowBytes, height, bitDepth, name);
        int perByte = 8 / bitDepth, mask = (1 << bitDepth) - 1;
        for (int y = 0; y < height; y++)
        {
            var row = raw.AsSpan(y * ((int)rowBytes + 1) + 1, (int)rowBytes);
            var dst = indices.AsSpan(y * width, width);
            if (bitDepth == 8)
            {
                row.CopyTo(dst);
                continue;
            }

            for (int x = 0; x < width; x++)
            {
                int shift = 8 - bitDepth * (x % perByte + 1);
                dst[x] = (byte)((row[x / perByte] >> shift) & mask);
            }
        }

        return (indices, width, height, palette);
    }

    /// <summary>Reverses the PNG row filters in place (the filter byte of each row is left as it was).</summary>
    private static void Unfilter(byte[] raw, int rowBytes, int height, int bitDepth, string name)
    {
        int bpp = Math.Max(1, bitDepth / 8); // bytes per complete pixel, at least one
        int stride = rowBytes + 1;
        for (int y = 0; y < height; y++)
        {
            int row = y * stride + 1, previous = row - stride;
            byte filter = raw[row - 1];
            for (int i = 0; i < rowBytes; i++)
            {
                int a = i >= bpp ? raw[row + i - bpp] : 0;
                int b = y > 0 ? raw[previous + i] : 0;
                int c = y > 0 && i >= bpp ? raw[previous + i - bpp] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw Corrupt(name, $"unknown row filter {filter}"),
                };
                raw[row + i] = (byte)(raw[row + i] + predictor);
            }
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static ImageFormatException Corrupt(string name, string detail) => new($"{name}: not a readable image (palette PNG: {detail})");

    private static void WriteChunk(Stream png, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        png.Write(type);
        png.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(type, data));
        png.Write(word);
    }

    // The PNG chunk CRC (ISO 3309 / zlib polynomial 0xEDB88320) over type and data; a table rather than the
    // System.IO.Hashing package, which is not among the dependencies.
    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }

    internal static uint Crc32(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte v in type)
        {
            c = CrcTable[(c ^ v) & 0xFF] ^ (c >> 8);
        }

        foreach (byte v in data)
        {
            c = CrcTable[(c ^ v) & 0xFF] ^ (c >> 8);
        }

        return c ^ 0xFFFFFFFFu;
    }
}
