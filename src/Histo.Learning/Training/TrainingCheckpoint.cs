using System.Text.Json;
using System.Text.Json.Serialization;
using Histo.IO;

namespace Histo.Learning.Training;

/// <summary>A finished fold as kept in the checkpoint: its best epoch and that epoch's validation predictions.</summary>
internal sealed class FoldRecord
{
    [JsonPropertyName("fold")] public int Fold { get; set; }
    [JsonPropertyName("train_count")] public int TrainCount { get; set; }
    [JsonPropertyName("best_epoch")] public int BestEpoch { get; set; }
    [JsonPropertyName("best_balanced_accuracy")] public double BestBalancedAccuracy { get; set; }
    [JsonPropertyName("items")] public int[] Items { get; set; } = [];
    [JsonPropertyName("predictions")] public List<float[]> Predictions { get; set; } = [];
}

/// <summary>
/// Everything a run needs to continue after a kill: which phase (fold 1..K, or 0 = final) and how many of its epochs
/// are done, the files holding the weights and optimiser state after that epoch, the best epoch so far, the history
/// and the finished folds. Shuffling, augmentation and dropout are re-seeded from (seed, fold, epoch) at every epoch,
/// so no random-generator state has to be stored. Written atomically after the weight files it names.
/// </summary>
internal sealed class TrainingCheckpoint
{
    public const string FileName = "state.json";
    public const int CurrentFormat = 1;

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    [JsonPropertyName("format")] public int Format { get; set; } = CurrentFormat;
    [JsonPropertyName("recipe_key")] public string RecipeKey { get; set; } = "";
    [JsonPropertyName("phase_fold")] public int PhaseFold { get; set; } = 1;
    [JsonPropertyName("epochs_done")] public int EpochsDone { get; set; }
    [JsonPropertyName("weights_file")] public string? WeightsFile { get; set; }
    [JsonPropertyName("optimizer_file")] public string? OptimizerFile { get; set; }
    [JsonPropertyName("best_epoch")] public int BestEpoch { get; set; }
    [JsonPropertyName("best_balanced_accuracy")] public double BestBalancedAccuracy { get; set; } = -1;
    [JsonPropertyName("best_predictions")] public List<float[]>? BestPredictions { get; set; }
    [JsonPropertyName("history")] public List<HistoryRow> History { get; set; } = [];
    [JsonPropertyName("folds")] public List<FoldRecord> Folds { get; set; } = [];
    [JsonPropertyName("final_epochs")] public int? FinalEpochs { get; set; }
    [JsonPropertyName("elapsed_seconds")] public double ElapsedSeconds { get; set; }

    public static TrainingCheckpoint? TryLoad(string checkpointDirectory)
    {
        string path = Path.Combine(checkpointDirectory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var state = JsonSerializer.Deserialize<TrainingCheckpoint>(Histo.IO.InputFile.ReadAllText(path, 64L << 20, "a training checkpoint"), Options);
            if (state == null || state.Format != CurrentFormat)
            {
                string problem = $"{path}: checkpoint format is not supported by this Histo";
                throw new TrainingRefusedException(TrainingRefusal.CheckpointUnsupported, path, problem, $"{problem}; start again, replacing the run");
            }

            return state;
        }
        catch (JsonException e)
        {
            string problem = $"{path}: malformed checkpoint ({e.Message})";
            throw new TrainingRefusedException(TrainingRefusal.CheckpointMalformed, path, problem, $"{problem}; start again, replacing the run", e);
        }
    }

    public void Save(string checkpointDirectory) =>
        AtomicFile.WriteAllText(Path.Combine(checkpointDirectory, FileName), JsonSerializer.Serialize(this, Options));
}
