using System.Globalization;
using Histo.Evaluation;
using Histo.IO;
using Histo.Learning.Evaluation;
using Histo.Models;

namespace Histo.Learning.Reports;

/// <summary>
/// The report of a training run: <c>confusion.png</c> (pooled out-of-fold confusion matrix), <c>curves.png</c>
/// (loss and validation balanced accuracy per epoch per fold) and <c>index.html</c> (cross-validation metrics with
/// bootstrap intervals, per-fold figures as mean ± sd, per-class figures, the two images, the model card), built from
/// the model directory's <c>history.csv</c>, <c>cv_predictions.csv</c> (see <see cref="TrainingRecords"/>) and
/// <c>model.json</c> (optional).
/// </summary>
public static class TrainingReport
{
    /// <summary>Default report folder inside a model directory.</summary>
    public const string DefaultFolderName = "report";

    /// <summary>File name of the confusion matrix figure.</summary>
    public const string ConfusionFileName = "confusion.png";

    /// <summary>File name of the training curves figure.</summary>
    public const string CurvesFileName = "curves.png";

    /// <summary>File name of the HTML page.</summary>
    public const string IndexFileName = "index.html";

    /// <summary>
    /// Writes the report into <paramref name="outputDirectory"/> (default <c>MODEL/report</c>) atomically: the files
    /// are written into a staging folder that replaces the output folder only when complete.
    /// </summary>
    /// <exception cref="ReportInputException">A record is missing or malformed.</exception>
    public static void Write(string modelDirectory, string? outputDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new ReportInputException($"{modelDirectory}: model directory not found");
        }

        List<HistoryRow> history = TrainingRecords.ReadHistory(Path.Combine(modelDirectory, TrainingRecords.HistoryFileName));
        var (classes, predictions) = TrainingRecords.ReadPredictions(Path.Combine(modelDirectory, TrainingRecords.PredictionsFileName));
        ModelCard? card = File.Exists(Path.Combine(modelDirectory, ModelCard.FileName)) ? ModelCard.Load(modelDirectory) : null;
        if (card is not null && !card.Classes.SequenceEqual(classes, StringComparer.Ordinal))
        {
            throw new ReportInputException($"{TrainingRecords.PredictionsFileName} has classes [{string.Join(", ", classes)}] but the model card [{string.Join(", ", card.Classes)}]");
        }

        IReadOnlyList<int>? codes = card is { HasBachCodes: true } ? card.BachCodes : ModelCard.InferBachCodes(classes);
        var pooled = new EvaluationResult(classes, codes, [.. predictions.Select(p => p.Prediction)]);
        string[] folds = [.. predictions.Select(p => p.Fold).Distinct(StringComparer.Ordinal).Order(FoldOrder.Instance)];
        var perFold = folds.Select(f =>
        {
            CrossValidationPrediction[] rows = [.. predictions.Where(p => p.Fold == f)];
            return (Fold: f, Metrics: ClassificationMetrics.Compute(classes, [.. rows.Select(r => r.Prediction.TruthIndex)], [.. rows.Select(r => r.Prediction.Probabilities)], codes));
        }).ToList();

        string output = outputDirectory ?? Path.Combine(modelDirectory, DefaultFolderName);
        AtomicFile.WriteDirectory(output, staging =>
        {
            ReportPlots.SaveConfusion(Path.Combine(staging, ConfusionFileName), classes, pooled.Metrics.Confusion, "out-of-fold predictions (pooled)");
            ReportPlots.SaveCurves(Path.Combine(staging, CurvesFileName), history);
            var html = new HtmlReport($"Training report: {Path.GetFileName(Path.GetFullPath(modelDirectory).TrimEnd(Path.DirectorySeparatorChar))}");
            html.Heading("Cross-validation (pooled out-of-fold predictions)");
            html.Paragraph(string.Create(CultureInfo.InvariantCulture,
                $"{pooled.Metrics.Count} images in {folds.Length} folds; intervals are 95 % percentile bootstrap over images ({EvaluationResult.BootstrapResamples} resamples)."));
            html.Metrics(pooled);
            html.Heading("Per fold");
            bool binary = pooled.Metrics.BinaryAccuracy is not null;
            var foldRows = perFold.Select(f => (IReadOnlyList<string>)
            [
                f.Fold, f.Metrics.Count.ToString(CultureInfo.InvariantCulture), HtmlReport.Format(f.Metrics.Accuracy),
                .. binary ? [HtmlReport.Format(f.Metrics.BinaryAccuracy)] : Array.Empty<string>(),
                HtmlReport.Format(f.Metrics.BalancedAccuracy), HtmlReport.Format(f.Metrics.MacroF1), BestEpoch(history, f.Fold),
            ]).ToList();
            foldRows.Add(["mean ± sd", "", MeanSd(perFold.Select(f => f.Metrics.Accuracy)),
                .. binary ? [MeanSd(perFold.Select(f => f.Metrics.BinaryAccuracy ?? double.NaN))] : Array.Empty<string>(),
                MeanSd(perFold.Select(f => f.Metrics.BalancedAccuracy)), MeanSd(perFold.Select(f => f.Metrics.MacroF1)), ""]);
            html.Table(["fold", "images", "accuracy", .. binary ? ["binary accuracy (carcinoma vs not)"] : Array.Empty<string>(),
                "balanced accuracy", "macro F1", "best epoch (val balanced accuracy)"], foldRows);
            html.Heading("Per class (pooled out-of-fold; sensitivity and specificity as in the BACH paper's Table 4)");
            html.PerClass(pooled.Metrics);
            html.Heading("Confusion matrix (pooled out-of-fold; rows: truth, columns: predicted)");
            html.Confusion(pooled.Metrics);
            html.Image(ConfusionFileName, "confusion matrix");
            html.Heading("Training curves");
            html.Image(CurvesFileName, "loss and validation balanced accuracy per epoch");
            HistoryRow[] final = [.. history.Where(h => h.Fold == "final")];
            if (final.Length > 0)
            {
                html.Paragraph(string.Create(CultureInfo.InvariantCulture,
                    $"Final model: trained on all data for {final.Length} epochs, last training loss {final[^1].TrainLoss:0.0000}, {final.Sum(h => h.Seconds):0} s."));
            }

            if (card is not null)
            {
                html.Card(card);
            }

            File.WriteAllText(Path.Combine(staging, IndexFileName), html.ToString());
        });
    }

    private static string BestEpoch(IReadOnlyList<HistoryRow> history, string fold)
    {
        HistoryRow? best = history.Where(h => h.Fold == fold && h.ValBalancedAccuracy is not null).MaxBy(h => h.ValBalancedAccuracy);
        return best is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{best.Epoch} ({best.ValBalancedAccuracy:0.0000})");
    }

    /// <summary>Mean ± sample standard deviation of the finite values.</summary>
    internal static string MeanSd(IEnumerable<double> values)
    {
        double[] v = [.. values.Where(double.IsFinite)];
        if (v.Length == 0)
        {
            return "n/a";
        }

        double mean = v.Average();
        double sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return string.Create(CultureInfo.InvariantCulture, $"{mean:0.0000} ± {sd:0.0000}");
    }

    /// <summary>Numeric folds in numeric order, then anything else.</summary>
    private sealed class FoldOrder : IComparer<string>
    {
        public static readonly FoldOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            bool xn = int.TryParse(x, CultureInfo.InvariantCulture, out int xi);
            bool yn = int.TryParse(y, CultureInfo.InvariantCulture, out int yi);
            return xn && yn ? xi.CompareTo(yi) : xn ? -1 : yn ? 1 : string.CompareOrdinal(x, y);
        }
    }
}

/// <summary>The report of one evaluation (<c>histo evaluate --report DIR</c>): <c>confusion.png</c> and <c>index.html</c>.</summary>
public static class EvaluationReport
{
    /// <summary>Writes the report into <paramref name="outputDirectory"/> atomically (staged folder).</summary>
    /// <param name="outputDirectory">The report folder (replaced when complete).</param>
    /// <param name="result">The evaluation.</param>
    /// <param name="card">The evaluated model's card.</param>
    /// <param name="modelDirectory">The model directory, for the title.</param>
    /// <param name="datasetDescription">What was evaluated (the dataset paths).</param>
    /// <param name="testTimeAugmentation">Whether 8-fold TTA was used.</param>
    public static void Write(string outputDirectory, EvaluationResult result, ModelCard card, string modelDirectory, string datasetDescription, bool testTimeAugmentation)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(card);
        AtomicFile.WriteDirectory(outputDirectory, staging =>
        {
            ReportPlots.SaveConfusion(Path.Combine(staging, TrainingReport.ConfusionFileName), result.Labels, result.Metrics.Confusion, "evaluation");
            var html = new HtmlReport($"Evaluation of {Path.GetFileName(Path.GetFullPath(modelDirectory).TrimEnd(Path.DirectorySeparatorChar))}");
            html.Paragraph($"Dataset: {datasetDescription}. Image-level predictions average the patch probabilities{(testTimeAugmentation ? " over 8 dihedral transforms (TTA)" : "")}.");
            html.Metrics(result);
            html.Heading("Per class");
            html.PerClass(result.Metrics);
            html.Heading("Confusion matrix (rows: truth, columns: predicted)");
            html.Confusion(result.Metrics);
            html.Image(TrainingReport.ConfusionFileName, "confusion matrix");
            html.Card(card);
            File.WriteAllText(Path.Combine(staging, TrainingReport.IndexFileName), html.ToString());
        });
    }
}
