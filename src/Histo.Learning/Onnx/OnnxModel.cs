using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Histo.Learning.Onnx;

#pragma warning disable CA1720 // Member names mirror the ONNX specification's type names.

/// <summary>Element types of ONNX tensors (the values of <c>TensorProto.DataType</c>).</summary>
public enum OnnxDataType
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    /// <summary>32-bit IEEE float.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>Byte string.</summary>
    String = 8,
    /// <summary>Boolean.</summary>
    Bool = 9,
    /// <summary>16-bit IEEE float.</summary>
    Float16 = 10,
    /// <summary>64-bit IEEE float.</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
    /// <summary>Brain float 16.</summary>
    BFloat16 = 16,
}

/// <summary>Types of ONNX node attributes (the values of <c>AttributeProto.AttributeType</c>).</summary>
public enum OnnxAttributeType
{
    /// <summary>Not set (files written before the field existed).</summary>
    Undefined = 0,
    /// <summary>One float, in <see cref="OnnxAttribute.FloatValue"/>.</summary>
    Float = 1,
    /// <summary>One integer, in <see cref="OnnxAttribute.IntValue"/>.</summary>
    Int = 2,
    /// <summary>One string, in <see cref="OnnxAttribute.StringValue"/>.</summary>
    String = 3,
    /// <summary>One tensor, in <see cref="OnnxAttribute.TensorValue"/>.</summary>
    Tensor = 4,
    /// <summary>A sub-graph (not read by this reader).</summary>
    Graph = 5,
    /// <summary>Floats, in <see cref="OnnxAttribute.FloatValues"/>.</summary>
    Floats = 6,
    /// <summary>Integers, in <see cref="OnnxAttribute.IntValues"/>.</summary>
    Ints = 7,
    /// <summary>Strings (not read by this reader).</summary>
    Strings = 8,
    /// <summary>Tensors (not read by this reader).</summary>
    Tensors = 9,
    /// <summary>Sub-graphs (not read by this reader).</summary>
    Graphs = 10,
}

#pragma warning restore CA1720

/// <summary>An ONNX model: header fields and its main graph.</summary>
/// <param name="IrVersion">ONNX IR version of the file.</param>
/// <param name="ProducerName">Tool that wrote the file, e.g. <c>CNTK</c>.</param>
/// <param name="ProducerVersion">Version of that tool.</param>
/// <param name="OpsetImports">Operator sets used, as (domain, version); the default domain is the empty string.</param>
/// <param name="Graph">The model's graph.</param>
public sealed record OnnxModel(
    long IrVersion,
    string ProducerName,
    string ProducerVersion,
    IReadOnlyList<KeyValuePair<string, long>> OpsetImports,
    OnnxGraph Graph);

/// <summary>An ONNX graph: nodes in topological order, initializers (weights), inputs and outputs.</summary>
public sealed class OnnxGraph
{
    private readonly Dictionary<string, OnnxTensor> _initializersByName;

    internal OnnxGraph(
        string name,
        IReadOnlyList<OnnxNode> nodes,
        IReadOnlyList<OnnxTensor> initializers,
        IReadOnlyList<OnnxValueInfo> inputs,
        IReadOnlyList<OnnxValueInfo> outputs)
    {
        Name = name;
        Nodes = nodes;
        Initializers = initializers;
        Inputs = inputs;
        Outputs = outputs;
        _initializersByName = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        foreach (OnnxTensor tensor in initializers)
        {
            // Later duplicates win, as in ONNX Runtime; a well-formed file has none.
            _initializersByName[tensor.Name] = tensor;
        }
    }

    /// <summary>Graph name.</summary>
    public string Name { get; }

    /// <summary>Nodes in file order (ONNX requires topological order).</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>Constant tensors (weights, biases, statistics) in file order.</summary>
    public IReadOnlyList<OnnxTensor> Initializers { get; }

    /// <summary>Declared graph inputs; in older IR versions these include the initializers.</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    /// <summary>Declared graph outputs.</summary>
    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>Looks up an initializer by its value name.</summary>
    /// <param name="name">Value name as used in node inputs.</param>
    /// <param name="tensor">The initializer, when found.</param>
    /// <returns>Whether an initializer of that name exists.</returns>
    public bool TryGetInitializer(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OnnxTensor? tensor) =>
        _initializersByName.TryGetValue(name, out tensor);
}

/// <summary>One operator application in a graph.</summary>
/// <param name="Name">Node name (may be empty).</param>
/// <param name="OpType">Operator, e.g. <c>Conv</c>.</param>
/// <param name="Domain">Operator set domain; empty for the default ONNX domain.</param>
/// <param name="Inputs">Input value names; an empty string marks an omitted optional input.</param>
/// <param name="Outputs">Output value names.</param>
/// <param name="Attributes">Attributes in file order.</param>
public sealed record OnnxNode(
    string Name,
    string OpType,
    string Domain,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<OnnxAttribute> Attributes)
{
    /// <summary>Finds an attribute by name.</summary>
    /// <param name="name">Attribute name, e.g. <c>strides</c>.</param>
    /// <returns>The attribute, or <see langword="null"/> if the node has none of that name.</returns>
    public OnnxAttribute? FindAttribute(string name)
    {
        foreach (OnnxAttribute attribute in Attributes)
        {
            if (attribute.Name == name)
            {
                return attribute;
            }
        }

        return null;
    }
}

/// <summary>A node attribute. Only the member matching <see cref="Type"/> is meaningful.</summary>
/// <param name="Name">Attribute name.</param>
/// <param name="Type">Declared type.</param>
/// <param name="FloatValue">Value of a float attribute.</param>
/// <param name="IntValue">Value of an integer attribute.</param>
/// <param name="StringValue">Value of a string attribute, decoded as UTF-8.</param>
/// <param name="FloatValues">Values of a floats attribute.</param>
/// <param name="IntValues">Values of an integers attribute.</param>
/// <param name="TensorValue">Value of a tensor attribute.</param>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Naming",
    "CA1711:Identifiers should not have incorrect suffix",
    Justification = "ONNX calls these attributes; this is not a .NET attribute.")]
public sealed record OnnxAttribute(
    string Name,
    OnnxAttributeType Type,
    float FloatValue,
    long IntValue,
    string? StringValue,
    IReadOnlyList<float> FloatValues,
    IReadOnlyList<long> IntValues,
    OnnxTensor? TensorValue);

/// <summary>A declared graph input or output.</summary>
/// <param name="Name">Value name.</param>
/// <param name="ElementType">Tensor element type, or <see cref="OnnxDataType.Undefined"/> if not a tensor.</param>
/// <param name="Shape">Dimensions; <see langword="null"/> entries are symbolic (dynamic) dimensions.</param>
public sealed record OnnxValueInfo(string Name, OnnxDataType ElementType, IReadOnlyList<long?> Shape);

/// <summary>A constant tensor stored in the model file.</summary>
public sealed class OnnxTensor
{
    private readonly float[]? _floatData;
    private readonly ReadOnlyMemory<byte> _rawData;
    private readonly bool _hasRawData;

    internal OnnxTensor(string name, OnnxDataType dataType, long[] dims, float[]? floatData, ReadOnlyMemory<byte>? rawData)
    {
        Name = name;
        DataType = dataType;
        Dims = dims;
        _floatData = floatData;
        _hasRawData = rawData.HasValue;
        _rawData = rawData ?? ReadOnlyMemory<byte>.Empty;
        ElementCount = CountElements(name, dims);
    }

    /// <summary>Value name, as used in node inputs.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public OnnxDataType DataType { get; }

    /// <summary>Dimensions, outermost first; empty for a scalar.</summary>
    public IReadOnlyList<long> Dims { get; }

    /// <summary>Number of elements (product of <see cref="Dims"/>).</summary>
    public long ElementCount { get; }

    /// <summary>Copies the values of a float tensor, in row-major order.</summary>
    /// <returns>A new array of <see cref="ElementCount"/> values.</returns>
    /// <exception cref="HistoModelException">The tensor is not float, or its data length does not match its shape.</exception>
    public float[] ToFloatArray()
    {
        if (DataType != OnnxDataType.Float)
        {
            throw new HistoModelException($"ONNX tensor '{Name}' holds {DataType} values, not Float.");
        }

        if (_hasRawData)
        {
            if (_rawData.Length != ElementCount * sizeof(float))
            {
                throw new HistoModelException(
                    $"ONNX tensor '{Name}' has {_rawData.Length} bytes of raw data; its shape [{string.Join(", ", Dims)}] needs {ElementCount * sizeof(float)}.");
            }

            var values = new float[ElementCount];
            ReadOnlySpan<byte> raw = _rawData.Span;
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
            }
            else
            {
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(i * sizeof(float)));
                }
            }

            return values;
        }

        float[] floats = _floatData ?? [];
        if (floats.Length != ElementCount)
        {
            throw new HistoModelException(
                $"ONNX tensor '{Name}' has {floats.Length} float values; its shape [{string.Join(", ", Dims)}] needs {ElementCount}.");
        }

        return (float[])floats.Clone();
    }

    private static long CountElements(string name, long[] dims)
    {
        long count = 1;
        foreach (long dim in dims)
        {
            if (dim < 0 || dim > int.MaxValue)
            {
                throw new HistoModelException($"ONNX tensor '{name}' has an invalid dimension ({dim}).");
            }

            // Any real tensor is bounded by the file size (< 2 GiB), so larger counts mean a corrupt header.
            // Both factors are at most int.MaxValue here, so the product cannot overflow a long.
            count *= dim;
            if (count > int.MaxValue)
            {
                throw new HistoModelException($"ONNX tensor '{name}' declares more than {int.MaxValue} elements.");
            }
        }

        return count;
    }
}
