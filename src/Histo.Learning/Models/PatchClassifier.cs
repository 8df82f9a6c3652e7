using Histo.Color;
using Histo.Imaging;
using Histo.IO;
using Histo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Learning.Models;

/// <summary>
/// A trained ResNet18 patch classifier and its model card: the model directory (<c>model.json</c> +
/// <c>weights.bin</c>, optionally <c>stain_target.png</c>) in memory. Applies the card's preprocessing: stain
/// normalisation, resize to the network input, BGR mean subtraction. Runs on the CPU device.
/// </summary>
public sealed class PatchClassifier : IPreparingPatchClassifier
{
    /// <summary>File name of the weights inside a model directory.</summary>
    public const string WeightsFileName = "weights.bin";

    /// <summary>File name of the stain-normalisation target image inside a model directory.</summary>
    public const string StainTargetFileName = "stain_target.png";

    private readonly IStainNormalizer? stainNormalizer;
    private readonly RgbaImage? stainTarget;

    /// <summary>Wraps a network (its head must have one output per card class) and its card.</summary>
    /// <param name="network">The network; this classifier owns and disposes it.</param>
    /// <param name="card">The model card.</param>
    /// <param name="stainTarget">The stain target image, required when the card names a stain normalisation.</param>
    public PatchClassifier(ResNet18Variant network, ModelCard card, RgbaImage? stainTarget = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(card);
        if (network.ClassCount != card.Classes.Count)
        {
            throw new HistoModelException($"the network has {network.ClassCount} outputs but the card lists {card.Classes.Count} classes");
        }

        Network = network;
        Card = card;
        if (!string.Equals(card.StainNormalization, "none", StringComparison.OrdinalIgnoreCase))
        {
            this.stainTarget = stainTarget ?? throw new HistoModelException($"the card asks for {card.StainNormalization} stain normalisation but no target image was given");
            stainNormalizer = StainNormalizer.Fit(StainNormalizer.ParseMethod(card.StainNormalization), stainTarget);
        }
    }

    /// <inheritdoc />
    public ModelCard Card { get; }

    /// <summary>The network (logits from <c>forward</c>, pooled features from <c>Features</c>).</summary>
    public ResNet18Variant Network { get; }

    /// <summary>Opens a model directory written by <see cref="Save"/>.</summary>
    /// <exception cref="HistoException">Missing or malformed card, missing or mismatched weights.</exception>
    public static PatchClassifier Load(string modelDirectory)
    {
        ModelCard card = ModelCard.Load(modelDirectory);
        string weights = Path.Combine(modelDirectory, WeightsFileName);
        if (!File.Exists(weights))
        {
            throw new HistoModelException($"{modelDirectory}: no {WeightsFileName} in the model directory");
        }

        RgbaImage? target = null;
        string targetPath = Path.Combine(modelDirectory, StainTargetFileName);
        if (File.Exists(targetPath))
        {
            target = ImageIO.Load(targetPath);
        }

        var network = new ResNet18Variant(card.Classes.Count);
        try
        {
            network.load(weights, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or EndOfStreamException or FormatException or NotImplementedException)
        {
            network.Dispose();
            throw new HistoModelException($"{weights}: cannot load the weights ({e.Message.Split('\n')[0]})", e);
        }

        network.eval();
        return new PatchClassifier(network, card, target);
    }

    /// <summary>Writes the weights, the stain target and the card into <paramref name="modelDirectory"/>, each file atomically.</summary>
    public void Save(string modelDirectory)
    {
        Directory.CreateDirectory(modelDirectory);
        SaveWeights(Network, Path.Combine(modelDirectory, WeightsFileName));
        if (stainTarget is not null)
        {
            AtomicFile.WriteAllBytes(Path.Combine(modelDirectory, StainTargetFileName), ImageIO.Encode(stainTarget, ".png"));
        }

        Card.Save(modelDirectory);
    }

    /// <summary>Writes a network's parameters and buffers to <paramref name="path"/> atomically.</summary>
    public static void SaveWeights(ResNet18Variant network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            network.save(writer);
        });
    }

    /// <summary>The image as the network sees it: stain-normalised (if the card says so) and resized to the input size.</summary>
    public RgbaImage Preprocess(RgbaImage patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        RgbaImage image = stainNormalizer is null ? patch : stainNormalizer.Normalize(patch).Image;
        int size = Card.InputSizePixels;
        return image.Width == size && image.Height == size ? image : ImageIO.Resize(image, size, size);
    }

    /// <summary>Builds the input batch <c>[N, 3, S, S]</c> for <paramref name="patches"/> (see <see cref="Preprocess"/>).</summary>
    public Tensor CreateBatch(IReadOnlyList<RgbaImage> patches) => CreateBatch(patches, prepared: false);

    private Tensor CreateBatch(IReadOnlyList<RgbaImage> patches, bool prepared)
    {
        ArgumentNullException.ThrowIfNull(patches);
        int size = Card.InputSizePixels;
        int plane = 3 * size * size;
        var values = new float[patches.Count * plane];
        Parallel.For(0, patches.Count, i =>
        {
            RgbaImage image = prepared ? patches[i] : Preprocess(patches[i]);
            ResNet18Variant.WriteInput(image.Pixels, size, size, image.Stride, RgbaImage.Channels, values.AsSpan(i * plane, plane));
        });
        return tensor(values, [patches.Count, 3, size, size]);
    }

    /// <inheritdoc />
    public float[][] Predict(IReadOnlyList<RgbaImage> patches, CancellationToken cancellationToken = default) =>
        Predict(patches, prepared: false, cancellationToken);

    /// <inheritdoc />
    public RgbaImage Prepare(RgbaImage patch) => Preprocess(patch);

    /// <inheritdoc />
    public float[][] PredictPrepared(IReadOnlyList<RgbaImage> preparedPatches, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(preparedPatches);
        int size = Card.InputSizePixels;
        if (preparedPatches.Any(p => p.Width != size || p.Height != size))
        {
            throw new HistoModelException($"prepared patches must be {size}x{size} (pass them through Prepare)");
        }

        return Predict(preparedPatches, prepared: true, cancellationToken);
    }

    private float[][] Predict(IReadOnlyList<RgbaImage> patches, bool prepared, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patches);
        cancellationToken.ThrowIfCancellationRequested();
        if (patches.Count == 0)
        {
            return [];
        }

        using DisposeScope scope = NewDisposeScope();
        using var noGrad = no_grad();
        Network.eval();
        Tensor probabilities = nn.functional.softmax(Network.call(CreateBatch(patches, prepared)), 1);
        return ToRows(probabilities);
    }

    /// <summary>Pooled 512-d features, one row per patch.</summary>
    public float[][] Embed(IReadOnlyList<RgbaImage> patches, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patches);
        cancellationToken.ThrowIfCancellationRequested();
        if (patches.Count == 0)
        {
            return [];
        }

        using DisposeScope scope = NewDisposeScope();
        using var noGrad = no_grad();
        Network.eval();
        return ToRows(Network.Features(CreateBatch(patches)));
    }

    private static float[][] ToRows(Tensor matrix)
    {
        float[] flat = matrix.contiguous().data<float>().ToArray();
        int rows = (int)matrix.shape[0];
        int columns = (int)matrix.shape[1];
        var result = new float[rows][];
        for (int r = 0; r < rows; r++)
        {
            result[r] = flat.AsSpan(r * columns, columns).ToArray();
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose() => Network.Dispose();
}
