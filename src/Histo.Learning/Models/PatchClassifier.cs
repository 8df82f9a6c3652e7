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

    private readonly IStainNormalizer? _stainNormalizer;
    private readonly RgbaImage? _stainTarget;
    private readonly Lock _inferenceLock = new();
    private FusedResNet18? _fused;
    private OnnxRuntimeResNet18? _onnxRuntime;
    private InferenceEngine _inference = InferenceEngine.Fused;
    private string? _replacedEngine;

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
            _stainTarget = stainTarget ?? throw new HistoModelException($"the card asks for {card.StainNormalization} stain normalisation but no target image was given");
            _stainNormalizer = StainNormalizer.Fit(StainNormalizer.ParseMethod(card.StainNormalization), stainTarget);
        }
    }

    /// <inheritdoc />
    public ModelCard Card { get; }

    /// <summary>The network (logits from <c>forward</c>, pooled features from <c>Features</c>).</summary>
    public ResNet18Variant Network { get; }

    /// <summary>
    /// How <see cref="Predict"/>, <see cref="Embed"/> and <see cref="Logits"/> run the network; default
    /// <see cref="InferenceEngine.Fused"/> (the fastest fp32 engine measured on CPU, with libtorch's OpenMP threads
    /// waiting passively: bench rows <c>infer_variant_*</c>). Every engine but <see cref="InferenceEngine.Plain"/> uses a copy of <see cref="Network"/>
    /// made at the first call and again whenever the network was left in training mode (see <see cref="RefreshInference"/>).
    /// </summary>
    public InferenceEngine Inference
    {
        get => _inference;
        set
        {
            _inference = value;
            _replacedEngine = null;
        }
    }

    /// <inheritdoc />
    /// <remarks>After a failed self-check <see cref="Inference"/> reads <see cref="InferenceEngine.Plain"/> and <see cref="ResNet18Variant.ChannelsLast"/> false.</remarks>
    public EngineUsage Engine
    {
        get
        {
            lock (_inferenceLock)
            {
                SelfCheck();
                return new EngineUsage(EngineSelfCheck.NameOf(Inference, Network.ChannelsLast), _replacedEngine);
            }
        }
    }

    /// <summary>
    /// The model's id: the first 16 hex digits of a SHA-256 over its card, weights and stain target (each file's name,
    /// length and bytes), so two directories with the same id classify alike and a retuned card gets a new id.
    /// </summary>
    /// <exception cref="HistoException">No card or weights in the directory.</exception>
    public static string ComputeId(string modelDirectory)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (string name in new[] { ModelCard.FileName, WeightsFileName, StainTargetFileName })
        {
            string path = Path.Combine(modelDirectory, name);
            if (!File.Exists(path))
            {
                if (name == StainTargetFileName)
                {
                    continue;
                }

                throw new HistoModelException($"{modelDirectory}: no {name} in the model directory");
            }

            byte[] bytes = File.ReadAllBytes(path);
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{name}\n{bytes.Length}\n"));
            hash.AppendData(bytes);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>Opens a model directory written by <see cref="Save"/>.</summary>
    /// <exception cref="HistoException">Missing or malformed card, missing or mismatched weights.</exception>
    public static PatchClassifier Load(string modelDirectory)
    {
        ModelCard card = ModelCard.Load(modelDirectory);
        string weights = Path.Combine(modelDirectory, WeightsFileName);
        if (InputFile.KindOf(weights) == InputFileKind.Missing)
        {
            throw new HistoModelException($"{modelDirectory}: no {WeightsFileName} in the model directory");
        }

        long weightBytes = InputFile.RequireRegular(weights);
        if (weightBytes > MaxWeightsBytes)
        {
            throw new HistoModelException($"{weights}: {InputFile.FormatBytes(weightBytes)} is too large for the weights of a ResNet18 (at most {InputFile.FormatBytes(MaxWeightsBytes)})");
        }

        RgbaImage? target = null;
        string targetPath = Path.Combine(modelDirectory, StainTargetFileName);
        if (InputFile.KindOf(targetPath) != InputFileKind.Missing)
        {
            target = ImageIO.Load(targetPath);
        }

        var network = new ResNet18Variant(card.Classes.Count);
        try
        {
            network.load(weights, strict: true);
            CheckFinite(network, weights);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or EndOfStreamException or FormatException or NotImplementedException)
        {
            network.Dispose();
            throw new HistoModelException($"{weights}: cannot load the weights ({e.Message.Split('\n')[0]})", e);
        }
        catch
        {
            network.Dispose();
            throw;
        }

        network.eval();
        return new PatchClassifier(network, card, target);
    }

    /// <summary>Largest weights file read (a ResNet18 in fp32 is 45 MB).</summary>
    public const long MaxWeightsBytes = 1L << 30;

    /// <summary>
    /// Refuses weights holding NaN or infinite values (a corrupt or diverged file): every parameter and buffer is
    /// checked once at load, so the model never computes garbage silently.
    /// </summary>
    private static void CheckFinite(ResNet18Variant network, string weights)
    {
        using var scope = NewDisposeScope();
        foreach (var (name, tensor) in network.state_dict())
        {
            if (tensor.is_floating_point() && !isfinite(tensor).all().item<bool>())
            {
                long bad = (~isfinite(tensor)).sum().item<long>();
                throw new HistoModelException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{weights}: tensor '{name}' holds {bad} NaN or infinite values; the weights are corrupt (retrain or restore the file)"));
            }
        }
    }

    /// <summary>
    /// Writes the model directory, each file atomically: the weights, the stain target (a stale one from an earlier
    /// model is removed when this model has none) and the card last, so that a directory with a <c>model.json</c> is
    /// complete. Training writes its model directory through here too.
    /// </summary>
    public void Save(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelDirectory);
        Directory.CreateDirectory(modelDirectory);
        SaveWeights(Network, Path.Combine(modelDirectory, WeightsFileName));
        string stainTargetPath = Path.Combine(modelDirectory, StainTargetFileName);
        if (_stainTarget is not null)
        {
            AtomicFile.WriteAllBytes(stainTargetPath, ImageIO.Encode(_stainTarget, ".png"));
        }
        else
        {
            File.Delete(stainTargetPath); // it would change the model's id (ComputeId hashes it)
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
        RgbaImage image = _stainNormalizer is null ? patch : _stainNormalizer.Normalize(patch).Image;
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
        Tensor probabilities = nn.functional.softmax(Logits(CreateBatch(patches, prepared)), 1);
        return ToRows(probabilities, "probabilities");
    }

    /// <summary>
    /// Class logits <c>[N, classes]</c> (float32) of a preprocessed batch (see <see cref="CreateBatch"/>), computed with
    /// the <see cref="Inference"/> engine; puts <see cref="Network"/> in evaluation mode.
    /// </summary>
    public Tensor Logits(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        (FusedResNet18? engine, OnnxRuntimeResNet18? ort) = InferenceCopy();
        if (ort is not null)
        {
            return ort.Logits(batch);
        }

        if (engine is not null)
        {
            return engine.Logits(batch);
        }

        using var noGrad = no_grad();
        return Network.call(batch);
    }

    /// <summary>
    /// Drops the fused inference copy so that the next call rebuilds it from <see cref="Network"/>; call it after
    /// changing the weights in evaluation mode (loading them, for example). Changes made in training mode are seen
    /// without it.
    /// </summary>
    public void RefreshInference()
    {
        lock (_inferenceLock)
        {
            _fused?.Dispose();
            _fused = null;
            _onnxRuntime?.Dispose();
            _onnxRuntime = null;
        }
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
        Tensor batch = CreateBatch(patches);
        (FusedResNet18? engine, OnnxRuntimeResNet18? ort) = InferenceCopy();
        if (ort is not null)
        {
            return ToRows(ort.Features(batch), "features");
        }

        if (engine is not null)
        {
            return ToRows(engine.Features(batch), "features");
        }

        using var noGrad = no_grad();
        return ToRows(Network.Features(batch), "features");
    }

    /// <summary>The inference copy for the selected engine (rebuilt when stale), or nulls for the plain network; sets eval mode.</summary>
    private (FusedResNet18? Fused, OnnxRuntimeResNet18? OnnxRuntime) InferenceCopy()
    {
        lock (_inferenceLock)
        {
            bool stale = Network.training;
            Network.eval();
            SelfCheck();
            ScalarType? elementType = Inference switch
            {
                InferenceEngine.Plain or InferenceEngine.OnnxRuntime => null,
                InferenceEngine.Fused => ScalarType.Float32,
                InferenceEngine.FusedBFloat16 => ScalarType.BFloat16,
                _ => throw new InvalidOperationException($"unknown inference engine {Inference}"),
            };
            if (_fused is not null && (stale || elementType != _fused.ElementType))
            {
                _fused.Dispose();
                _fused = null;
            }

            if (_onnxRuntime is not null && (stale || Inference != InferenceEngine.OnnxRuntime))
            {
                _onnxRuntime.Dispose();
                _onnxRuntime = null;
            }

            if (elementType is { } type)
            {
                _fused ??= FusedResNet18.Create(Network, type);
            }
            else if (Inference == InferenceEngine.OnnxRuntime)
            {
                _onnxRuntime ??= OnnxRuntimeResNet18.Create(Network);
            }

            return (elementType is null ? null : _fused, _onnxRuntime);
        }
    }

    /// <summary>
    /// Before the first batch of an engine in this process, compares it with the NCHW fp32 network on a fixed probe
    /// (<see cref="EngineSelfCheck.CheckOnce"/>); a wrong engine is replaced by the NCHW fp32 network, which is the
    /// reference itself, once that has been confirmed against ONNX Runtime (<see cref="EngineSelfCheck.ReplaceIfWrong"/>).
    /// </summary>
    /// <exception cref="HistoException">No engine is known to be correct on this CPU.</exception>
    private void SelfCheck()
    {
        if (Inference == InferenceEngine.Plain && !Network.ChannelsLast)
        {
            return;
        }

        if (EngineSelfCheck.ReplaceIfWrong(Inference, Network) is { } replaced)
        {
            _inference = InferenceEngine.Plain;
            Network.ChannelsLast = false;
            _replacedEngine = replaced;
        }
    }

    /// <summary>The rows of a [N, D] float32 matrix; a NaN or infinity (finite weights can still overflow) is an error, never an output.</summary>
    private static float[][] ToRows(Tensor matrix, string what)
    {
        float[] flat = matrix.contiguous().data<float>().ToArray();
        if (Array.FindIndex(flat, v => !float.IsFinite(v)) is int bad and >= 0)
        {
            throw new HistoModelException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the model computed a non-finite value ({flat[bad]}) among the {what} of patch {bad / Math.Max(1, (int)matrix.shape[1]) + 1} of a batch: its weights overflow (retrain or restore the model)"));
        }

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
    public void Dispose()
    {
        _fused?.Dispose();
        _onnxRuntime?.Dispose();
        Network.Dispose();
    }
}

/// <summary>How a <see cref="PatchClassifier"/> runs its network for inference.</summary>
public enum InferenceEngine
{
    /// <summary>
    /// A TorchSharp copy of the network with batch normalisation folded into the convolutions, channels-last, fp32;
    /// the default. Equal to <see cref="Plain"/> up to float rounding.
    /// </summary>
    Fused,

    /// <summary>
    /// The network written as ONNX in memory (batch normalisation folded) and run by ONNX Runtime's CPU provider,
    /// fp32. Equal to <see cref="Plain"/> up to float rounding.
    /// </summary>
    OnnxRuntime,

    /// <summary>The TorchSharp module itself, in evaluation mode under <c>no_grad</c>.</summary>
    Plain,

    /// <summary>
    /// The fused copy with bfloat16 weights and activations (about 2x faster on CPUs with AVX512-BF16); probabilities
    /// differ from fp32 by up to a few 1e-3 (bench row <c>infer_bf16_vs_onnxruntime</c>).
    /// </summary>
    FusedBFloat16,
}
