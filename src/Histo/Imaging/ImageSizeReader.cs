using System.Buffers.Binary;

namespace Histo.Imaging;

/// <summary>
/// Reads an image's width and height from its header (PNG IHDR, JPEG SOF, TIFF first IFD, BMP info header) without
/// decoding pixels, so listing thousands of patches takes a fraction of a second. The format comes from the first
/// bytes (<see cref="ImageSignature"/>), TIFF tags from <c>TiffTags</c>. Files whose header is not understood are
/// decoded by OpenCV instead.
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
            switch (ImageSignature.Detect(head))
            {
                case ImageFileFormat.Png when head.Length >= 24 && head[..8].SequenceEqual(ImageSignature.Png):
                    ok = TryPng(head, out widthPixels, out heightPixels);
                    break;
                case ImageFileFormat.Jpeg:
                    ok = TryJpeg(stream, out widthPixels, out heightPixels);
                    break;
                case ImageFileFormat.Tiff when head.Length >= 8:
                    ok = TryTiff(stream, out widthPixels, out heightPixels);
                    break;
                case ImageFileFormat.Bmp when head.Length >= 26:
                    widthPixels = BinaryPrimitives.ReadInt32LittleEndian(head[18..]);
                    heightPixels = Math.Abs(BinaryPrimitives.ReadInt32LittleEndian(head[22..]));
                    ok = true;
                    break;
                default:
                    ok = false;
                    break;
            }

            return ok && widthPixels > 0 && heightPixels > 0;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or ArgumentException or OverflowException)
        {
            widthPixels = heightPixels = 0;
            return false;
        }
    }

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
        if (Histo.Slides.TiffTags.TryRead(stream) is not { WidthPixels: { } w, HeightPixels: { } h } || w > int.MaxValue || h > int.MaxValue)
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
}
