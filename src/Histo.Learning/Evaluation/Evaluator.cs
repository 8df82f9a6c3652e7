using System.Text.Json.Nodes;
using Histo.Datasets;
using Histo.Evaluation;
using Histo.Learning.Models;
using Histo.Models;

namespace Histo.Learning.Evaluation;

/// <summary>One image's prediction.</summary>
/// <param name="Path">The image file.</param>
/// <param name="Group">Its group (patient or source image), or empty when unknown.</param>
/// <param name="TruthIndex">The true class as an index into the model's classes, or -1 when unlabelled.</param>
/// <param name="Probabilities">Probabilities in the model's class order.</param>
public sealed record ImagePrediction(string Path, string Group, int TruthIndex, float[] Probabilities)
{
    /// <summary>The predicted class index (arg-max of the probabilities).</summary>
    public int PredictedIndex => ClassificationMetrics.ArgMax(Probabilities);
}

/// <summary>Metrics of a set of labelled predictions, with percentile-bootstrap intervals on the headline figures.</summary>
public sealed class EvaluationResult
{
    /// <summary>Number of bootstrap resamples behind the intervals.</summary>
    public const int BootstrapResamples = 1000;

    /// <summary>Computes the metrics and the 95 % bootstrap intervals (seeded, resampling images) of balanced accuracy and macro F1.</summary>
    /// <param name="labels">Class names (the model's).</param>
    /// <param name="bachCodes">BACH code per class, or null.</param>
    /// <param name="predictions">Predictions, each with a truth index into <paramref name="labels"/>.</param>
    public EvaluationResult(IReadOnlyList<string> labels, IReadOnlyList<int>? bachCodes, IReadOnlyList<ImagePrediction> predictions)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(predictions);
        if (predictions.Count == 0)
        {
            throw new HistoException("nothing to evaluate: no labelled images");
        }

        Labels = labels;
        Predictions = predictions;
        int[] truth = [.. predictions.Select(p => p.TruthIndex)];
        Metrics = ClassificationMetrics.Compute(labels, truth, [.. predictions.Select(p => p.Probabilities)], bachCodes);
        int[] predicted = [.. predictions.Select(p => p.PredictedIndex)];
        BalancedAccuracyInterval = Bootstrap.Interval(truth.Length, sample => Headline(labels, truth, predicted, sample).BalancedAccuracy, BootstrapResamples);
        MacroF1Interval = Bootstrap.Interval(truth.Length, sample => Headline(labels, truth, predicted, sample).MacroF1, BootstrapResamples);
    }

    /// <summary>Class names, in the model's order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The per-image predictions.</summary>
    public IReadOnlyList<ImagePrediction> Predictions { get; }

    /// <summary>The metrics.</summary>
    public ClassificationMetrics Metrics { get; }

    /// <summary>95 % percentile-bootstrap interval of the balanced accuracy.</summary>
    public ConfidenceInterval BalancedAccuracyInterval { get; }

    /// <summary>95 % percentile-bootstrap interval of the macro F1.</summary>
    public ConfidenceInterval MacroF1Interval { get; }

    /// <summary>The engine that computed the predictions, when known.</summary>
    public EngineUsage? Engine { get; init; }

    /// <summary>
    /// <see cref="ClassificationMetrics.ToJson"/> plus <c>bootstrap</c>: <c>level</c>, <c>resamples</c>,
    /// <c>balanced_accuracy</c> and <c>macro_f1</c> as <c>[low, high]</c>, and <c>engine</c> (see <see cref="EngineUsage.ToJson"/>) when known.
    /// </summary>
    public JsonObject ToJson()
    {
        JsonObject json = Metrics.ToJson();
        json["bootstrap"] = new JsonObject
        {
            ["level"] = BalancedAccuracyInterval.Level,
            ["resamples"] = BootstrapResamples,
            ["balanced_accuracy"] = Pair(BalancedAccuracyInterval),
            ["macro_f1"] = Pair(MacroF1Interval),
        };
        if (Engine is not null)
        {
            json["engine"] = Engine.ToJson();
        }

        return json;
    }

    private static JsonArray Pair(ConfidenceInterval interval) => [Number(interval.Low), Number(interval.High)];

    private static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(Math.Round(value, 6)) : null;

    /// <summary>Balanced accuracy and macro F1 of a resample, from its confusion matrix.</summary>
    private static (double BalancedAccuracy, double MacroF1) Headline(IReadOnlyList<string> labels, int[] truth, int[] predicted, IReadOnlyList<int> sample)
    {
        var confusion = new int[labels.Count][];
        for (int c = 0; c < confusion.Length; c++)
        {
            confusion[c] = new int[labels.Count];
        }

        foreach (int i in sample)
        {
            confusion[truth[i]][predicted[i]]++;
        }

        ClassificationMetrics m = ClassificationMetrics.FromConfusion(labels, confusion);
        return (m.BalancedAccuracy, m.MacroF1);
    }
}

/// <summary>Runs a <see cref="PatchClassifier"/> over a labelled <see cref="Dataset"/> and measures it.</summary>
public static class Evaluator
{
    /// <summary>
    /// For each dataset class, the index of the model class with the same name (ignoring case). A dataset may hold a
    /// subset of the model's classes; a class the model does not know throws <see cref="ClassMismatchException"/>.
    /// </summary>
    public static int[] MapClasses(ModelCard card, Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(dataset);
        string[] datasetClasses = [.. dataset.Classes.Select(c => c.Name)];
        int[] map = [.. datasetClasses.Select(name => card.Classes.FindIndex(m => string.Equals(m, name, StringComparison.OrdinalIgnoreCase)))];
        string[] unknown = [.. datasetClasses.Where((_, i) => map[i] < 0)];
        if (unknown.Length > 0)
        {
            throw new ClassMismatchException(datasetClasses, card.Classes, unknown);
        }

        return map;
    }

    /// <summary>Predicts every image of <paramref name="dataset"/> (image-level, see <see cref="ImagePredictor"/>) and computes the metrics.</summary>
    /// <exception cref="ClassMismatchException">The dataset has a class the model does not know.</exception>
    /// <exception cref="HistoException">An image cannot be read.</exception>
    public static EvaluationResult Evaluate(PatchClassifier classifier, Dataset dataset, ImagePredictionOptions? options = null,
        IProgress<DatasetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(dataset);
        int[] map = MapClasses(classifier.Card, dataset);
        var predictor = new ImagePredictor(classifier, options);
        ImageInput[] inputs = [.. dataset.Items.Select(item => new ImageInput(item.Path, () => dataset.LoadImage(item)))];
        float[][] probabilities = predictor.Predict(inputs, progress, cancellationToken);
        var predictions = new ImagePrediction[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            DatasetItem item = dataset.Items[i];
            predictions[i] = new ImagePrediction(item.Path, item.Group, map[item.LabelIndex], probabilities[i]);
        }

        ModelCard card = classifier.Card;
        return new EvaluationResult(card.Classes, card.HasBachCodes ? card.BachCodes : null, predictions) { Engine = classifier.Engine };
    }
}
