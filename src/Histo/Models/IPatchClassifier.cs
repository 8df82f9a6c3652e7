using Histo.Imaging;

namespace Histo.Models;

/// <summary>
/// A trained patch classifier as the whole-slide pipeline sees it: patches in (already cut at the card's µm/px and
/// patch size), class probabilities out. Implementations apply the card's stain normalisation and preprocessing.
/// </summary>
public interface IPatchClassifier : IDisposable
{
    /// <summary>The model card.</summary>
    ModelCard Card { get; }

    /// <summary>Class probabilities (rows sum to 1), one row per patch, in the card's class order.</summary>
    float[][] Predict(IReadOnlyList<RgbaImage> patches, CancellationToken cancellationToken = default);
}
