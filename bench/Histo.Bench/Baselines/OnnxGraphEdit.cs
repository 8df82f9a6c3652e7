using System.Text;
using Google.Protobuf;

namespace Histo.Bench.Baselines;

/// <summary>
/// The two edits the ImageNet ResNet18 ONNX file (a CNTK 2.6 export with a fixed [1,3,224,224] input) needs before
/// ONNX Runtime can run it on batches and other input sizes, done on the protobuf wire format (ONNX is plain
/// protobuf; Google.Protobuf's <see cref="CodedInputStream"/> walks it, untouched fields are copied byte for byte):
/// the graph input's batch, height and width and the graph output's batch become symbolic dimensions; the final
/// fixed 7 x 7 AveragePool becomes a GlobalAveragePool (identical at 224 px, and the 512-d pooled features Histo's
/// ResNet18 uses at any size); the stored intermediate value_info shapes (all for batch 1) are dropped for ONNX
/// Runtime to infer again.
/// </summary>
public static class OnnxGraphEdit
{
    // ONNX field numbers (onnx.proto3).
    private const int ModelGraph = 7;
    private const int GraphNode = 1, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12, GraphValueInfo = 13;
    private const int TensorName = 8;
    private const int NodeOpType = 4, NodeAttribute = 5;
    private const int ValueInfoName = 1, ValueInfoType = 2;
    private const int TypeTensor = 1, TensorTypeShape = 2, ShapeDim = 1, DimParam = 2;

    /// <summary>Returns the edited model (the input is not modified).</summary>
    public static byte[] MakeBatchAndSizeDynamic(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        bool sawGraph = false;
        byte[] result = Rewrite(model, (field, payload) =>
        {
            if (field != ModelGraph)
            {
                return payload;
            }

            sawGraph = true;
            return EditGraph(payload);
        });
        return sawGraph ? result : throw new InvalidDataException("not an ONNX model: no graph");
    }

    private static byte[] EditGraph(byte[] graph)
    {
        var initializers = new HashSet<string>(StringComparer.Ordinal);
        Rewrite(graph, (field, payload) =>
        {
            if (field == GraphInitializer)
            {
                Rewrite(payload, (f, p) =>
                {
                    if (f == TensorName)
                    {
                        initializers.Add(Encoding.UTF8.GetString(p));
                    }

                    return p;
                });
            }

            return payload;
        });

        int inputs = 0;
        byte[] edited = Rewrite(graph, (field, payload) => field switch
        {
            GraphInput when !initializers.Contains(ValueInfoNameOf(payload)) => EditValueInfo(payload, ["N", null, "H", "W"], ref inputs),
            GraphOutput => EditValueInfo(payload, ["N"], ref inputs),
            GraphValueInfo => null,
            GraphNode => EditNode(payload),
            _ => payload,
        });
        return inputs >= 2 ? edited : throw new InvalidDataException("the ONNX graph has no non-initializer input or no output");
    }

    private static string ValueInfoNameOf(byte[] valueInfo)
    {
        string name = string.Empty;
        Rewrite(valueInfo, (f, p) =>
        {
            if (f == ValueInfoName)
            {
                name = Encoding.UTF8.GetString(p);
            }

            return p;
        });
        return name;
    }

    /// <summary>Replaces the leading dimensions of a tensor value's shape: a name makes it symbolic, null keeps it.</summary>
    private static byte[] EditValueInfo(byte[] valueInfo, string?[] dims, ref int edits)
    {
        edits++;
        return Rewrite(valueInfo, (f, p) => f != ValueInfoType ? p : Rewrite(p, (f2, p2) => f2 != TypeTensor ? p2 : Rewrite(p2, (f3, p3) =>
        {
            if (f3 != TensorTypeShape)
            {
                return p3;
            }

            int index = 0;
            return Rewrite(p3, (f4, dim) =>
            {
                if (f4 != ShapeDim)
                {
                    return dim;
                }

                string? param = index < dims.Length ? dims[index] : null;
                index++;
                return param == null ? dim : LengthDelimited(DimParam, Encoding.UTF8.GetBytes(param));
            });
        })));
    }

    private static byte[] EditNode(byte[] node)
    {
        bool averagePool = false;
        Rewrite(node, (f, p) =>
        {
            averagePool |= f == NodeOpType && Encoding.UTF8.GetString(p) == "AveragePool";
            return p;
        });
        if (!averagePool)
        {
            return node;
        }

        return Rewrite(node, (f, p) => f switch
        {
            NodeOpType => Encoding.UTF8.GetBytes("GlobalAveragePool"),
            NodeAttribute => null,
            _ => p,
        });
    }

    /// <summary>
    /// Copies a message field by field. For every length-delimited field <paramref name="edit"/> gets the field
    /// number and payload and returns the payload to write (the same array to keep it, a new one to replace it,
    /// null to drop the field); other fields are copied unchanged.
    /// </summary>
    private static byte[] Rewrite(byte[] message, Func<int, byte[], byte[]?> edit)
    {
        using var output = new MemoryStream(message.Length);
        var input = new CodedInputStream(message);
        while (true)
        {
            int start = (int)input.Position;
            uint tag = input.ReadTag();
            if (tag == 0)
            {
                break;
            }

            if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                byte[] payload = input.ReadBytes().ToByteArray();
                byte[]? replaced = edit(WireFormat.GetTagFieldNumber(tag), payload);
                if (ReferenceEquals(replaced, payload))
                {
                    output.Write(message, start, (int)input.Position - start);
                }
                else if (replaced != null)
                {
                    output.Write(LengthDelimited(WireFormat.GetTagFieldNumber(tag), replaced));
                }
            }
            else
            {
                input.SkipLastField();
                output.Write(message, start, (int)input.Position - start);
            }
        }

        return output.ToArray();
    }

    private static byte[] LengthDelimited(int field, byte[] payload)
    {
        using var stream = new MemoryStream(payload.Length + 10);
        var coded = new CodedOutputStream(stream);
        coded.WriteTag(field, WireFormat.WireType.LengthDelimited);
        coded.WriteBytes(ByteString.CopyFrom(payload));
        coded.Flush();
        return stream.ToArray();
    }
}
