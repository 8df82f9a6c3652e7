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

    /// <summary>
    /// The engine that runs the network, after its start-up self-check (reading it runs the check if it has not run
    /// yet in this process).
    /// </summary>
    EngineUsage Engine { get; }

    /// <summary>Class probabilities (rows sum to 1), one row per patch, in the card's class order.</summary>
    float[][] Predict(IReadOnlyList<RgbaImage> patches, CancellationToken cancellationToken = default);
}

/// <summary>
/// A classifier whose preprocessing (stain normalisation, resize to the network input) can run apart from the
/// network, so a pipeline can do it on its reader threads while the network computes the previous batch.
/// </summary>
public interface IPreparingPatchClassifier : IPatchClassifier
{
    /// <summary>The patch as the network takes it (thread-safe).</summary>
    RgbaImage Prepare(RgbaImage patch);

    /// <summary>Class probabilities of patches already passed through <see cref="Prepare"/>.</summary>
    float[][] PredictPrepared(IReadOnlyList<RgbaImage> preparedPatches, CancellationToken cancellationToken = default);
}
