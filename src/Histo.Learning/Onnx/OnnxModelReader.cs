using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;

namespace Histo.Learning.Onnx;

/// <summary>
/// Reads the parts of an ONNX model file (plain protobuf) that weight import needs: header, graph nodes,
/// attributes, initializers, inputs and outputs. Unknown fields are skipped; sub-graphs are not read.
/// </summary>
/// <remarks>
/// Every length in the file is checked against the bytes that remain in its enclosing message before anything is
/// allocated, so a truncated or corrupt file fails fast with <see cref="HistoModelException"/> instead of hanging or
/// allocating what its header claims. Initializer data is not copied: tensors reference the file's bytes.
/// </remarks>
public static class OnnxModelReader
{
    /// <summary>Protobuf's own limit on a message, and so the largest ONNX file without external data.</summary>
    private const long MaxFileBytes = int.MaxValue;

    /// <summary>Reads an ONNX model file.</summary>
    /// <param name="path">Path of the <c>.onnx</c> file.</param>
    /// <returns>The model.</returns>
    /// <exception cref="HistoModelException">The file is missing, unreadable, truncated or not an ONNX model.</exception>
    public static OnnxModel Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new HistoModelException($"ONNX model file '{path}' does not exist.");
            }

            if (info.Length > MaxFileBytes)
            {
                throw new HistoModelException(
                    $"ONNX model file '{path}' is {info.Length} bytes; files over 2 GiB (external data) are not supported.");
            }

            bytes = Histo.IO.InputFile.ReadAllBytes(path, MaxFileBytes, "an ONNX model file");
        }
        catch (Histo.IO.InputFileException e)
        {
            throw new HistoModelException(e.Message, e);
        }
        catch (IOException e)
        {
            throw new HistoModelException($"ONNX model file '{path}' could not be read: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new HistoModelException($"ONNX model file '{path}' could not be read: {e.Message}", e);
        }

        return Read(bytes, path);
    }

    /// <summary>Reads an ONNX model held in memory. The returned tensors reference <paramref name="bytes"/>.</summary>
    /// <param name="bytes">The whole file; must not be modified while the model is in use.</param>
    /// <param name="sourceName">Name used in error messages, e.g. the file path.</param>
    /// <returns>The model.</returns>
    /// <exception cref="HistoModelException">The bytes are truncated or not an ONNX model.</exception>
    public static OnnxModel Read(byte[] bytes, string sourceName = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(sourceName);
        try
        {
            return ReadModel(new ProtoReader(bytes, 0, bytes.Length));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Malformed(sourceName, e.Message, e);
        }
        catch (HistoModelException e)
        {
            // The parsing code below reports only what is wrong; name the file here.
            throw Malformed(sourceName, e.Message, e);
        }
    }

    private static HistoModelException Malformed(string sourceName, string detail, Exception inner) =>
        new($"ONNX model '{sourceName}' is truncated or malformed: {detail}", inner);

    private static OnnxModel ReadModel(ProtoReader reader)
    {
        long irVersion = 0;
        string producerName = string.Empty;
        string producerVersion = string.Empty;
        var opsets = new List<KeyValuePair<string, long>>();
        OnnxGraph? graph = null;
        while (reader.TryReadField(out int field, out WireFormat.WireType wireType))
        {
            switch (field)
            {
                case 1:
                    irVersion = reader.ReadInt64(wireType);
                    break;
                case 2:
                    producerName = reader.ReadString(wireType);
                    break;
                case 3:
                    producerVersion = reader.ReadString(wireType);
                    break;
                case 7:
                    graph = ReadGraph(reader.ReadMessage(wireType));
                    break;
                case 8:
                    opsets.Add(ReadOpset(reader.ReadMessage(wireType)));
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (graph is null)
        {
            throw new HistoModelException("it has no graph (is it an ONNX model file?).");
        }

        return new OnnxModel(irVersion, producerName, producerVersion, opsets, graph);
    }

    private static KeyValuePair<string, long> ReadOpset(ProtoReader reader)
    {
        string domain = string.Empty;
        long version = 0;
        while (reader.TryReadField(out int field, out WireFormat.WireType wireType))
        {
            switch (field)
            {
                case 1:
                    domain = reader.ReadString(wireType);
                    break;
                case 2:
                    version = reader.ReadInt64(wireType);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new KeyValuePair<string, long>(domain, version);
    }

    private static OnnxGraph ReadGraph(ProtoReader reader)
    {
        string name = string.Empty;
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        while (reader.TryReadField(out int field, out WireFormat.WireType wireType))
        {
            switch (field)
            {
                case 1:
                    nodes.Add(ReadNode(reader.ReadMessage(wireType)));
                    break;
                case 2:
                    name = reader.ReadString(wireType);
                    break;
                case 5:
                    initializers.Add(ReadTensor(reader.ReadMessage(wireType)));
                    break;
                case 11:
                    inputs.Add(ReadValueInfo(reader.ReadMessage(wireType)));
                    break;
                case 12:
                    outputs.Add(ReadValueInfo(reader.ReadMessage(wireType)));
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new OnnxGraph(name, nodes, initializers, inputs, outputs);
    }

    private static OnnxNode ReadNode(ProtoReader reader)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new List<OnnxAttribute>();
        string name = string.Empty;
        string opType = string.Empty;
        string domain = string.Empty;
        while (reader.TryReadField(out int field, out WireFormat.WireType wireType))
        {
            switch (field)
            {
                case 1:
                    inputs.Add(reader.ReadString(wireType));
                    break;
                case 2:
                    outputs.Add(reader.ReadString(wireType));
                    break;
                case 3:
                    name = reader.ReadString(wireType);
                    break;
                case 4:
                    opType = reader.ReadString(wireType);
                    break;
                case 5:
                    attributes.Add(ReadAttribute(reader.ReadMessage(wireType)));
                    break;
                case 7:
                    domain = reader.ReadString(wireType);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (opType.Length == 0)
        {
            throw new HistoModelException($"node '{name}' has no operator type.");
        }

        return new OnnxNode(name, opType, domain, inputs, outputs, attributes);
    }

    private static OnnxAttribute ReadAttribute(ProtoReader reader)
    {
        string name = string.Empty;
        var type = OnnxAttributeType.Undefined;
        float f = 0;
        long i = 0;
        string? s = null;
        var floats = new List<float>();
        var ints = new List<long>();
        OnnxTensor? tensor = null;
        while (reader.TryReadField(out int field, out WireFormat.WireType wireType))
        {
            switch (field)
            {
                case 1:
                    name = reader.ReadString(wireType);
                    break;
                case 2:
                    f = reader.ReadFloat(wireType);
                    break;
                case 3:
                    i = reader.ReadInt64(wireType);
                    break;
                case 4:
                    s = reader.ReadString(wireType);
                    break;
                case 5:
                    tensor = ReadTensor(reader.ReadMessage(wireType));
                    break;
                case 7:
                    reader.ReadFloats(wireType, floats);
                    break;
                case 8:
                    reader.ReadInt64s(wireType, ints);
                    break;
                case 20:
                    type = (OnnxAttributeType)reader.ReadInt64(wireType);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new OnnxAttribute(name, type, f, i, s, floats, ints, tensor);
    }

    private static OnnxTensor ReadTensor(ProtoReader reader)
    {
        var dims = new List<long>();
        var dataType = OnnxDataType.Undefined;
        List<float>? floatData = null;
        ReadOnlyMemory<byte>? rawData = null;
        string name = string.Empty;
        bool external = false;
        while (reader.TryReadField(out int field, out WireFormat.WireType wireType))
        {
            switch (field)
            {
                case 1:
                    reader.ReadInt64s(wireType, dims);
                    break;
                case 2:
                    dataType = (OnnxDataType)reader.ReadInt64(wireType);
                    break;
                case 4:
                    floatData ??= [];
                    reader.ReadFloats(wireType, floatData);
                    break;
                case 8:
                    name = reader.ReadString(wireType);
                    break;
                case 9:
                    rawData = reader.ReadBytes(wireType);
                    break;
                case 13:
                    external = true;
                    reader.Skip();
                    break;
                case 14:
                    external |= reader.ReadInt64(wireType) == 1;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (external)
        {
            throw new HistoModelException($"tensor '{name}' keeps its data in an external file, which is not supported.");
        }

        return new OnnxTensor(name, dataType, [.. dims], floatData?.ToArray(), rawData);
    }

    private static OnnxValueInfo ReadValueInfo(ProtoReader reader)
    {
        string name = string.Empty;
        var elementType = OnnxDataType.Undefined;
        var shape = new List<long?>();
        while (reader.TryReadField(out int field, out WireFormat.WireType wireType))
        {
            if (field == 1)
            {
                name = reader.ReadString(wireType);
            }
            else if (field == 2)
            {
                ReadTypeProto(reader.ReadMessage(wireType), ref elementType, shape);
            }
            else
            {
                reader.Skip();
            }
        }

        return new OnnxValueInfo(name, elementType, shape);
    }

    /// <summary>TypeProto → tensor_type (1) → elem_type (1), shape (2) → dim (1) → dim_value (1) | dim_param (2).</summary>
    private static void ReadTypeProto(ProtoReader reader, ref OnnxDataType elementType, List<long?> shape)
    {
        while (reader.TryReadField(out int field, out WireFormat.WireType wireType))
        {
            if (field != 1)
            {
                reader.Skip();
                continue;
            }

            ProtoReader tensorType = reader.ReadMessage(wireType);
            while (tensorType.TryReadField(out int tensorField, out WireFormat.WireType tensorWire))
            {
                if (tensorField == 1)
                {
                    elementType = (OnnxDataType)tensorType.ReadInt64(tensorWire);
                }
                else if (tensorField == 2)
                {
                    ReadShape(tensorType.ReadMessage(tensorWire), shape);
                }
                else
                {
                    tensorType.Skip();
                }
            }
        }
    }

    private static void ReadShape(ProtoReader reader, List<long?> shape)
    {
        while (reader.TryReadField(out int field, out WireFormat.WireType wireType))
        {
            if (field != 1)
            {
                reader.Skip();
                continue;
            }

            ProtoReader dimension = reader.ReadMessage(wireType);
            long? value = null;
            while (dimension.TryReadField(out int dimField, out WireFormat.WireType dimWire))
            {
                if (dimField == 1)
                {
                    value = dimension.ReadInt64(dimWire);
                }
                else
                {
                    dimension.Skip();
                }
            }

            shape.Add(value);
        }
    }

    /// <summary>
    /// Reads one protobuf message that occupies <c>[offset, offset + length)</c> of a byte array. Each nested message
    /// gets its own reader bounded to its own bytes, so no read can run past the message that contains it, and the
    /// parent skips over the nested bytes without copying them.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage(
        "Design",
        "CA1001:Types that own disposable fields should be disposable",
        Justification = "A CodedInputStream over a byte array holds no resources.")]
    private sealed class ProtoReader
    {
        private readonly byte[] _bytes;
        private readonly int _end;
        private CodedInputStream _input;
        private int _field;

        public ProtoReader(byte[] bytes, int offset, int length)
        {
            _bytes = bytes;
            _end = offset + length;
            _input = new CodedInputStream(bytes, offset, length);
        }

        private int Position => checked((int)_input.Position);

        public bool TryReadField(out int field, out WireFormat.WireType wireType)
        {
            if (Position >= _end)
            {
                field = 0;
                wireType = default;
                return false;
            }

            uint tag = _input.ReadTag();
            field = WireFormat.GetTagFieldNumber(tag);
            _field = field;
            wireType = WireFormat.GetTagWireType(tag);
            if (field == 0)
            {
                throw new HistoModelException($"invalid protobuf tag {tag} at byte {Position}.");
            }

            return true;
        }

        public void Skip() => _input.SkipLastField();

        public long ReadInt64(WireFormat.WireType wireType)
        {
            Expect(wireType, WireFormat.WireType.Varint);
            return _input.ReadInt64();
        }

        public float ReadFloat(WireFormat.WireType wireType)
        {
            Expect(wireType, WireFormat.WireType.Fixed32);
            return _input.ReadFloat();
        }

        public string ReadString(WireFormat.WireType wireType) => Encoding.UTF8.GetString(ReadBytes(wireType).Span);

        /// <summary>Returns a slice of the underlying array; nothing is copied.</summary>
        public ReadOnlyMemory<byte> ReadBytes(WireFormat.WireType wireType)
        {
            (int start, int length) = ReadLengthDelimited(wireType);
            return new ReadOnlyMemory<byte>(_bytes, start, length);
        }

        public ProtoReader ReadMessage(WireFormat.WireType wireType)
        {
            (int start, int length) = ReadLengthDelimited(wireType);
            return new ProtoReader(_bytes, start, length);
        }

        /// <summary>Reads a repeated int64 field, packed or not.</summary>
        public void ReadInt64s(WireFormat.WireType wireType, List<long> values)
        {
            if (wireType != WireFormat.WireType.LengthDelimited)
            {
                values.Add(ReadInt64(wireType));
                return;
            }

            ProtoReader packed = ReadMessage(wireType);
            while (packed.Position < packed._end)
            {
                values.Add(packed._input.ReadInt64());
            }
        }

        /// <summary>Reads a repeated float field, packed or not.</summary>
        public void ReadFloats(WireFormat.WireType wireType, List<float> values)
        {
            if (wireType != WireFormat.WireType.LengthDelimited)
            {
                values.Add(ReadFloat(wireType));
                return;
            }

            ReadOnlySpan<byte> packed = ReadBytes(wireType).Span;
            if (packed.Length % sizeof(float) != 0)
            {
                throw new HistoModelException($"packed float field of {packed.Length} bytes is not a multiple of 4.");
            }

            int start = values.Count;
            CollectionsMarshal.SetCount(values, start + (packed.Length / sizeof(float)));
            Span<float> target = CollectionsMarshal.AsSpan(values).Slice(start);
            for (int i = 0; i < target.Length; i++)
            {
                target[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(packed.Slice(i * sizeof(float)));
            }
        }

        private (int Start, int Length) ReadLengthDelimited(WireFormat.WireType wireType)
        {
            Expect(wireType, WireFormat.WireType.LengthDelimited);
            int length = _input.ReadLength();
            int start = Position;
            if (length < 0 || length > _end - start)
            {
                throw new HistoModelException(
                    $"a field at byte {start} declares {length} bytes but only {_end - start} remain in its message.");
            }

            // Resume after the field without reading (or copying) its bytes.
            _input = new CodedInputStream(_bytes, start + length, _end - start - length);
            return (start, length);
        }

        private void Expect(WireFormat.WireType actual, WireFormat.WireType expected)
        {
            if (actual != expected)
            {
                throw new HistoModelException(
                    $"field {_field} at byte {Position} has wire type {actual}, expected {expected}.");
            }
        }
    }
}
