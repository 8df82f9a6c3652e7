using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Histo.IO;

/// <summary>
/// NumPy's <c>.npy</c> format (version 1.0) for a 2-D float32 matrix, so that <c>numpy.load</c> reads Histo's
/// features directly. Layout: the magic <c>\x93NUMPY</c>, version bytes 1 and 0, a little-endian uint16 header
/// length, then an ASCII Python dict <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (N, D), }</c> padded
/// with spaces and ended by a newline so that the data starts at a multiple of 64 bytes, then N x D little-endian
/// float32 values in row-major (C) order.
/// </summary>
public static class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes <paramref name="rows"/> (all of length <paramref name="columns"/>) as a float32 [N, D] array.</summary>
    public static void WriteFloat32(Stream stream, IReadOnlyList<float[]> rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(rows);
        string dict = string.Create(CultureInfo.InvariantCulture, $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows.Count}, {columns}), }}");
        int unpadded = Magic.Length + 2 + 2 + dict.Length + 1;
        int padding = (64 - unpadded % 64) % 64;
        string header = dict + new string(' ', padding) + "\n";
        Span<byte> prefix = stackalloc byte[10];
        Magic.CopyTo(prefix);
        prefix[6] = 1;
        prefix[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(prefix[8..], checked((ushort)header.Length));
        stream.Write(prefix);
        stream.Write(Encoding.ASCII.GetBytes(header));
        var buffer = new byte[columns * sizeof(float)];
        foreach (float[] row in rows)
        {
            if (row.Length != columns)
            {
                throw new ArgumentException($"a row has {row.Length} values, expected {columns}", nameof(rows));
            }

            for (int j = 0; j < columns; j++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(j * sizeof(float)), row[j]);
            }

            stream.Write(buffer);
        }
    }

    /// <summary>Reads a float32 2-D <c>.npy</c> written by <see cref="WriteFloat32"/> (C order, little-endian).</summary>
    /// <exception cref="HistoException">Not a 2-D little-endian float32 C-order npy file.</exception>
    public static float[][] ReadFloat32(string path)
    {
        byte[] bytes = InputFile.ReadAllBytes(path, 2L << 30, "a .npy file");
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic) || bytes[6] != 1)
        {
            throw new HistoException($"{path}: not a version 1 .npy file");
        }

        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        int shapeStart = header.IndexOf("'shape': (", StringComparison.Ordinal);
        if (!header.Contains("'descr': '<f4'", StringComparison.Ordinal) || !header.Contains("'fortran_order': False", StringComparison.Ordinal) || shapeStart < 0)
        {
            throw new HistoException($"{path}: only little-endian float32 C-order arrays are read");
        }

        shapeStart += "'shape': (".Length;
        string[] dims = header[shapeStart..header.IndexOf(')', shapeStart)].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (dims.Length != 2)
        {
            throw new HistoException($"{path}: expected a 2-D array, got shape ({string.Join(", ", dims)})");
        }

        int rows = int.Parse(dims[0], CultureInfo.InvariantCulture);
        int columns = int.Parse(dims[1], CultureInfo.InvariantCulture);
        int offset = 10 + headerLength;
        if (bytes.Length != offset + (long)rows * columns * sizeof(float))
        {
            throw new HistoException($"{path}: {bytes.Length - offset} data bytes for shape ({rows}, {columns})");
        }

        var result = new float[rows][];
        for (int r = 0; r < rows; r++)
        {
            result[r] = new float[columns];
            for (int c = 0; c < columns; c++)
            {
                result[r][c] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(offset + (r * columns + c) * sizeof(float)));
            }
        }

        return result;
    }
}
