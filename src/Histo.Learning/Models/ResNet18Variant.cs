using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Histo.Learning.Models;

/// <summary>
/// The ResNet18 variant of ML.NET's pretrained ImageNet featurizer (a CNTK export): a ResNet with basic blocks
/// [2, 2, 2, 3] per stage (one more block in the last stage than torchvision's resnet18), convolutions without bias
/// followed by batch normalisation (eps 1e-5), and global average pooling to <see cref="FeatureCount"/> features.
/// An optional head (dropout then a linear layer) turns the features into class logits for fine-tuning.
/// </summary>
/// <remarks>
/// <para>
/// Input is a batch <c>[N, 3, H, W]</c> of BGR planes on a 0..255 scale with the ImageNet channel means subtracted
/// (see <see cref="WriteInput"/>); the pretrained weights were fitted at 224 x 224. The CNTK graph pads its strided
/// convolutions asymmetrically (one pixel less at the bottom and right); for even input sides, as at every stage of
/// a 224 px input, that gives exactly the same result as the symmetric padding used here.
/// </para>
/// <para>
/// Parameter names follow torchvision where the layers match: <c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c>, ...,
/// with the projection of a downsampling block as <c>shortcut_conv</c> / <c>shortcut_bn</c>, and the head as
/// <c>fc</c>. Load pretrained weights with <see cref="ResNet18OnnxImporter"/>.
/// </para>
/// </remarks>
public sealed class ResNet18Variant : Module<Tensor, Tensor>
{
    /// <summary>Number of pooled features that <see cref="Features"/> returns per image.</summary>
    public const int FeatureCount = 512;

    /// <summary>Side of the square input the pretrained weights were fitted at.</summary>
    public const int InputSize = 224;

    /// <summary>Epsilon of every batch normalisation layer, as in the pretrained graph.</summary>
    public const double BatchNormEpsilon = 1e-5;

    /// <summary>Blue channel mean (0..255 scale) subtracted from the input.</summary>
    public const float MeanBlue = 103.06f;

    /// <summary>Green channel mean (0..255 scale) subtracted from the input.</summary>
    public const float MeanGreen = 115.90f;

    /// <summary>Red channel mean (0..255 scale) subtracted from the input.</summary>
    public const float MeanRed = 123.15f;

    private static readonly int[] StageBlockCounts = [2, 2, 2, 3];
    private static readonly int[] StageWidths = [64, 128, 256, 512];

    // Field names become parameter names (conv1.weight, layer1.0.bn1.running_mean, ...).
#pragma warning disable IDE1006, SA1306
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly MaxPool2d maxpool;
    private readonly ModuleList<ResNetBasicBlock> layer1;
    private readonly ModuleList<ResNetBasicBlock> layer2;
    private readonly ModuleList<ResNetBasicBlock> layer3;
    private readonly ModuleList<ResNetBasicBlock> layer4;
    private readonly Dropout? dropout;
    private readonly Linear? fc;
#pragma warning restore IDE1006, SA1306

    /// <summary>Asks libtorch's OpenMP threads to sleep when idle, if nothing loaded libtorch yet (see <see cref="TorchThreading"/>).</summary>
    static ResNet18Variant() => TorchThreading.PreferPassiveWait();

    /// <summary>Creates the network with freshly initialised weights.</summary>
    /// <param name="classCount">
    /// Number of classes of the head; 0 for no head, in which case <see cref="Module{T, TResult}.forward"/> returns
    /// the pooled features.
    /// </param>
    /// <param name="dropoutProbability">Dropout applied to the features before the head, during training only.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative class count or a dropout outside [0, 1).</exception>
    public ResNet18Variant(int classCount = 0, double dropoutProbability = 0.5)
        : base(nameof(ResNet18Variant))
    {
        TorchDiagnostics.QuietWarnings(); // before the first operator: libtorch's warnings (NNPACK's among them) stay off stderr
        ArgumentOutOfRangeException.ThrowIfNegative(classCount);
        if (dropoutProbability is < 0 or >= 1 || double.IsNaN(dropoutProbability))
        {
            throw new ArgumentOutOfRangeException(nameof(dropoutProbability), dropoutProbability, "Dropout must be in [0, 1).");
        }

        ClassCount = classCount;
        DropoutProbability = dropoutProbability;
        conv1 = Conv2d(3, 64, kernel_size: 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(64, eps: BatchNormEpsilon);
        maxpool = MaxPool2d(kernel_size: 3, stride: 2, padding: 1);

        var stages = new ModuleList<ResNetBasicBlock>[StageBlockCounts.Length];
        int inChannels = 64;
        for (int stage = 0; stage < stages.Length; stage++)
        {
            var blocks = new ResNetBasicBlock[StageBlockCounts[stage]];
            for (int i = 0; i < blocks.Length; i++)
            {
                int stride = stage > 0 && i == 0 ? 2 : 1;
                blocks[i] = new ResNetBasicBlock(inChannels, StageWidths[stage], stride);
                inChannels = StageWidths[stage];
            }

            stages[stage] = new ModuleList<ResNetBasicBlock>(blocks);
        }

        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]);
        Blocks = [.. stages.SelectMany(stage => stage)];

        if (classCount > 0)
        {
            dropout = Dropout(dropoutProbability);
            fc = Linear(FeatureCount, classCount);
        }

        RegisterComponents();
    }

    /// <summary>Number of classes of the head, or 0 if the network has none.</summary>
    public int ClassCount { get; }

    /// <summary>Dropout applied to the features before the head, during training only.</summary>
    public double DropoutProbability { get; }

    /// <summary>
    /// The generator the head's dropout draws its masks from in training mode, or null for torch's global generator.
    /// A training run gives its network one of its own, so the masks follow from the run's seed alone, whatever other
    /// code in the process draws from the global generator meanwhile (it is shared by every thread).
    /// </summary>
    internal Generator? DropoutGenerator { get; set; }

    /// <summary>
    /// Draws the head's weights and bias afresh from <paramref name="seed"/> alone, from torch's default distribution
    /// for a linear layer, U(-1/sqrt(512), 1/sqrt(512)), through a generator of its own (see <see cref="DropoutGenerator"/>
    /// for why not the global one).
    /// </summary>
    /// <param name="seed">The seed.</param>
    /// <exception cref="InvalidOperationException">The network has no head.</exception>
    internal void InitialiseHead(long seed)
    {
        var head = fc ?? throw new InvalidOperationException("the network has no head to initialise");
        double bound = 1 / Math.Sqrt(FeatureCount);
        using var generator = new Generator(unchecked((ulong)seed));
        using var noGrad = no_grad();
        head.weight!.uniform_(-bound, bound, generator);
        head.bias!.uniform_(-bound, bound, generator);
    }

    /// <summary>
    /// Whether <see cref="Features"/> first lays the input out channels-last (NHWC strides). oneDNN then keeps every
    /// convolution channels-last, which is faster on CPU; results are the same up to float rounding.
    /// </summary>
    public bool ChannelsLast { get; set; } = true;

    /// <summary>Stem convolution (7 x 7, stride 2).</summary>
    internal Conv2d StemConv => conv1;

    /// <summary>Batch normalisation after the stem convolution.</summary>
    internal BatchNorm2d StemBatchNorm => bn1;

    /// <summary>The classification head, or <see langword="null"/> when the network has none.</summary>
    internal Linear? Head => fc;

    /// <summary>All residual blocks, stage by stage.</summary>
    internal IReadOnlyList<ResNetBasicBlock> Blocks { get; }

    /// <summary>Number of residual blocks in each of the four stages: [2, 2, 2, 3].</summary>
    public static IReadOnlyList<int> BlocksPerStage => StageBlockCounts;

    /// <summary>Number of residual stages (<c>layer1</c> .. <c>layer4</c>).</summary>
    public const int StageCount = 4;

    /// <summary>Computes the pooled features.</summary>
    /// <param name="input">Preprocessed images <c>[N, 3, H, W]</c> (see <see cref="WriteInput"/>).</param>
    /// <returns>Features <c>[N, 512]</c>.</returns>
    public Tensor Features(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Trunk(input, StageCount);
        return functional.adaptive_avg_pool2d(x, 1).flatten(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs the stem (convolution, batch norm, max pooling) and the first <paramref name="stages"/> residual stages:
    /// the feature map that <see cref="Top"/> continues from. <c>Top(Trunk(x, k), k)</c> equals
    /// <see cref="Module{T, TResult}.forward"/>.
    /// </summary>
    /// <param name="input">Preprocessed images <c>[N, 3, H, W]</c>.</param>
    /// <param name="stages">Residual stages to run after the stem, 0..<see cref="StageCount"/>.</param>
    /// <returns>The feature map (channels-last strides when <see cref="ChannelsLast"/> is set).</returns>
    public Tensor Trunk(Tensor input, int stages)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfNegative(stages);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stages, StageCount);
        using DisposeScope scope = NewDisposeScope();
        Tensor x = ChannelsLast ? ToChannelsLast(input) : input;
        x = maxpool.call(bn1.call(conv1.call(x)).relu_());
        x = RunStages(x, 0, stages);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Continues from a <see cref="Trunk"/> output of <paramref name="stages"/> stages: the remaining stages, global
    /// average pooling, and the head (dropout, linear) when there is one.
    /// </summary>
    /// <param name="trunk">The feature map from <c>Trunk(input, stages)</c>.</param>
    /// <param name="stages">The number of stages the trunk ran.</param>
    /// <returns>Logits <c>[N, ClassCount]</c>, or the features <c>[N, 512]</c> if there is no head.</returns>
    public Tensor Top(Tensor trunk, int stages)
    {
        ArgumentNullException.ThrowIfNull(trunk);
        ArgumentOutOfRangeException.ThrowIfNegative(stages);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stages, StageCount);
        using DisposeScope scope = NewDisposeScope();
        Tensor x = RunStages(trunk, stages, StageCount);
        x = functional.adaptive_avg_pool2d(x, 1).flatten(1);
        if (fc is not null && dropout is not null)
        {
            x = fc.call(DropoutGenerator is null ? dropout.call(x) : DropWithOwnGenerator(x));
        }

        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Inverted dropout with masks from <see cref="DropoutGenerator"/> (what <see cref="Dropout"/> does with the global one).</summary>
    private Tensor DropWithOwnGenerator(Tensor x)
    {
        if (!training || DropoutProbability == 0)
        {
            return x;
        }

        using Tensor uniform = rand(x.shape, ScalarType.Float32, x.device, generator: DropoutGenerator);
        using Tensor keep = uniform.ge(DropoutProbability).to(x.dtype);
        return x * keep * (1 / (1 - DropoutProbability));
    }

    /// <summary>
    /// The parameters of the stem and the first <paramref name="stages"/> stages (what <see cref="Trunk"/> uses),
    /// by name; the batch-norm layers among them are returned too so a trainer can keep them in eval mode.
    /// </summary>
    public (IReadOnlyList<Parameter> Parameters, IReadOnlyList<Module> BatchNorms) TrunkModules(int stages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stages);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stages, StageCount);
        var modules = new List<Module> { conv1, bn1 };
        ModuleList<ResNetBasicBlock>[] all = [layer1, layer2, layer3, layer4];
        modules.AddRange(all.Take(stages).SelectMany(stage => stage));
        var parameters = modules.SelectMany(m => m.parameters()).ToList();
        var norms = modules.SelectMany(m => m.modules().Prepend(m)).Where(m => m is BatchNorm2d).Distinct().ToList();
        return (parameters, norms);
    }

    private Tensor RunStages(Tensor x, int from, int to)
    {
        ModuleList<ResNetBasicBlock>[] all = [layer1, layer2, layer3, layer4];
        for (int stage = from; stage < to; stage++)
        {
            foreach (ResNetBasicBlock block in all[stage])
            {
                x = block.call(x);
            }
        }

        return x;
    }

    /// <summary>Computes class logits <c>[N, ClassCount]</c>, or the features <c>[N, 512]</c> if there is no head.</summary>
    /// <param name="input">Preprocessed images <c>[N, 3, H, W]</c>.</param>
    /// <returns>Logits or features.</returns>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using DisposeScope scope = NewDisposeScope();
        return Top(Trunk(input, StageCount), StageCount).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Returns a view of an NCHW tensor whose memory is laid out NHWC (channels-last), which TorchSharp has no
    /// memory-format API for; a permute, a copy and the inverse permute produce it.
    /// </summary>
    /// <param name="input">A 4-d tensor.</param>
    /// <returns>The same values with channels-last strides.</returns>
    public static Tensor ToChannelsLast(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
    }

    /// <summary>
    /// Runs a 1 x 1 convolution on an NCHW copy of <paramref name="input"/> and returns the result in the input's
    /// layout. oneDNN 3.7.1 (libtorch 2.10) computes channels-last 1 x 1 convolutions wrong, or dies with SIGFPE, on
    /// VMs whose CPUID cache leaf 0x8000001D reads zero (its brgconv_1x1 weight reorder then believes every cache is
    /// 1 byte); its NCHW kernels are right there. Done on every machine so that every CPU computes the same numbers;
    /// it costs 1-4 % in inference and about 1 % in training (three shortcut convolutions in ResNet18; bench rows <c>nchw_1x1_*</c>).
    /// </summary>
    /// <param name="input">A 4-d tensor, NCHW or channels-last.</param>
    /// <param name="convolution">The 1 x 1 convolution, with NCHW-contiguous weights.</param>
    /// <returns>The convolution's output, channels-last when the input was.</returns>
    internal static Tensor OneByOneConvolutionInNchw(Tensor input, Func<Tensor, Tensor> convolution)
    {
        bool channelsLast = input.shape[1] > 1 && input.stride(1) == 1;
        if (!channelsLast)
        {
            return convolution(input);
        }

        using DisposeScope scope = NewDisposeScope();
        return ToChannelsLast(convolution(input.contiguous())).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Writes one image as network input: BGR planes (CHW), 0..255 scale, channel means subtracted, no division by a
    /// standard deviation, the preprocessing of the pretrained model.
    /// </summary>
    /// <param name="pixels">Interleaved 8-bit RGB or RGBA pixels, rows top to bottom.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="rowStride">Bytes from the start of one row to the next.</param>
    /// <param name="bytesPerPixel">3 for RGB, 4 for RGBA (alpha is ignored).</param>
    /// <param name="destination">At least <c>3 * width * height</c> floats: the B, G and R planes in that order.</param>
    /// <exception cref="ArgumentException">The sizes do not fit the buffers.</exception>
    public static void WriteInput(
        ReadOnlySpan<byte> pixels, int width, int height, int rowStride, int bytesPerPixel, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (bytesPerPixel is not (3 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(bytesPerPixel), bytesPerPixel, "Pixels must be RGB (3) or RGBA (4).");
        }

        if (rowStride < width * bytesPerPixel || (long)rowStride * (height - 1) + ((long)width * bytesPerPixel) > pixels.Length)
        {
            throw new ArgumentException($"{pixels.Length} bytes with row stride {rowStride} cannot hold {width} x {height} pixels.", nameof(pixels));
        }

        int planeSize = width * height;
        if (destination.Length < 3 * planeSize)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats; {3 * planeSize} are needed.", nameof(destination));
        }

        Span<float> blue = destination.Slice(0, planeSize);
        Span<float> green = destination.Slice(planeSize, planeSize);
        Span<float> red = destination.Slice(2 * planeSize, planeSize);
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = pixels.Slice(y * rowStride, width * bytesPerPixel);
            int offset = y * width;
            for (int x = 0; x < width; x++)
            {
                int p = x * bytesPerPixel;
                red[offset + x] = row[p] - MeanRed;
                green[offset + x] = row[p + 1] - MeanGreen;
                blue[offset + x] = row[p + 2] - MeanBlue;
            }
        }
    }

    /// <summary>Creates the input tensor <c>[1, 3, height, width]</c> for one image (see <see cref="WriteInput"/>).</summary>
    /// <param name="pixels">Interleaved 8-bit RGB or RGBA pixels, rows top to bottom.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="rowStride">Bytes from the start of one row to the next.</param>
    /// <param name="bytesPerPixel">3 for RGB, 4 for RGBA (alpha is ignored).</param>
    /// <returns>A new float tensor on the CPU.</returns>
    public static Tensor CreateInput(ReadOnlySpan<byte> pixels, int width, int height, int rowStride, int bytesPerPixel = 3)
    {
        var values = new float[3 * width * height];
        WriteInput(pixels, width, height, rowStride, bytesPerPixel, values);
        return tensor(values, [1, 3, height, width]);
    }
}

/// <summary>
/// A ResNet basic block: two 3 x 3 convolutions with batch normalisation, and a 1 x 1 projection shortcut when the
/// block changes resolution or width.
/// </summary>
internal sealed class ResNetBasicBlock : Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, SA1306
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d? shortcut_conv;
    private readonly BatchNorm2d? shortcut_bn;
#pragma warning restore IDE1006, SA1306

    public ResNetBasicBlock(int inChannels, int outChannels, int stride)
        : base(nameof(ResNetBasicBlock))
    {
        Stride = stride;
        conv1 = Conv2d(inChannels, outChannels, kernel_size: 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNorm2d(outChannels, eps: ResNet18Variant.BatchNormEpsilon);
        conv2 = Conv2d(outChannels, outChannels, kernel_size: 3, stride: 1, padding: 1, bias: false);
        bn2 = BatchNorm2d(outChannels, eps: ResNet18Variant.BatchNormEpsilon);
        if (stride != 1 || inChannels != outChannels)
        {
            shortcut_conv = Conv2d(inChannels, outChannels, kernel_size: 1, stride: stride, bias: false);
            shortcut_bn = BatchNorm2d(outChannels, eps: ResNet18Variant.BatchNormEpsilon);
        }

        RegisterComponents();
    }

    public int Stride { get; }

    public Conv2d Conv1 => conv1;

    public BatchNorm2d BatchNorm1 => bn1;

    public Conv2d Conv2 => conv2;

    public BatchNorm2d BatchNorm2 => bn2;

    public Conv2d? ShortcutConv => shortcut_conv;

    public BatchNorm2d? ShortcutBatchNorm => shortcut_bn;

    public override Tensor forward(Tensor input)
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor main = bn2.call(conv2.call(bn1.call(conv1.call(input)).relu_()));
        Tensor shortcut = shortcut_conv is null || shortcut_bn is null
            ? input
            : shortcut_bn.call(ResNet18Variant.OneByOneConvolutionInNchw(input, shortcut_conv.call));
        return main.add_(shortcut).relu_().MoveToOuterDisposeScope();
    }
}
