using System.Buffers.Binary;

namespace Histo.Tests.Reliability;

/// <summary>
/// Where things are in a classic little-endian TIFF: each directory (IFD) with the file offsets of its entries,
/// and the tile or strip offsets and byte counts. Just enough to corrupt a real slide at a chosen place.
/// </summary>
internal sealed class TiffLayout
{
    /// <summary>One directory entry: its tag and where its 12 bytes are in the file.</summary>
    public sealed record Entry(int Tag, int Type, long Count, long EntryOffset)
    {
        /// <summary>File offset of the entry's value field (the value itself, or the offset of the values).</summary>
        public long ValueFieldOffset => EntryOffset + 8;
    }

    /// <summary>One image file directory.</summary>
    public sealed record Directory(long Offset, IReadOnlyList<Entry> Entries, long NextPointerOffset, long[] DataOffsets, long[] DataByteCounts, long Width, long Height, int Compression)
    {
        /// <summary>The entry for a tag, or null.</summary>
        public Entry? Find(int tag) => Entries.FirstOrDefault(e => e.Tag == tag);
    }

    public const int TagImageWidth = 256, TagImageLength = 257, TagCompression = 259, TagStripOffsets = 273,
        TagStripByteCounts = 279, TagTileOffsets = 324, TagTileByteCounts = 325;

    public IReadOnlyList<Directory> Directories { get; }

    private TiffLayout(IReadOnlyList<Directory> directories) => Directories = directories;

    /// <summary>Parses a classic little-endian TIFF (what the shared slides are).</summary>
    public static TiffLayout Read(byte[] file)
    {
        if (file[0] != 'I' || file[1] != 'I' || U16(file, 2) != 42)
        {
            throw new InvalidDataException("not a classic little-endian TIFF");
        }

        var directories = new List<Directory>();
        long offset = U32(file, 4);
        var seen = new HashSet<long>();
        while (offset != 0 && seen.Add(offset))
        {
            int count = U16(file, offset);
            var entries = new List<Entry>(count);
            for (int i = 0; i < count; i++)
            {
                long at = offset + 2 + i * 12L;
                entries.Add(new Entry(U16(file, at), U16(file, at + 2), U32(file, at + 4), at));
            }

            long nextPointer = offset + 2 + count * 12L;
            var byTag = entries.ToDictionary(e => e.Tag);
            long[] dataOffsets = Values(file, byTag.GetValueOrDefault(TagTileOffsets) ?? byTag.GetValueOrDefault(TagStripOffsets));
            long[] byteCounts = Values(file, byTag.GetValueOrDefault(TagTileByteCounts) ?? byTag.GetValueOrDefault(TagStripByteCounts));
            long width = Values(file, byTag.GetValueOrDefault(TagImageWidth)).FirstOrDefault();
            long height = Values(file, byTag.GetValueOrDefault(TagImageLength)).FirstOrDefault();
            int compression = (int)Values(file, byTag.GetValueOrDefault(TagCompression)).FirstOrDefault();
            directories.Add(new Directory(offset, entries, nextPointer, dataOffsets, byteCounts, width, height, compression));
            offset = U32(file, nextPointer);
        }

        return new TiffLayout(directories);
    }

    /// <summary>The values of a SHORT or LONG entry (inline when they fit in four bytes).</summary>
    public static long[] Values(byte[] file, Entry? entry)
    {
        if (entry is null)
        {
            return [];
        }

        int size = entry.Type == 3 ? 2 : 4;
        long at = entry.Count * size <= 4 ? entry.ValueFieldOffset : U32(file, entry.ValueFieldOffset);
        var values = new long[entry.Count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = size == 2 ? U16(file, at + i * 2L) : U32(file, at + i * 4L);
        }

        return values;
    }

    /// <summary>File offset of the i-th value of a LONG array entry (to patch one tile's offset or byte count).</summary>
    public static long ValueOffset(byte[] file, Entry entry, int index) =>
        entry.Count * 4 <= 4 ? entry.ValueFieldOffset : U32(file, entry.ValueFieldOffset) + index * 4L;

    public static void WriteU32(byte[] file, long at, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan((int)at), value);

    public static void WriteU16(byte[] file, long at, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan((int)at), value);

    private static int U16(byte[] b, long at) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)at));

    private static long U32(byte[] b, long at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)at));
}
