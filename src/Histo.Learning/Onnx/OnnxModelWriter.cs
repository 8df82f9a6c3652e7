using System.Runtime.InteropServices;
using Google.Protobuf;
using Histo.Learning.Models;
using static TorchSharp.torch;

namespace Histo.Learning.Onnx;

/// <summary>
/// Writes a <see cref="FusedResNet18"/> (fp32, batch normalisation already folded) as an ONNX model (opset 13) for
/// ONNX Runtime: input <c>input</c> <c>[N, 3, H, W]</c> with symbolic N, H, W; outputs <c>features</c>
/// <c>[N, 512]</c> and, when the network has a head, <c>logits</c> <c>[N, classes]</c>. Conv (with bias), Relu,
/// MaxPool, Add, GlobalAveragePool, Flatten, Gemm. ONNX is plain protobuf; the fields are written with
/// Google.Protobuf's <see cref="CodedOutputStream"/>.
/// </summary>
public static class OnnxModelWriter
{
    /// <summary>Name of the graph input.</summary>
    public const string InputName = "input";

    /// <summary>Name of the pooled-features output.</summary>
    public const string FeaturesName = "features";

    /// <summary>Name of the logits output (only when the network has a head).</summary>
    public const string LogitsName = "logits";

    // onnx.proto field numbers and enum values.
    private const int ModelIrVersion = 1, ModelProducerName = 2, ModelGraph = 7, ModelOpsetImport = 8;
    private const int OpsetVersion = 2;
    private const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;
    private const int AttributeName = 1, AttributeInt = 3, AttributeInts = 8, AttributeType = 20;
    private const int AttributeTypeInt = 2, AttributeTypeInts = 7;
    private const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9;
    private const int ValueInfoName = 1, ValueInfoType = 2, TypeTensor = 1, TensorTypeElemType = 1, TensorTypeShape = 2;
    private const int ShapeDim = 1, DimValue = 1, DimParam = 2;
    private const int ElementFloat = 1;

    /// <summary>Serialises the network; it must be fp32.</summary>
    /// <exception cref="ArgumentException">A bf16 network.</exception>
    public static byte[] Write(FusedResNet18 network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.ElementType != ScalarType.Float32)
        {
            throw new ArgumentException("only an fp32 network can be written as ONNX", nameof(network));
        }

        var graph = new GraphBuilder();
        string x = graph.Conv(InputName, network.Stem, "stem");
        x = graph.Node("Relu", [x], "stem_relu");
        x = graph.Node("MaxPool", [x], "stem_pool", ("kernel_shape", [3, 3]), ("strides", [2, 2]), ("pads", [1, 1, 1, 1]));
        for (int i = 0; i < network.Blocks.Count; i++)
        {
            FusedResNet18.FusedBlock block = network.Blocks[i];
            string name = $"block{i}";
            string main = graph.Node("Relu", [graph.Conv(x, block.Conv1, name + "_conv1")], name + "_relu1");
            main = graph.Conv(main, block.Conv2, name + "_conv2");
            string shortcut = block.Shortcut is null ? x : graph.Conv(x, block.Shortcut, name + "_shortcut");
            x = graph.Node("Relu", [graph.Node("Add", [main, shortcut], name + "_add")], name + "_relu2");
        }

        string pooled = graph.Node("GlobalAveragePool", [x], "pool");
        graph.Node("Flatten", [pooled], "flatten", [FeaturesName], ("axis", [1]));
        graph.Outputs.Add((FeaturesName, ["N", ResNet18Variant.FeatureCount]));
        if (network.HeadWeight is { } weight && network.HeadBias is { } bias)
        {
            graph.Initializer("fc.weight", weight);
            graph.Initializer("fc.bias", bias);
            graph.Node("Gemm", [FeaturesName, "fc.weight", "fc.bias"], "fc", [LogitsName], ("transB", [1]));
            graph.Outputs.Add((LogitsName, ["N", network.ClassCount]));
        }

        return graph.Model();
    }

    private sealed class GraphBuilder
    {
        private readonly List<byte[]> _nodes = [];
        private readonly List<byte[]> _initializers = [];

        public List<(string Name, object[] Dims)> Outputs { get; } = [];

        public string Conv(string input, FusedResNet18.FusedConv conv, string name)
        {
            long kernel = conv.Weight.shape[2];
            Initializer(name + ".weight", conv.Weight);
            Initializer(name + ".bias", conv.Bias);
            return Node("Conv", [input, name + ".weight", name + ".bias"], name,
                ("kernel_shape", [kernel, kernel]), ("strides", [conv.Stride, conv.Stride]),
                ("pads", [conv.Padding, conv.Padding, conv.Padding, conv.Padding]));
        }

        public string Node(string opType, string[] inputs, string name, params (string Name, long[] Values)[] attributes) =>
            Node(opType, inputs, name, [name + "_out"], attributes);

        public string Node(string opType, string[] inputs, string name, string[] outputs, params (string Name, long[] Values)[] attributes)
        {
            _nodes.Add(Message(w =>
            {
                foreach (string input in inputs)
                {
                    w.String(NodeInput, input);
                }

                foreach (string output in outputs)
                {
                    w.String(NodeOutput, output);
                }

                w.String(NodeName, name);
                w.String(NodeOpType, opType);
                foreach ((string attributeName, long[] values) in attributes)
                {
                    // A single-valued attribute that ONNX declares as INT (axis, transB) vs INTS lists.
                    bool scalar = attributeName is "axis" or "transB";
                    w.Bytes(NodeAttribute, Message(a =>
                    {
                        a.String(AttributeName, attributeName);
                        if (scalar)
                        {
                            a.Int(AttributeInt, values[0]);
                        }
                        else
                        {
                            foreach (long v in values)
                            {
                                a.Int(AttributeInts, v);
                            }
                        }

                        a.Int(AttributeType, scalar ? AttributeTypeInt : AttributeTypeInts);
                    }));
                }
            }));
            return outputs[0];
        }

        public void Initializer(string name, Tensor value)
        {
            // Logical NCHW order, whatever the tensor's strides (channels-last weights are permuted views).
            float[] data = value.contiguous().data<float>().ToArray();
            long[] shape = value.shape;
            _initializers.Add(Message(w =>
            {
                foreach (long d in shape)
                {
                    w.Int(TensorDims, d);
                }

                w.Int(TensorDataType, ElementFloat);
                w.String(TensorName, name);
                w.Bytes(TensorRawData, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
            }));
        }

        public byte[] Model()
        {
            byte[] graph = Message(g =>
            {
                foreach (byte[] node in _nodes)
                {
                    g.Bytes(GraphNode, node);
                }

                g.String(GraphName, "histo_resnet18_fused");
                foreach (byte[] initializer in _initializers)
                {
                    g.Bytes(GraphInitializer, initializer);
                }

                g.Bytes(GraphInput, ValueInfo(InputName, ["N", 3, "H", "W"]));
                foreach ((string name, object[] dims) in Outputs)
                {
                    g.Bytes(GraphOutput, ValueInfo(name, dims));
                }
            });
            return Message(m =>
            {
                m.Int(ModelIrVersion, 7);
                m.String(ModelProducerName, "Histo");
                m.Bytes(ModelGraph, graph);
                m.Bytes(ModelOpsetImport, Message(o => o.Int(OpsetVersion, 13)));
            });
        }

        private static byte[] ValueInfo(string name, object[] dims) => Message(v =>
        {
            v.String(ValueInfoName, name);
            v.Bytes(ValueInfoType, Message(t => t.Bytes(TypeTensor, Message(tt =>
            {
                tt.Int(TensorTypeElemType, ElementFloat);
                tt.Bytes(TensorTypeShape, Message(s =>
                {
                    foreach (object dim in dims)
                    {
                        s.Bytes(ShapeDim, Message(d =>
                        {
                            if (dim is string symbol)
                            {
                                d.String(DimParam, symbol);
                            }
                            else
                            {
                                d.Int(DimValue, Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture));
                            }
                        }));
                    }
                }));
            }))));
        });

        private static byte[] Message(Action<ProtoWriter> write)
        {
            using var stream = new MemoryStream();
            using (var output = new CodedOutputStream(stream, leaveOpen: true))
            {
                write(new ProtoWriter(output));
            }

            return stream.ToArray();
        }
    }

    private readonly struct ProtoWriter(CodedOutputStream output)
    {
        public void Int(int field, long value)
        {
            output.WriteTag(field, WireFormat.WireType.Varint);
            output.WriteInt64(value);
        }

        public void String(int field, string value)
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteString(value);
        }

        public void Bytes(int field, byte[] value)
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(value));
        }
    }
}
