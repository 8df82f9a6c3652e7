using System.Globalization;
using Histo.Learning.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Histo.Learning.Models;

/// <summary>
/// Loads the pretrained weights of ML.NET's ResNet18 featurizer (<c>ResNet18.onnx</c>, NuGet package
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>) into a <see cref="ResNet18Variant"/>.
/// </summary>
/// <remarks>
/// The graph is walked node by node and checked against the module: the stem (Conv, BatchNormalization, Relu,
/// MaxPool), then for each residual block Conv, BatchNormalization, Relu, Conv, BatchNormalization, Add, Relu, with the
/// projection Conv and BatchNormalization of a downsampling block before or after its main path (the CNTK export puts
/// it before), then the average pool. Every connection, kernel, stride, padding, epsilon and weight shape must match,
/// and every initializer must be used exactly once; anything else is reported as a <see cref="HistoModelException"/>.
/// </remarks>
public static class ResNet18OnnxImporter
{
    /// <summary>Path of the model copied next to the application by the build: <c>models/ResNet18.onnx</c>.</summary>
    public static string DefaultModelPath => Path.Combine(AppContext.BaseDirectory, "models", "ResNet18.onnx");

    /// <summary>Creates a <see cref="ResNet18Variant"/> with the pretrained weights, in evaluation mode.</summary>
    /// <param name="onnxPath">The ONNX file; <see cref="DefaultModelPath"/> when <see langword="null"/>.</param>
    /// <param name="classCount">Classes of a new, randomly initialised head; 0 for features only.</param>
    /// <param name="dropoutProbability">Dropout before the head.</param>
    /// <returns>The network, in evaluation mode.</returns>
    /// <exception cref="HistoModelException">The file cannot be read or is not this network.</exception>
    public static ResNet18Variant Load(string? onnxPath = null, int classCount = 0, double dropoutProbability = 0.5)
    {
        string path = onnxPath ?? DefaultModelPath;
        OnnxModel model = OnnxModelReader.Read(path);
        var network = new ResNet18Variant(classCount, dropoutProbability);
        try
        {
            Import(model, network, path);
        }
        catch
        {
            network.Dispose();
            throw;
        }

        network.eval();
        return network;
    }

    /// <summary>Copies the weights of a parsed model into a network.</summary>
    /// <param name="model">The parsed <c>ResNet18.onnx</c>.</param>
    /// <param name="network">The network to fill; its head, if any, is left as it is.</param>
    /// <param name="sourceName">Name of the model used in error messages.</param>
    /// <exception cref="HistoModelException">The graph is not the network's structure.</exception>
    public static void Import(OnnxModel model, ResNet18Variant network, string sourceName = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(sourceName);
        var walker = new GraphWalker(model.Graph, sourceName);
        using (no_grad())
        {
            string x = walker.GraphInput();
            x = walker.ConvBatchNorm(x, network.StemConv, network.StemBatchNorm, kernel: 7, stride: 2, padding: 3, "stem");
            x = walker.Relu(x, "stem");
            x = walker.MaxPool(x, kernel: 3, stride: 2, padding: 1, "stem");
            for (int i = 0; i < network.Blocks.Count; i++)
            {
                x = walker.Block(x, network.Blocks[i], BlockName(i));
            }

            walker.GlobalAveragePool(x);
        }
    }

    private static string BlockName(int index)
    {
        int stage = 0;
        while (index >= ResNet18Variant.BlocksPerStage[stage])
        {
            index -= ResNet18Variant.BlocksPerStage[stage];
            stage++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"layer{stage + 1}.{index}");
    }

    /// <summary>Reads the nodes in order, checking each against the expected structure.</summary>
    private sealed class GraphWalker(OnnxGraph graph, string sourceName)
    {
        private readonly HashSet<string> _usedInitializers = new(StringComparer.Ordinal);
        private int _next;

        public string GraphInput()
        {
            OnnxValueInfo[] inputs = [.. graph.Inputs.Where(input => !graph.TryGetInitializer(input.Name, out _))];
            if (inputs.Length != 1)
            {
                throw Mismatch($"the graph has {inputs.Length} image inputs, expected 1.");
            }

            return inputs[0].Name;
        }

        public string Block(string x, ResNetBasicBlock block, string where)
        {
            string? shortcut = block.ShortcutConv is null ? x : null;
            if (shortcut is null && IsProjection(Peek(), x))
            {
                shortcut = Projection(x, block, where);
            }

            string main = ConvBatchNorm(x, block.Conv1, block.BatchNorm1, kernel: 3, stride: block.Stride, padding: 1, where + ".conv1");
            main = Relu(main, where);
            main = ConvBatchNorm(main, block.Conv2, block.BatchNorm2, kernel: 3, stride: 1, padding: 1, where + ".conv2");
            shortcut ??= Projection(x, block, where);

            OnnxNode add = Expect("Add", where);
            if (add.Inputs.Count != 2 || !(add.Inputs.Contains(main) && add.Inputs.Contains(shortcut)))
            {
                throw Mismatch($"node '{add.Name}' ({where}) adds [{string.Join(", ", add.Inputs)}], expected {main} and {shortcut}.");
            }

            return Relu(add.Outputs[0], where);
        }

        public string ConvBatchNorm(string x, Conv2d conv, BatchNorm2d batchNorm, int kernel, int stride, int padding, string where)
        {
            OnnxNode convNode = Expect("Conv", where);
            ExpectInput(convNode, x, where);
            if (convNode.Inputs.Count != 2)
            {
                throw Mismatch($"convolution '{convNode.Name}' ({where}) has {convNode.Inputs.Count} inputs, expected 2 (no bias).");
            }

            ExpectInts(convNode, "kernel_shape", [kernel, kernel], where);
            ExpectInts(convNode, "strides", [stride, stride], where, missingMeans: [1, 1]);
            ExpectInts(convNode, "dilations", [1, 1], where, missingMeans: [1, 1]);
            ExpectInt(convNode, "group", 1, where);
            ExpectPads(convNode, stride, padding, where);
            Copy(convNode.Inputs[1], conv.weight!, where);

            OnnxNode bnNode = Expect("BatchNormalization", where);
            ExpectInput(bnNode, convNode.Outputs[0], where);
            if (bnNode.Inputs.Count != 5)
            {
                throw Mismatch($"batch normalisation '{bnNode.Name}' ({where}) has {bnNode.Inputs.Count} inputs, expected 5.");
            }

            float epsilon = bnNode.FindAttribute("epsilon")?.FloatValue ?? 1e-5f;
            if (Math.Abs(epsilon - ResNet18Variant.BatchNormEpsilon) > 1e-9)
            {
                throw Mismatch($"batch normalisation '{bnNode.Name}' ({where}) has epsilon {epsilon}, expected {ResNet18Variant.BatchNormEpsilon}.");
            }

            ExpectInt(bnNode, "spatial", 1, where);
            Copy(bnNode.Inputs[1], batchNorm.weight!, where);
            Copy(bnNode.Inputs[2], batchNorm.bias!, where);
            Copy(bnNode.Inputs[3], batchNorm.running_mean!, where);
            Copy(bnNode.Inputs[4], batchNorm.running_var!, where);
            return bnNode.Outputs[0];
        }

        public string Relu(string x, string where)
        {
            OnnxNode relu = Expect("Relu", where);
            ExpectInput(relu, x, where);
            return relu.Outputs[0];
        }

        public string MaxPool(string x, int kernel, int stride, int padding, string where)
        {
            OnnxNode pool = Expect("MaxPool", where);
            ExpectInput(pool, x, where);
            ExpectInts(pool, "kernel_shape", [kernel, kernel], where);
            ExpectInts(pool, "strides", [stride, stride], where, missingMeans: [1, 1]);
            ExpectPads(pool, stride, padding, where);
            return pool.Outputs[0];
        }

        /// <summary>The final pooling: GlobalAveragePool, or a 7 x 7 AveragePool (global at 224 px), feeding the graph output.</summary>
        public void GlobalAveragePool(string x)
        {
            const string where = "pooling";
            OnnxNode? pool = Peek();
            if (pool?.OpType == "AveragePool")
            {
                Expect("AveragePool", where);
                ExpectInts(pool, "kernel_shape", [7, 7], where);
                ExpectInts(pool, "pads", [0, 0, 0, 0], where, missingMeans: [0, 0, 0, 0]);
            }
            else
            {
                pool = Expect("GlobalAveragePool", where);
            }

            ExpectInput(pool, x, where);
            if (graph.Outputs.Count != 1 || graph.Outputs[0].Name != pool.Outputs[0])
            {
                throw Mismatch($"the graph output is not the pooled features '{pool.Outputs[0]}'.");
            }

            if (_next != graph.Nodes.Count)
            {
                throw Mismatch($"{graph.Nodes.Count - _next} nodes follow the final pooling, starting with '{graph.Nodes[_next].Name}' ({graph.Nodes[_next].OpType}).");
            }

            if (_usedInitializers.Count != graph.Initializers.Count)
            {
                string unused = string.Join(", ", graph.Initializers.Select(t => t.Name).Where(n => !_usedInitializers.Contains(n)).Take(5));
                throw Mismatch($"{graph.Initializers.Count - _usedInitializers.Count} initializers are not used by the network: {unused}.");
            }
        }

        private string Projection(string x, ResNetBasicBlock block, string where) =>
            ConvBatchNorm(x, block.ShortcutConv!, block.ShortcutBatchNorm!, kernel: 1, stride: block.Stride, padding: 0, where + ".shortcut");

        private static bool IsProjection(OnnxNode? node, string x) =>
            node is { OpType: "Conv" } && node.Inputs.Count > 0 && node.Inputs[0] == x
            && node.FindAttribute("kernel_shape")?.IntValues is [1, 1];

        private OnnxNode? Peek() => _next < graph.Nodes.Count ? graph.Nodes[_next] : null;

        private OnnxNode Expect(string opType, string where)
        {
            OnnxNode? node = Peek();
            if (node is null)
            {
                throw Mismatch($"the graph ends where {opType} ({where}) was expected.");
            }

            if (node.OpType != opType || node.Domain.Length != 0 || node.Outputs.Count < 1)
            {
                throw Mismatch($"node #{_next} '{node.Name}' is {node.OpType}, expected {opType} ({where}).");
            }

            _next++;
            return node;
        }

        private void ExpectInput(OnnxNode node, string x, string where)
        {
            if (node.Inputs.Count == 0 || node.Inputs[0] != x)
            {
                throw Mismatch($"node '{node.Name}' ({where}) reads '{(node.Inputs.Count > 0 ? node.Inputs[0] : "")}', expected '{x}'.");
            }
        }

        private void ExpectInt(OnnxNode node, string name, long expected, string where)
        {
            OnnxAttribute? attribute = node.FindAttribute(name);
            if (attribute is not null && attribute.IntValue != expected)
            {
                throw Mismatch($"node '{node.Name}' ({where}) has {name} = {attribute.IntValue}, expected {expected}.");
            }
        }

        private void ExpectInts(OnnxNode node, string name, long[] expected, string where, long[]? missingMeans = null)
        {
            IReadOnlyList<long>? actual = node.FindAttribute(name)?.IntValues ?? missingMeans;
            if (actual is null || !actual.SequenceEqual(expected))
            {
                throw Mismatch($"node '{node.Name}' ({where}) has {name} [{string.Join(", ", actual ?? [])}], expected [{string.Join(", ", expected)}].");
            }
        }

        /// <summary>
        /// Accepts symmetric padding, or CNTK's stride-2 "same" padding with one pixel less at the end, which gives
        /// identical results for even input sides.
        /// </summary>
        private void ExpectPads(OnnxNode node, int stride, int padding, string where)
        {
            OnnxAttribute? autoPad = node.FindAttribute("auto_pad");
            if (autoPad?.StringValue is { } mode && mode != "NOTSET")
            {
                throw Mismatch($"node '{node.Name}' ({where}) uses auto_pad {mode}, expected explicit pads.");
            }

            long[] pads = [.. node.FindAttribute("pads")?.IntValues ?? [0, 0, 0, 0]];
            bool symmetric = pads.SequenceEqual(new long[] { padding, padding, padding, padding });
            bool sameLowerEnd = stride == 2 && padding > 0 && pads.SequenceEqual(new long[] { padding, padding, padding - 1, padding - 1 });
            if (!symmetric && !sameLowerEnd)
            {
                throw Mismatch($"node '{node.Name}' ({where}) has pads [{string.Join(", ", pads)}], expected {padding} on each side.");
            }
        }

        private void Copy(string initializerName, Tensor target, string where)
        {
            if (!graph.TryGetInitializer(initializerName, out OnnxTensor? source))
            {
                throw Mismatch($"'{initializerName}' ({where}) is not an initializer.");
            }

            if (!_usedInitializers.Add(initializerName))
            {
                throw Mismatch($"initializer '{initializerName}' ({where}) is used twice.");
            }

            if (!source.Dims.SequenceEqual(target.shape))
            {
                throw Mismatch($"initializer '{initializerName}' ({where}) has shape [{string.Join(", ", source.Dims)}], expected [{string.Join(", ", target.shape)}].");
            }

            float[] values = source.ToFloatArray();
            using Tensor loaded = tensor(values, target.shape);
            target.copy_(loaded);
        }

        private HistoModelException Mismatch(string detail) =>
            new($"ONNX model '{sourceName}' is not the ResNet18 [2, 2, 2, 3] network: {detail}");
    }
}
