using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Histo.Color;
using Histo.Datasets;
using Histo.Evaluation;
using Histo.Imaging;
using Histo.IO;
using Histo.Learning.Models;
using Histo.Models;
using Histo.Patches;
using TorchSharp;
using static TorchSharp.torch;

namespace Histo.Learning.Training;

/// <summary>
/// What a training run leaves beside the weights: fold and pooled cross-validation metrics, <c>history.csv</c>,
/// <c>cv_predictions.csv</c>, and the card's <c>training</c> node (dataset, recipe, leak check, folds, CV, final model).
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

    public static JsonObject TrainingNode(TrainingOptions options, Dataset dataset, LeakReport leaks, int inputSize, TrainingRunOptions run, IReadOnlyList<FoldResult> folds,
        CrossValidationSummary cv, TrainingCheckpoint state, int? bestFold, TimeSpan elapsed, CropPlan? crops, PreparedImages images, bool mixed)
    {
        var summary = DatasetSummary.Of(dataset);
        var recipe = options.ToJson();
        recipe["input_size_pixels"] = inputSize;
        recipe["crop_size_pixels"] = crops?.SizePixels;
        recipe["crop_stride_pixels"] = crops?.StridePixels;
        recipe["crops"] = images.Count;
        recipe["image_prediction"] = crops is null ? "whole image" : "mean of the crop probabilities";
        recipe["precision"] = mixed ? "bf16-mixed (fp32 master weights)" : "fp32";
        recipe["init"] = run.InitModelDirectory is { } init ? Path.GetFullPath(init) : "imagenet (ML.NET ResNet18 featurizer)";
        var foldArray = new JsonArray();
        foreach (FoldResult f in folds)
        {
            var m = f.Metrics.ToJson();
            m["fold"] = f.Fold;
            m["train_images"] = f.TrainCount;
            m["validation_images"] = f.ValidationCount;
            m["best_epoch"] = f.BestEpoch;
            foldArray.Add(m);
        }

        var datasetNode = new JsonObject
        {
            ["sources"] = new JsonArray([.. dataset.Sources.Select(s => (JsonNode)new JsonObject
            {
                ["path"] = s.Path, ["scheme"] = s.Scheme, ["images"] = s.ItemCount,
                ["usual_width_pixels"] = s.UsualWidthPixels, ["usual_height_pixels"] = s.UsualHeightPixels,
            })]),
            ["images"] = summary.ImageCount,
            ["groups"] = summary.GroupCount,
            ["group_kind"] = string.Join("+", summary.GroupCountsByKind.Where(kv => kv.Value > 0).Select(kv => kv.Key.ToString().ToLowerInvariant())),
            ["images_per_class"] = new JsonObject(dataset.Classes.Select((c, i) => KeyValuePair.Create(c.Name, (JsonNode?)dataset.CountsPerClass[i]))),
            ["problems"] = dataset.Problems.Count,
            ["mpp"] = dataset.Mpp, ["mpp_source"] = dataset.MppSource.ToString().ToLowerInvariant(),
        };
        string finalText = options.Final == FinalModelChoice.BestFold
            ? $"weights of fold {bestFold} at its best epoch (best validation balanced accuracy of the folds)"
            : $"trained on all {dataset.Items.Count} images for {state.FinalEpochs} epochs (the folds' mean best epoch, rounded)";
        return new JsonObject
        {
            ["dataset"] = datasetNode,
            ["recipe"] = recipe,
            ["device"] = TrainingDevice.Name,
            ["threads"] = options.Threads,
            ["split"] = new JsonObject { ["folds"] = options.Folds, ["seed"] = options.Seed, ["grouped"] = true, ["file"] = TrainingFiles.SplitFileName },
            ["leak_check"] = new JsonObject { ["verdict"] = leaks.Verdict, ["leaky"] = leaks.IsLeaky, ["allowed"] = run.AllowLeaks },
            ["folds"] = foldArray,
            ["cv"] = new JsonObject
            {
                ["note"] = "patient/group-grouped cross-validation; fold figures at each fold's best epoch on validation balanced accuracy",
                ["accuracy_mean"] = folds.Average(f => f.Metrics.Accuracy),
                ["accuracy_sd"] = SampleSd([.. folds.Select(f => f.Metrics.Accuracy)]),
                ["binary_accuracy_mean"] = cv.Pooled.BinaryAccuracy is null ? null : folds.Average(f => f.Metrics.BinaryAccuracy ?? double.NaN),
                ["binary_accuracy_sd"] = cv.Pooled.BinaryAccuracy is null ? null : SampleSd([.. folds.Select(f => f.Metrics.BinaryAccuracy ?? double.NaN)]),
                ["balanced_accuracy_mean"] = cv.BalancedAccuracyMean,
                ["balanced_accuracy_sd"] = cv.BalancedAccuracySd,
                ["macro_f1_mean"] = cv.MacroF1Mean,
                ["macro_f1_sd"] = cv.MacroF1Sd,
                ["pooled"] = cv.Pooled.ToJson(),
                ["pooled_balanced_accuracy_ci95"] = new JsonArray(cv.BalancedAccuracyInterval.Low, cv.BalancedAccuracyInterval.High),
                ["pooled_macro_f1_ci95"] = new JsonArray(cv.MacroF1Interval.Low, cv.MacroF1Interval.High),
            },
            ["final_model"] = new JsonObject
            {
                ["choice"] = options.Final == FinalModelChoice.BestFold ? "best-fold" : "all-data",
                ["description"] = finalText,
                ["epochs"] = options.Final == FinalModelChoice.AllData ? state.FinalEpochs : null,
                ["fold"] = bestFold,
            },
            ["wall_seconds"] = Math.Round(elapsed.TotalSeconds, 1),
            ["finished_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["software_version"] = typeof(Trainer).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            ["torchsharp_version"] = typeof(torch).Assembly.GetName().Version?.ToString(3),
        };
    }
}
