using Histo.Learning;
using Histo.Learning.Models;
using Histo.Learning.Onnx;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Tests.Learning;

public sealed class ResNet18OnnxImporterTests(ResNet18Fixture fixture, ITestOutputHelper output) : IClassFixture<ResNet18Fixture>
{
    private const int Size = ResNet18Variant.InputSize;
    private const float Tolerance = 1e-4f;

    private static readonly string[] Images =
    [
        "tissue-tiles/tiatoolbox/target_image.png",
        "microscopy/bach/Benign/benign.png",
        "microscopy/bach/Invasive/invasive.png",
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PooledFeaturesMatchOnnxRuntimeOnRealImages(bool channelsLast)
    {
        // One batch through TorchSharp; ONNX Runtime one image at a time (the file fixes the batch at 1).
        int imageValues = 3 * Size * Size;
        var batch = new float[Images.Length * imageValues];
        for (int i = 0; i < Images.Length; i++)
        {
            (byte[] pixels, int rowStride) = LearningTestData.LoadRgba(LearningTestData.PathOf(Images[i]), Size);
            ResNet18Variant.WriteInput(pixels, Size, Size, rowStride, bytesPerPixel: 4, batch.AsSpan(i * imageValues, imageValues));
        }

        float[] torchFeatures;
        fixture.Network.ChannelsLast = channelsLast;
        using (DisposeScope scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            Tensor features = fixture.Network.Features(torch.tensor(batch, [Images.Length, 3, Size, Size]));
            Assert.Equal([Images.Length, ResNet18Variant.FeatureCount], features.shape);
            torchFeatures = features.data<float>().ToArray();
        }

        for (int i = 0; i < Images.Length; i++)
        {
            float[] expected = RunOnnxRuntime(batch.AsMemory(i * imageValues, imageValues));
            float[] actual = torchFeatures.AsSpan(i * ResNet18Variant.FeatureCount, ResNet18Variant.FeatureCount).ToArray();
            float maxDifference = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            output.WriteLine($"{Images[i]}: max |difference| {maxDifference:G3}, max feature {expected.Max():G4}");
            Assert.True(maxDifference < Tolerance, $"{Images[i]}: max |TorchSharp - ONNX Runtime| = {maxDifference}");
            Assert.True(expected.Max() > 0.1f, $"{Images[i]}: features are all near zero.");
        }
    }

    [Fact]
    public void LoadedNetworkIsInEvaluationModeWithoutHead()
    {
        Assert.False(fixture.Network.training);
        Assert.Equal(0, fixture.Network.ClassCount);
    }

    [Fact]
    public void HeadProducesOneLogitPerClassAndTrains()
    {
        using ResNet18Variant network = ResNet18OnnxImporter.Load(classCount: 4);
        network.train();
        using var optimizer = torch.optim.SGD(network.parameters(), 0.01);
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor input = torch.randn(2, 3, 64, 64) * 50;
        Tensor labels = torch.tensor(new long[] { 1, 3 });

        Tensor logits = network.call(input);
        Tensor loss = torch.nn.functional.cross_entropy(logits, labels);
        loss.backward();
        optimizer.step();

        Assert.Equal([2L, 4L], logits.shape);
        Assert.True(float.IsFinite(loss.item<float>()));
    }

    [Fact]
    public void PreprocessingMeansAreTheChannelMeansOfThePackagedMeanImage()
    {
        OnnxModel preprocess = OnnxModelReader.Read(Path.Combine(AppContext.BaseDirectory, "models", "ResNetPreprocess.onnx"));
        OnnxTensor meanImage = Assert.Single(preprocess.Graph.Initializers);
        float[] values = meanImage.ToFloatArray();
        int plane = values.Length / 3;

        // The graph reorders RGB input to BGR before subtracting, so plane 0 is blue.
        double[] means = [.. Enumerable.Range(0, 3).Select(c => values.AsSpan(c * plane, plane).ToArray().Average(v => (double)v))];

        Assert.Equal(["Split", "Concat", "Sub"], preprocess.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal(ResNet18Variant.MeanBlue, means[0], 0.01);
        Assert.Equal(ResNet18Variant.MeanGreen, means[1], 0.01);
        Assert.Equal(ResNet18Variant.MeanRed, means[2], 0.01);
    }

    [Fact]
    public void ImporterRejectsAGraphOfAnotherStructure()
    {
        OnnxModel preprocess = OnnxModelReader.Read(Path.Combine(AppContext.BaseDirectory, "models", "ResNetPreprocess.onnx"));
        using var network = new ResNet18Variant();

        var error = Assert.Throws<HistoModelException>(() => ResNet18OnnxImporter.Import(preprocess, network, "ResNetPreprocess.onnx"));

        Assert.Contains("is not the ResNet18", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteInputConvertsRgbToMeanSubtractedBgrPlanes()
    {
        byte[] pixels = [10, 20, 30, 200, 40, 50, 60, 200];
        var planes = new float[6];

        ResNet18Variant.WriteInput(pixels, width: 2, height: 1, rowStride: 8, bytesPerPixel: 4, planes);

        Assert.Equal(
            [30 - ResNet18Variant.MeanBlue, 60 - ResNet18Variant.MeanBlue,
             20 - ResNet18Variant.MeanGreen, 50 - ResNet18Variant.MeanGreen,
             10 - ResNet18Variant.MeanRed, 40 - ResNet18Variant.MeanRed],
            planes);
    }

    private float[] RunOnnxRuntime(ReadOnlyMemory<float> image)
    {
        string inputName = fixture.Session.InputNames[0];
        string outputName = fixture.Session.OutputNames[0];
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(image.ToArray(), [1, 3, Size, Size]);
        using var options = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = fixture.Session.Run(options, [inputName], [input], [outputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
