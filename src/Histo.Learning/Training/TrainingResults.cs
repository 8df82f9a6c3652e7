using System.Globalization;
using System.Text;
using Histo.Evaluation;

namespace Histo.Learning.Training;

/// <summary>One line of <c>history.csv</c>: an epoch of a fold or of the final model.</summary>
/// <param name="Fold">"1".."K", or "final".</param>
/// <param name="Epoch">Epoch 1..E.</param>
/// <param name="TrainLoss">Mean training loss over the epoch.</param>
/// <param name="ValLoss">Mean validation cross-entropy (null for the final model).</param>
/// <param name="ValBalancedAccuracy">Validation balanced accuracy (null for the final model).</param>
/// <param name="ValMacroF1">Validation macro F1 (null for the final model).</param>
/// <param name="LearningRate">Learning rate at the end of the epoch.</param>
/// <param name="ImagesPerSecond">Training images per second.</param>
/// <param name="Seconds">Wall time of the epoch (training and validation).</param>
public sealed record HistoryRow(
    string Fold, int Epoch, double TrainLoss, double? ValLoss, double? ValBalancedAccuracy, double? ValMacroF1,
    double LearningRate, double ImagesPerSecond, double Seconds);

/// <summary>The result of one cross-validation fold, at its best epoch on validation balanced accuracy.</summary>
/// <param name="Fold">Fold 1..K.</param>
/// <param name="TrainCount">Training images.</param>
/// <param name="ValidationCount">Validation images.</param>
/// <param name="BestEpoch">The epoch kept.</param>
/// <param name="Metrics">Validation metrics at that epoch.</param>
public sealed record FoldResult(int Fold, int TrainCount, int ValidationCount, int BestEpoch, ClassificationMetrics Metrics);

/// <summary>Cross-validation figures: fold mean ± sample sd, and metrics with bootstrap intervals on the pooled out-of-fold predictions.</summary>
/// <param name="BalancedAccuracyMean">Mean of the folds' balanced accuracies.</param>
/// <param name="BalancedAccuracySd">Sample standard deviation of the folds' balanced accuracies.</param>
/// <param name="MacroF1Mean">Mean of the folds' macro F1.</param>
/// <param name="MacroF1Sd">Sample standard deviation of the folds' macro F1.</param>
/// <param name="Pooled">Metrics of all out-of-fold predictions together.</param>
/// <param name="BalancedAccuracyInterval">Bootstrap 95 % interval of the pooled balanced accuracy.</param>
/// <param name="MacroF1Interval">Bootstrap 95 % interval of the pooled macro F1.</param>
public sealed record CrossValidationSummary(
    double BalancedAccuracyMean, double BalancedAccuracySd, double MacroF1Mean, double MacroF1Sd,
    ClassificationMetrics Pooled, ConfidenceInterval BalancedAccuracyInterval, ConfidenceInterval MacroF1Interval);

/// <summary>What a training run produced.</summary>
/// <param name="ModelDirectory">The complete model directory.</param>
/// <param name="Folds">Per-fold results.</param>
/// <param name="CrossValidation">The CV summary.</param>
/// <param name="Final">What the final model is.</param>
/// <param name="FinalEpochs">Epochs of the all-data model (null for best-fold).</param>
/// <param name="BestFold">The fold whose weights were kept (best-fold only).</param>
/// <param name="InputSizePixels">Network input side.</param>
/// <param name="Elapsed">Wall time of the run (across resumes).</param>
/// <param name="Resumed">Whether the run continued from a checkpoint.</param>
public sealed record TrainingResult(
    string ModelDirectory, IReadOnlyList<FoldResult> Folds, CrossValidationSummary CrossValidation, FinalModelChoice Final,
    int? FinalEpochs, int? BestFold, int InputSizePixels, TimeSpan Elapsed, bool Resumed);

/// <summary>The CSV files of a model directory, whose formats other tools (<c>histo report</c>) read.</summary>
public static class TrainingFiles
{
    /// <summary>Per-epoch history.</summary>
    public const string HistoryFileName = "history.csv";

    /// <summary>Out-of-fold predictions.</summary>
    public const string PredictionsFileName = "cv_predictions.csv";

    /// <summary>The saved split.</summary>
    public const string SplitFileName = "split.json";

    /// <summary>The checkpoint folder inside a model directory during a run.</summary>
    public const string CheckpointDirectoryName = "checkpoints";

    /// <summary>Header of <c>history.csv</c>.</summary>
    public const string HistoryHeader = "fold,epoch,train_loss,val_loss,val_balanced_accuracy,val_macro_f1,learning_rate,images_per_second,seconds";

    /// <summary>Header of <c>cv_predictions.csv</c> for the given classes: <c>path,group,fold,truth,p_&lt;class&gt;...</c>.</summary>
    public static string PredictionsHeader(IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        return "path,group,fold,truth," + string.Join(',', classes.Select(c => Escape("p_" + c)));
    }

    /// <summary>The text of <c>history.csv</c>.</summary>
    public static string HistoryCsv(IEnumerable<HistoryRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder(HistoryHeader).Append('\n');
        foreach (HistoryRow r in rows)
        {
            text.Append(inv, $"{r.Fold},{r.Epoch},{r.TrainLoss:0.######},{Optional(r.ValLoss)},{Optional(r.ValBalancedAccuracy)},{Optional(r.ValMacroF1)},{r.LearningRate:0.##########},{r.ImagesPerSecond:0.#},{r.Seconds:0.##}\n");
        }

        return text.ToString();
    }

    /// <summary>A CSV text field (<see cref="Histo.IO.CsvText.Field"/>: quoted when needed, formulas neutralised).</summary>
    public static string Escape(string field) => Histo.IO.CsvText.Field(field);

    private static string Optional(double? value) =>
        value is { } v ? v.ToString("0.######", CultureInfo.InvariantCulture) : "";
}
