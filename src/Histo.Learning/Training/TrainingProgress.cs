namespace Histo.Learning.Training;

/// <summary>What a training run is doing.</summary>
public enum TrainingStage
{
    /// <summary>Decoding and preprocessing the images once (and checking they are readable).</summary>
    Preparing,

    /// <summary>Optimising on the training images.</summary>
    Training,

    /// <summary>Predicting the validation images.</summary>
    Validating,

    /// <summary>An epoch finished; the epoch fields hold its results.</summary>
    EpochDone,
}

/// <summary>A progress report of <see cref="Trainer"/>.</summary>
/// <param name="Stage">What is running.</param>
/// <param name="Fold">Cross-validation fold 1..K, or 0 for the final model.</param>
/// <param name="FoldCount">K.</param>
/// <param name="Epoch">Epoch 1..<paramref name="EpochCount"/> of the current fold or final model.</param>
/// <param name="EpochCount">Epochs of the current fold or final model.</param>
/// <param name="Batch">Batches done in the current stage.</param>
/// <param name="BatchCount">Batches of the current stage.</param>
/// <param name="ImagesPerSecond">Training throughput of the current epoch.</param>
/// <param name="Eta">Estimated time to the end of the whole run, or null before it can be estimated.</param>
/// <param name="TrainLoss">Mean training loss of the epoch so far.</param>
/// <param name="ValBalancedAccuracy">Validation balanced accuracy of the last finished epoch (null for the final model).</param>
/// <param name="ResidentBytes">Resident memory of the process.</param>
public readonly record struct TrainingProgress(
    TrainingStage Stage,
    int Fold,
    int FoldCount,
    int Epoch,
    int EpochCount,
    int Batch,
    int BatchCount,
    double ImagesPerSecond,
    TimeSpan? Eta,
    double TrainLoss,
    double? ValBalancedAccuracy,
    long ResidentBytes)
{
    /// <summary>"fold 2/3" or "final".</summary>
    public string PhaseName => Fold == 0 ? "final" : $"fold {Fold}/{FoldCount}";
}
