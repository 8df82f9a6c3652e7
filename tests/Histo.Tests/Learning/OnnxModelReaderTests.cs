using Histo.Learning;
using Histo.Learning.Models;
using Histo.Learning.Onnx;
using Xunit.Abstractions;

namespace Histo.Tests.Learning;

public sealed class OnnxModelReaderTests(ITestOutputHelper output)
{
    private static readonly Lazy<byte[]> ModelBytes = new(() => File.ReadAllBytes(ResNet18OnnxImporter.DefaultModelPath));

    [Fact]
    public void ReadsTheCntkResNet18Graph()
    {
        OnnxModel model = OnnxModelReader.Read(ResNet18OnnxImporter.DefaultModelPath);

        Assert.Equal("CNTK", model.ProducerName);
        Assert.Equal(74, model.Graph.Nodes.Count);
        Assert.Equal(110, model.Graph.Initializers.Count);
        Assert.Equal(22, model.Graph.Nodes.Count(n => n.OpType == "Conv"));
        OnnxValueInfo input = Assert.Single(model.Graph.Inputs, i => !model.Graph.TryGetInitializer(i.Name, out _));
        Assert.Equal([1L, 3L, 224L, 224L], input.Shape);
        OnnxNode stem = model.Graph.Nodes[0];
        Assert.Equal([7L, 7L], stem.FindAttribute("kernel_shape")!.IntValues);
        Assert.True(model.Graph.TryGetInitializer(stem.Inputs[1], out OnnxTensor? weights));
        Assert.Equal([64L, 3L, 7L, 7L], weights.Dims);
        Assert.Equal(64 * 3 * 7 * 7, weights.ToFloatArray().Length);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(1000)]
    [InlineData(30_000_000)]
    [InlineData(-1)]
    public void TruncatedFileIsRejectedWithTheTypedException(int keptBytes)
    {
        byte[] full = ModelBytes.Value;
        int length = keptBytes > 0 ? keptBytes : full.Length + keptBytes;
        string path = Path.Combine(Path.GetTempPath(), $"histo-truncated-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, full.AsSpan(0, length).ToArray());
        try
        {
            var error = Assert.Throws<HistoModelException>(() => OnnxModelReader.Read(path));
            output.WriteLine(error.Message);
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void DeclaredLengthBeyondTheDataIsRejectedWithoutAllocatingIt()
    {
        // Field 7 (graph), length-delimited, declaring 2 GiB - 1 with five bytes present.
        byte[] bytes = [0x3a, 0xff, 0xff, 0xff, 0xff, 0x07, 1, 2, 3, 4, 5];

        var error = Assert.Throws<HistoModelException>(() => OnnxModelReader.Read(bytes, "crafted"));

        Assert.Contains("crafted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TensorWithAbsurdDimensionsIsRejected()
    {
        // Graph { initializer { dims: 2^40, dims: 2^40, data_type: FLOAT } }
        byte[] tensor = [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x10, 0x01];
        byte[] graph = [0x2a, (byte)tensor.Length, .. tensor];
        byte[] model = [0x3a, (byte)graph.Length, .. graph];

        Assert.Throws<HistoModelException>(() => OnnxModelReader.Read(model, "crafted"));
    }

    [Fact]
    public void RandomBytesAreRejected()
    {
        var random = new Random(20240601);
        for (int i = 0; i < 200; i++)
        {
            byte[] bytes = new byte[random.Next(1, 4096)];
            random.NextBytes(bytes);

            Assert.Throws<HistoModelException>(() => OnnxModelReader.Read(bytes, "random"));
        }
    }

    [Fact]
    public void MissingFileIsRejectedWithTheTypedException()
    {
        var error = Assert.Throws<HistoModelException>(() => OnnxModelReader.Read("/nonexistent/model.onnx"));

        Assert.Contains("/nonexistent/model.onnx", error.Message, StringComparison.Ordinal);
    }
}
