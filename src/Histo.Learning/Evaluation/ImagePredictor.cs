using Histo.Datasets;
using Histo.Evaluation;
using Histo.Imaging;
using Histo.Learning.Models;
using Histo.Patches;
using Histo.Slides;

namespace Histo.Learning.Evaluation;

/// <summary>Options of <see cref="ImagePredictor"/>.</summary>
public sealed record ImagePredictionOptions
{
    /// <summary>Also run the 7 other dihedral transforms (rotations and flips) of every patch and average all 8.</summary>
    public bool TestTimeAugmentation { get; init; }

    /// <summary>Patches per network call (default 32).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// Read the image's µm/px from its file (TIFF resolution tags) and bring it to the model's µm/px before tiling
    /// (default true). Images without a recorded resolution are used at native scale.
    /// </summary>
    public bool UseImageMpp { get; init; } = true;
}

/// <summary>An image to predict: its path and, optionally, how to decode it (default: <see cref="ImageIO.Load"/>).</summary>
/// <param name="Path">The image file.</param>
/// <param name="Load">Decoder, e.g. <see cref="Dataset.LoadImage"/> to apply a dataset's size policy; null for the plain file.</param>
public sealed record ImageInput(string Path, Func<RgbaImage>? Load = null);

/// <summary>
/// Image-level prediction with a <see cref="PatchClassifier"/>: each image is cut into model-sized patches
/// (<see cref="ImageTiling"/>), optionally multiplied by the 8 dihedral transforms, the patches of many images are run
/// in shared batches, and each image gets the mean of its patches' probabilities (or pooled features).
/// </summary>
public sealed class ImagePredictor
{
    private readonly PatchClassifier _classifier;

    /// <summary>Wraps a classifier (not owned).</summary>
    public ImagePredictor(PatchClassifier classifier, ImagePredictionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        _classifier = classifier;
        Options = options ?? new ImagePredictionOptions();
        if (Options.BatchSize <= 0)
        {
            throw new InvalidParameterException($"batch size must be positive, got {Options.BatchSize}");
        }
    }

    /// <summary>The options in use.</summary>
    public ImagePredictionOptions Options { get; }

    /// <summary>Class probabilities per image (rows sum to 1), in the model card's class order.</summary>
    /// <exception cref="HistoException">An image cannot be read.</exception>
    public float[][] Predict(IReadOnlyList<ImageInput> images, IProgress<DatasetProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(images, "predicting", (batch, ct) => _classifier.Predict(batch, ct), _classifier.Card.Classes.Count, progress, cancellationToken);

    /// <summary>Mean pooled features (<see cref="ResNet18Variant.FeatureCount"/> per image) over each image's patches.</summary>
    /// <exception cref="HistoException">An image cannot be read.</exception>
    public float[][] Embed(IReadOnlyList<ImageInput> images, IProgress<DatasetProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(images, "embedding", (batch, ct) => _classifier.Embed(batch, ct), ResNet18Variant.FeatureCount, progress, cancellationToken);

    /// <summary>The patches the network sees for one image, in order (tiles, each followed by its transforms under TTA).</summary>
    public List<RgbaImage> PatchesOf(ImageInput image)
    {
        ArgumentNullException.ThrowIfNull(image);
        RgbaImage decoded = image.Load is null ? ImageIO.Load(image.Path) : image.Load();
        double? imageMpp = Options.UseImageMpp ? ImageFileResolution.TryReadMpp(image.Path) : null;
        List<RgbaImage> tiles = ImageTiling.Cut(decoded, _classifier.Card.PatchSizePixels, imageMpp, _classifier.Card.Mpp, _classifier.Card.CropStridePixels);
        if (!Options.TestTimeAugmentation)
        {
            return tiles;
        }

        var augmented = new List<RgbaImage>(tiles.Count * Dihedral.All.Count);
        foreach (RgbaImage tile in tiles)
        {
            foreach (DihedralTransform transform in Dihedral.All)
            {
                augmented.Add(transform == DihedralTransform.Identity ? tile : Dihedral.Apply(tile, transform));
            }
        }

        return augmented;
    }

    private float[][] Run(IReadOnlyList<ImageInput> images, string stage,
        Func<IReadOnlyList<RgbaImage>, CancellationToken, float[][]> forward, int width,
        IProgress<DatasetProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(images);
        var sums = new double[images.Count][];
        var counts = new int[images.Count];
        var pending = new List<RgbaImage>(Options.BatchSize);
        var owners = new List<int>(Options.BatchSize);
        int finished = 0;
        progress?.Report(new DatasetProgress(stage, 0, images.Count));

        void Flush(int completeBelow)
        {
            if (pending.Count > 0)
            {
                float[][] rows = forward(pending, cancellationToken);
                for (int i = 0; i < rows.Length; i++)
                {
                    double[] sum = sums[owners[i]];
                    float[] row = rows[i];
                    for (int j = 0; j < width; j++)
                    {
                        sum[j] += row[j];
                    }
                }

                pending.Clear();
                owners.Clear();
            }

            if (completeBelow > finished)
            {
                finished = completeBelow;
                progress?.Report(new DatasetProgress(stage, finished, images.Count));
            }
        }

        for (int index = 0; index < images.Count; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sums[index] = new double[width];
            List<RgbaImage> patches = PatchesOf(images[index]);
            counts[index] = patches.Count;
            foreach (RgbaImage patch in patches)
            {
                pending.Add(patch);
                owners.Add(index);
                if (pending.Count == Options.BatchSize)
                {
                    Flush(index); // the images before this one are complete
                }
            }
        }

        Flush(images.Count);
        var result = new float[images.Count][];
        for (int i = 0; i < images.Count; i++)
        {
            result[i] = new float[width];
            for (int j = 0; j < width; j++)
            {
                result[i][j] = (float)(sums[i][j] / counts[i]);
            }
        }

        return result;
    }
}
