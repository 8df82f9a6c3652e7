using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Histo.Learning.Models;

/// <summary>
/// An inference-only copy of a <see cref="ResNet18Variant"/> with every batch normalisation folded into the
/// convolution before it (weight scaled by <c>gamma / sqrt(var + eps)</c>, bias <c>beta - mean * gamma / sqrt(var + eps)</c>),
/// optionally stored as bfloat16, run channels-last without autograd. Same results as the network in evaluation mode
/// up to float rounding (fp32) or bfloat16 rounding.
/// </summary>
/// <remarks>
/// The copy is a snapshot: weights changed in the source network afterwards (training) are not seen; build a new
/// copy then. It holds its own tensors and must be disposed.
/// </remarks>
public sealed class FusedResNet18 : IDisposable
{
    private readonly FusedConv _stem;
    private readonly FusedBlock[] _blocks;
    private readonly Tensor? _headWeight;
    private readonly Tensor? _headBias;

    private FusedResNet18(FusedConv stem, FusedBlock[] blocks, Tensor? headWeight, Tensor? headBias, ScalarType elementType, bool channelsLast)
    {
        _stem = stem;
        _blocks = blocks;
        _headWeight = headWeight;
        _headBias = headBias;
        ElementType = elementType;
        ChannelsLast = channelsLast;
        ClassCount = headWeight is null ? 0 : (int)headWeight.shape[0];
    }

    /// <summary>The element type the convolutions run in: <see cref="ScalarType.Float32"/> or <see cref="ScalarType.BFloat16"/>.</summary>
    public ScalarType ElementType { get; }

    /// <summary>Whether inputs and weights are laid out channels-last (NHWC strides), oneDNN's fast CPU layout.</summary>
    public bool ChannelsLast { get; }

    /// <summary>Number of classes of the head, or 0 if the source network has none.</summary>
    public int ClassCount { get; }

    /// <summary>The stem convolution (7 x 7, stride 2, batch norm folded).</summary>
    internal FusedConv Stem => _stem;

    /// <summary>The residual blocks, stage by stage.</summary>
    internal IReadOnlyList<FusedBlock> Blocks => _blocks;

    /// <summary>The head's weight <c>[classes, 512]</c>, or null.</summary>
    internal Tensor? HeadWeight => _headWeight;

    /// <summary>The head's bias, or null.</summary>
    internal Tensor? HeadBias => _headBias;

    /// <summary>Folds <paramref name="network"/>'s batch normalisations (running statistics) into a new inference copy.</summary>
    /// <param name="network">The source network; it is not modified.</param>
    /// <param name="elementType"><see cref="ScalarType.Float32"/> (default) or <see cref="ScalarType.BFloat16"/>.</param>
    /// <param name="channelsLast">Lay weights and inputs out channels-last (faster with oneDNN on CPU).</param>
    /// <returns>The inference copy.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Another element type.</exception>
    public static FusedResNet18 Create(ResNet18Variant network, ScalarType elementType = ScalarType.Float32, bool channelsLast = true)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (elementType is not (ScalarType.Float32 or ScalarType.BFloat16))
        {
            throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "Float32 or BFloat16 only.");
        }

        using var noGrad = no_grad();
        FusedConv Fold(Conv2d conv, BatchNorm2d batchNorm)
        {
            using DisposeScope scope = NewDisposeScope();
            Tensor scale = batchNorm.weight! / (batchNorm.running_var! + ResNet18Variant.BatchNormEpsilon).sqrt();
            Tensor weight = conv.weight! * scale.reshape(-1, 1, 1, 1);
            Tensor bias = batchNorm.bias! - (batchNorm.running_mean! * scale);
            weight = weight.to_type(elementType);
            // 1 x 1 weights stay NCHW: those convolutions run in NCHW (see ResNet18Variant.OneByOneConvolutionInNchw).
            weight = channelsLast && weight.shape[2] > 1 ? ResNet18Variant.ToChannelsLast(weight) : weight.contiguous();
            // Detached from every dispose scope: the copy outlives the caller's scope (a Predict call, say).
            return new FusedConv(
                weight.DetachFromDisposeScope(),
                bias.to_type(elementType).contiguous().DetachFromDisposeScope(),
                conv.stride[0],
                conv.padding![0]);
        }

        FusedConv stem = Fold(network.StemConv, network.StemBatchNorm);
        var blocks = new FusedBlock[network.Blocks.Count];
        for (int i = 0; i < blocks.Length; i++)
        {
            ResNetBasicBlock block = network.Blocks[i];
            blocks[i] = new FusedBlock(
                Fold(block.Conv1, block.BatchNorm1),
                Fold(block.Conv2, block.BatchNorm2),
                block.ShortcutConv is null || block.ShortcutBatchNorm is null ? null : Fold(block.ShortcutConv, block.ShortcutBatchNorm));
        }

        (Tensor? headWeight, Tensor? headBias) = network.Head is { } head
            ? (head.weight!.detach().to_type(elementType).contiguous().DetachFromDisposeScope(), head.bias!.detach().to_type(elementType).contiguous().DetachFromDisposeScope())
            : (null, null);
        return new FusedResNet18(stem, blocks, headWeight, headBias, elementType, channelsLast);
    }

    /// <summary>Pooled features <c>[N, 512]</c> (float32) of preprocessed float32 images <c>[N, 3, H, W]</c>.</summary>
    public Tensor Features(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var inference = inference_mode();
        using DisposeScope scope = NewDisposeScope();
        return Pool(input).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Class logits <c>[N, ClassCount]</c> (float32), or the features if the source network has no head.</summary>
    public Tensor Logits(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_headWeight is null)
        {
            return Features(input);
        }

        using var inference = inference_mode();
        using DisposeScope scope = NewDisposeScope();
        Tensor logits = nn.functional.linear(Pool(input), _headWeight, _headBias);
        return logits.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stem.Dispose();
        foreach (FusedBlock block in _blocks)
        {
            block.Dispose();
        }

        _headWeight?.Dispose();
        _headBias?.Dispose();
    }

    private Tensor Pool(Tensor input)
    {
        Tensor x = input.dtype == ElementType ? input : input.to_type(ElementType);
        x = ChannelsLast ? ResNet18Variant.ToChannelsLast(x) : x;
        x = nn.functional.max_pool2d(_stem.Call(x).relu_(), [3, 3], [2, 2], [1, 1]);
        foreach (FusedBlock block in _blocks)
        {
            x = block.Call(x);
        }

        return x.mean([2, 3]);
    }

    /// <summary>A convolution with its batch normalisation folded in: weight, bias, stride and symmetric padding.</summary>
    internal sealed record FusedConv(Tensor Weight, Tensor Bias, long Stride, long Padding) : IDisposable
    {
        public Tensor Call(Tensor x) =>
            nn.functional.conv2d(x, Weight, Bias, strides: [Stride, Stride], padding: [Padding, Padding]);

        public void Dispose()
        {
            Weight.Dispose();
            Bias.Dispose();
        }
    }

    /// <summary>A residual block: two folded convolutions and the folded projection shortcut, if any.</summary>
    internal sealed record FusedBlock(FusedConv Conv1, FusedConv Conv2, FusedConv? Shortcut) : IDisposable
    {
        public Tensor Call(Tensor x)
        {
            Tensor main = Conv2.Call(Conv1.Call(x).relu_());
            return main.add_(Shortcut is null ? x : ResNet18Variant.OneByOneConvolutionInNchw(x, Shortcut.Call)).relu_();
        }

        public void Dispose()
        {
            Conv1.Dispose();
            Conv2.Dispose();
            Shortcut?.Dispose();
        }
    }
}
