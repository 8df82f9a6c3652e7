using System.Buffers.Binary;
using Histo.Imaging;

namespace Histo.Tests.Imaging;

public class ImageSizeReaderTests
{
    [Fact]
    public void Header_sizes_of_real_png_and_tiff_match_the_decoded_images()
    {
        string[] files =
        [
            TestPaths.Shared("idc", "12748", "0", "12748_idx5_x1901_y1451_class0.png"),
            TestPaths.Shared("idc", "12748", "1", "12748_idx5_x1351_y551_class1.png"),
            TestPaths.Shared("microscopy", "bach", "Normal", "normal.png"),
            TestPaths.Shared("microscopy", "breakhis", "benign", "adenosis", "SOB_B_A-14-22549AB-40-001.png"),
            TestPaths.KidneyTif,
        ];
        foreach (string file in files)
        {
            Assert.True(ImageSizeReader.TryReadHeaderSize(file, out int w, out int h), file);
            var decoded = ImageIO.Load(file);
            Assert.Equal((decoded.Width, decoded.Height), (w, h));
            Assert.True(ImageSizeReader.TryReadHeaderSize(File.ReadAllBytes(file).AsMemory(), out int mw, out int mh));
            Assert.Equal((w, h), (mw, mh));
        }

        Assert.True(ImageSizeReader.TryReadHeaderSize(files[0], out int bw, out int bh));
        Assert.Equal((50, 31), (bw, bh));
    }

    [Fact]
    public void Header_size_of_a_pyramidal_tiff_is_its_full_resolution()
    {
        Assert.True(ImageSizeReader.TryReadHeaderSize(TestPaths.A01Window, out int w, out int h));
        using var slide = Histo.Slides.Slide.Open(TestPaths.A01Window);
        Assert.Equal((slide.Width, slide.Height), ((long)w, (long)h));
    }

    [Fact]
    public void Jpeg_and_bmp_headers_are_read()
    {
        string dir = TestPaths.NewTempDirectory();
        var image = ImageIO.Load(TestPaths.Shared("microscopy", "bach", "Benign", "benign.png"));
        string jpeg = Path.Combine(dir, "b.jpg");
        ImageIO.Save(jpeg, image);
        string bmp = Path.Combine(dir, "b.bmp");
        ImageIO.Save(bmp, ImageIO.Resize(image, 123, 45));
        Assert.True(ImageSizeReader.TryReadHeaderSize(jpeg, out int jw, out int jh));
        Assert.Equal((image.Width, image.Height), (jw, jh));
        Assert.True(ImageSizeReader.TryReadHeaderSize(bmp, out int bw, out int bh));
        Assert.Equal((123, 45), (bw, bh));
    }

    [Fact]
    public void Big_endian_tiff_and_bigtiff_headers_are_read()
    {
        string dir = TestPaths.NewTempDirectory();

        // Classic big-endian TIFF: header, one IFD with ImageWidth (SHORT 300) and ImageLength (LONG 200).
        var classic = new byte[8 + 2 + 2 * 12 + 4];
        "MM"u8.CopyTo(classic);
        BinaryPrimitives.WriteUInt16BigEndian(classic.AsSpan(2), 42);
        BinaryPrimitives.WriteUInt32BigEndian(classic.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt16BigEndian(classic.AsSpan(8), 2);
        WriteEntry(classic.AsSpan(10), 256, 3, 300);
        WriteEntry(classic.AsSpan(22), 257, 4, 200);
        string classicPath = Path.Combine(dir, "be.tif");
        File.WriteAllBytes(classicPath, classic);
        Assert.True(ImageSizeReader.TryReadHeaderSize(classicPath, out int w, out int h));
        Assert.Equal((300, 200), (w, h));

        // Little-endian BigTIFF: 16-byte header, 8-byte entry count, 20-byte entries.
        var big = new byte[16 + 8 + 2 * 20 + 8];
        "II"u8.CopyTo(big);
        BinaryPrimitives.WriteUInt16LittleEndian(big.AsSpan(2), 43);
        BinaryPrimitives.WriteUInt16LittleEndian(big.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt64LittleEndian(big.AsSpan(8), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(big.AsSpan(16), 2);
        WriteBigEntry(big.AsSpan(24), 256, 16, 70000);
        WriteBigEntry(big.AsSpan(44), 257, 4, 50000);
        string bigPath = Path.Combine(dir, "big.tif");
        File.WriteAllBytes(bigPath, big);
        Assert.True(ImageSizeReader.TryReadHeaderSize(bigPath, out w, out h));
        Assert.Equal((70000, 50000), (w, h));

        // The same BigTIFF with its resolution: rationals inline in 8-byte values, centimetre unit (0.84 µm/px).
        var withResolution = new byte[16 + 8 + 5 * 20 + 8];
        big.AsSpan(0, 16).CopyTo(withResolution);
        BinaryPrimitives.WriteUInt64LittleEndian(withResolution.AsSpan(16), 5);
        WriteBigEntry(withResolution.AsSpan(24), 256, 16, 70000);
        WriteBigEntry(withResolution.AsSpan(44), 257, 4, 50000);
        WriteBigEntry(withResolution.AsSpan(64), 282, 5, 11905UL | (1UL << 32));
        WriteBigEntry(withResolution.AsSpan(84), 283, 5, 11905UL | (1UL << 32));
        WriteBigEntry(withResolution.AsSpan(104), 296, 3, 3);
        string resolutionPath = Path.Combine(dir, "big-mpp.tif");
        File.WriteAllBytes(resolutionPath, withResolution);
        Assert.True(ImageSizeReader.TryReadHeaderSize(resolutionPath, out w, out h));
        Assert.Equal((70000, 50000), (w, h));
        Assert.Equal(10000.0 / 11905, Histo.Slides.ImageFileResolution.TryReadMpp(resolutionPath) ?? 0, 9);
    }

    [Fact]
    public void Garbage_and_empty_files_are_not_images()
    {
        string dir = TestPaths.NewTempDirectory();
        string garbage = Path.Combine(dir, "garbage.png");
        File.WriteAllText(garbage, "this is not a png at all");
        string empty = Path.Combine(dir, "empty.png");
        File.WriteAllBytes(empty, []);
        Assert.False(ImageSizeReader.TryReadHeaderSize(garbage, out _, out _));
        Assert.False(ImageSizeReader.TryReadHeaderSize(empty, out _, out _));
        Assert.False(ImageSizeReader.TryReadHeaderSize(Path.Combine(dir, "missing.png"), out _, out _));
        Assert.Throws<ImageFormatException>(() => ImageSizeReader.ReadSize(garbage));
        Assert.Throws<ImageFormatException>(() => ImageSizeReader.ReadSize(empty));
    }

    private static void WriteEntry(Span<byte> entry, ushort tag, ushort type, uint value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(entry, tag);
        BinaryPrimitives.WriteUInt16BigEndian(entry[2..], type);
        BinaryPrimitives.WriteUInt32BigEndian(entry[4..], 1);
        if (type == 3)
        {
            BinaryPrimitives.WriteUInt16BigEndian(entry[8..], (ushort)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(entry[8..], value);
        }
    }

    private static void WriteBigEntry(Span<byte> entry, ushort tag, ushort type, ulong value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(entry, tag);
        BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], type);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[4..], 1);
        if (type is 16 or 5)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(entry[12..], value); // LONG8, or a RATIONAL's numerator and denominator
        }
        else if (type == 3)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(entry[12..], (ushort)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(entry[12..], (uint)value);
        }
    }
}
