using System.Buffers.Binary;
using Histo.Imaging;

namespace Histo.Datasets;

/// <summary>
/// Reads an image's width and height from its header (PNG IHDR, JPEG SOF, TIFF first IFD, BMP info header) without
/// decoding pixels, so listing thousands of patches takes a fraction of a second. Files whose header is not
/// understood are decoded by OpenCV instead.
/// </summary>
public static class ImageSizeReader
{
    /// <summary>
    /// The image's size in pixels: from the header when it can be parsed, else by decoding.
    /// Throws <see cref="ImageFormatException"/> when the file is missing, empty or not a readable image.
    /// </summary>
    public static (int WidthPixels, int HeightPixels) ReadSize(string path)
    {
        if (TryReadHeaderSize(path, out int width, out int height))
        {
            // A header declaring more than can be decoded is a corrupt file or a decompression bomb: unreadable.
            return ImageIO.TooLarge(width, height) is { } problem
                ? throw new ImageFormatException($"{path}: {problem}")
                : (width, height);
        }

        var image = ImageIO.Load(path);
        return (image.Width, image.Height);
    }

    /// <summary>
    /// Reads the size from the file header only. Returns false when the file cannot be opened or its header is not a
    /// well-formed PNG, JPEG, TIFF (classic or BigTIFF) or BMP header.
    /// </summary>
    public static bool TryReadHeaderSize(string path, out int widthPixels, out int heightPixels)
    {
        widthPixels = 0;
        heightPixels = 0;
        if (!IO.InputFile.IsRegular(path))
        {
            return false;
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 512);
            return TryReadHeaderSize(stream, out widthPixels, out heightPixels);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Reads the size from the header of an encoded image held in memory (see the path overload).</summary>
    public static bool TryReadHeaderSize(ReadOnlyMemory<byte> encoded, out int widthPixels, out int heightPixels)
    {
        using var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(encoded, out ArraySegment<byte> segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(encoded.ToArray(), writable: false);
        return TryReadHeaderSize(stream, out widthPixels, out heightPixels);
    }

    private static bool TryReadHeaderSize(Stream stream, out int widthPixels, out int heightPixels)
    {
        widthPixels = 0;
        heightPixels = 0;
        try
        {
            Span<byte> head = stackalloc byte[32];
            int read = ReadUpTo(stream, head);
            head = head[..read];
            bool ok;
            if (head.Length >= 24 && head[..8].SequenceEqual(PngSignature))
            {
                ok = TryPng(head, out widthPixels, out heightPixels);
            }
            else if (head.Length >= 4 && head[0] == 0xFF && head[1] == 0xD8)
            {
                ok = TryJpeg(stream, out widthPixels, out heightPixels);
            }
            else if (head.Length >= 8 && (head[0] == 'I' && head[1] == 'I' || head[0] == 'M' && head[1] == 'M'))
            {
                ok = TryTiff(stream, out widthPixels, out heightPixels);
            }
            else if (head.Length >= 26 && head[0] == 'B' && head[1] == 'M')
            {
                widthPixels = BinaryPrimitives.ReadInt32LittleEndian(head[18..]);
                heightPixels = Math.Abs(BinaryPrimitives.ReadInt32LittleEndian(head[22..]));
                ok = true;
            }
            else
            {
                ok = false;
            }

            return ok && widthPixels > 0 && heightPixels > 0;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or ArgumentException or OverflowException)
        {
            widthPixels = heightPixels = 0;
            return false;
        }
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static bool TryPng(ReadOnlySpan<byte> head, out int width, out int height)
    {
        width = height = 0;
        if (!head[12..16].SequenceEqual("IHDR"u8))
        {
            return false;
        }

        uint w = BinaryPrimitives.ReadUInt32BigEndian(head[16..]);
        uint h = BinaryPrimitives.ReadUInt32BigEndian(head[20..]);
        if (w > int.MaxValue || h > int.MaxValue)
        {
            return false;
        }

        width = (int)w;
        height = (int)h;
        return true;
    }

    private static bool TryJpeg(Stream stream, out int width, out int height)
    {
        width = height = 0;
        stream.Position = 2;
        Span<byte> segment = stackalloc byte[7];
        while (true)
        {
            int b = stream.ReadByte();
            if (b < 0)
            {
                return false;
            }

            if (b != 0xFF)
            {
                return false;
            }

            int marker;
            do
            {
                marker = stream.ReadByte();
            }
            while (marker == 0xFF);

            if (marker < 0 || marker == 0xD9 || marker == 0xDA)
            {
                // End of image or start of scan before any frame header.
                return false;
            }

            if (marker is >= 0xD0 and <= 0xD7 or 0x01)
            {
                continue;
            }

            Span<byte> lengthBytes = segment[..2];
            stream.ReadExactly(lengthBytes);
            int length = BinaryPrimitives.ReadUInt16BigEndian(lengthBytes);
            if (length < 2)
            {
                return false;
            }

            bool startOfFrame = marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;
            if (startOfFrame)
            {
                Span<byte> frame = segment[..5];
                stream.ReadExactly(frame);
                height = BinaryPrimitives.ReadUInt16BigEndian(frame[1..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(frame[3..]);
                return true;
            }

            stream.Seek(length - 2, SeekOrigin.Current);
            if (stream.Position > stream.Length)
            {
                return false;
            }
        }
    }

    private static bool TryTiff(Stream stream, out int width, out int height)
    {
        width = height = 0;
        stream.Position = 0;
        Span<byte> header = stackalloc byte[16];
        stream.ReadExactly(header[..8]);
        bool little = header[0] == 'I';
        int version = U16(header[2..], little);
        bool big = version == 43;
        if (version != 42 && !big)
        {
            return false;
        }

        long ifd;
        if (big)
        {
            stream.ReadExactly(header[8..16]);
            ifd = (long)U64(header[8..], little);
        }
        else
        {
            ifd = U32(header[4..], little);
        }

        if (ifd < 8 || ifd >= stream.Length)
        {
            return false;
        }

        stream.Position = ifd;
        Span<byte> countBytes = stackalloc byte[8];
        long count;
        if (big)
        {
            stream.ReadExactly(countBytes);
            count = (long)U64(countBytes, little);
        }
        else
        {
            stream.ReadExactly(countBytes[..2]);
            count = U16(countBytes, little);
        }

        int entrySize = big ? 20 : 12;
        if (count <= 0 || count > 4096)
        {
            return false;
        }

        var entries = new byte[count * entrySize];
        stream.ReadExactly(entries);
        long w = -1, h = -1;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> e = entries.AsSpan(i * entrySize, entrySize);
            int tag = U16(e, little);
            if (tag is not (256 or 257))
            {
                continue;
            }

            int type = U16(e[2..], little);
            ReadOnlySpan<byte> value = e[(big ? 12 : 8)..];
            long v = type switch
            {
                3 => U16(value, little),
                4 => U32(value, little),
                16 => (long)U64(value, little),
                _ => -1,
            };
            if (tag == 256)
            {
                w = v;
            }
            else
            {
                h = v;
            }
        }

        if (w <= 0 || h <= 0 || w > int.MaxValue || h > int.MaxValue)
        {
            return false;
        }

        width = (int)w;
        height = (int)h;
        return true;
    }

    private static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private static int U16(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);

    private static uint U32(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);

    private static ulong U64(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt64LittleEndian(b) : BinaryPrimitives.ReadUInt64BigEndian(b);
}
