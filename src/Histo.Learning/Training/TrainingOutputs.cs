using System.Globalization;
using System.Text;
using Histo.Datasets;
using Histo.Evaluation;
using Histo.IO;
using Histo.Models;

namespace Histo.Learning.Training;

/// <summary>
/// What a training run leaves beside the weights: fold and pooled cross-validation metrics, <c>history.csv</c> and
/// <c>cv_predictions.csv</c> (the card's <c>training</c> node is <see cref="TrainingCard"/>).
/// </summary>
internal static class TrainingOutputs
{
    public static FoldResult ToFoldResult(FoldRecord record, Dataset dataset)
    {
        var labels = dataset.Classes.Select(c => c.Name).ToArray();
        var truth = record.Items.Select(i => dataset.Items[i].LabelIndex).ToArray();
        var metrics = ClassificationMetrics.Compute(labels, truth, record.Predictions, ModelCard.InferBachCodes(labels));
        return new FoldResult(record.Fold, record.TrainCount, record.Items.Length, record.BestEpoch, metrics);
    }

    public static CrossValidationSummary Summarize(TrainingOptions options, Dataset dataset, TrainingCheckpoint state, IReadOnlyList<FoldResult> folds)
    {
        var labels = dataset.Classes.Select(c => c.Name).ToArray();
        var items = state.Folds.SelectMany(f => f.Items).ToArray();
        var probabilities = state.Folds.SelectMany(f => f.Predictions).ToArray();
        var truth = items.Select(i => dataset.Items[i].LabelIndex).ToArray();
        var pooled = ClassificationMetrics.Compute(labels, truth, probabilities, ModelCard.InferBachCodes(labels));
        double Statistic(IReadOnlyList<int> sample, Func<ClassificationMetrics, double> pick)
        {
            var t = sample.Select(s => truth[s]).ToArray();
            var p = sample.Select(s => probabilities[s]).ToArray();
            return pick(ClassificationMetrics.Compute(labels, t, p));
        }

        ulong seed = (ulong)options.Seed;
        var balancedCi = Bootstrap.Interval(items.Length, s => Statistic(s, m => m.BalancedAccuracy), 1000, 0.95, seed);
        var f1Ci = Bootstrap.Interval(items.Length, s => Statistic(s, m => m.MacroF1), 1000, 0.95, seed);
        var bal = folds.Select(f => f.Metrics.BalancedAccuracy).ToArray();
        var f1 = folds.Select(f => f.Metrics.MacroF1).ToArray();
        return new CrossValidationSummary(bal.Average(), SampleSd(bal), f1.Average(), SampleSd(f1), pooled, balancedCi, f1Ci);
    }

    public static double SampleSd(double[] values)
    {
        if (values.Length < 2)
        {
            return 0;
        }

        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }

    public static void WriteHistory(string modelDirectory, TrainingCheckpoint state) =>
        AtomicFile.WriteAllText(Path.Combine(modelDirectory, TrainingFiles.HistoryFileName), TrainingFiles.HistoryCsv(state.History));

    public static void WritePredictions(string modelDirectory, Dataset dataset, TrainingCheckpoint state, int[] foldOf)
    {
        var inv = CultureInfo.InvariantCulture;
        var classes = dataset.Classes.Select(c => c.Name).ToArray();
        var text = new StringBuilder(TrainingFiles.PredictionsHeader(classes)).Append('\n');
        var rows = state.Folds.SelectMany(f => f.Items.Zip(f.Predictions)).OrderBy(r => r.First).ToList();
        foreach (var (item, p) in rows)
        {
            DatasetItem d = dataset.Items[item];
            text.Append(TrainingFiles.Escape(d.Path)).Append(',').Append(TrainingFiles.Escape(d.Group)).Append(',')
                .Append((foldOf[item] + 1).ToString(inv)).Append(',').Append(TrainingFiles.Escape(classes[d.LabelIndex]));
            foreach (float v in p)
            {
                text.Append(',').Append(v.ToString("0.######", inv));
            }

            text.Append('\n');
        }

        AtomicFile.WriteAllText(Path.Combine(modelDirectory, TrainingFiles.PredictionsFileName), text.ToString());
    }
}
