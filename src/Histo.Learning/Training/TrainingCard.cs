using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Histo.Datasets;
using Histo.Models;
using TorchSharp;

namespace Histo.Learning.Training;

/// <summary>
/// The model card's <c>training</c> node (dataset, recipe, device, split, leak check, folds, cross-validation, final
/// model, engine, timing and versions), declared as types and written by <see cref="JsonSerializer"/>. The keys and
/// their order are what model directories have always held; <c>model.json</c> readers depend on them.
/// </summary>
internal static class TrainingCard
{
    private static readonly JsonSerializerOptions Json = new();

    public static JsonObject Node(TrainingOptions options, Dataset dataset, LeakReport leaks, int inputSize, TrainingRunOptions run, IReadOnlyList<FoldResult> folds,
        CrossValidationSummary cv, TrainingCheckpoint state, int? bestFold, TimeSpan elapsed, CropPlan? crops, PreparedImages images, bool mixed, EngineUsage? engine)
    {
        var summary = DatasetSummary.Of(dataset);
        var recipe = new CardRecipe(RecipeJson.Of(options))
        {
            CropSizePixels = crops?.SizePixels,
            CropStridePixels = crops?.StridePixels,
            Precision = mixed ? "bf16-mixed (fp32 master weights)" : "fp32",
            InputSizePixels = inputSize,
            Crops = images.Count,
            ImagePrediction = crops is null ? "whole image" : "mean of the crop probabilities",
            Init = run.InitModelDirectory is { } init ? Path.GetFullPath(init) : "imagenet (ML.NET ResNet18 featurizer)",
        };
        var foldArray = new JsonArray();
        foreach (FoldResult f in folds)
        {
            // the fold's metrics (their JSON is the metrics' own) followed by the fold's counts
            var m = f.Metrics.ToJson();
            m["fold"] = f.Fold;
            m["train_images"] = f.TrainCount;
            m["validation_images"] = f.ValidationCount;
            m["best_epoch"] = f.BestEpoch;
            foldArray.Add(m);
        }

        var node = new TrainingNode
        {
            Dataset = new DatasetNode
            {
                Sources = [.. dataset.Sources.Select(s => new SourceNode(s.Path, s.Scheme, s.ItemCount, s.UsualWidthPixels, s.UsualHeightPixels))],
                Images = summary.ImageCount,
                Groups = summary.GroupCount,
                GroupKind = string.Join("+", summary.GroupCountsByKind.Where(kv => kv.Value > 0).Select(kv => kv.Key.ToString().ToLowerInvariant())),
                ImagesPerClass = dataset.Classes.Select((c, i) => KeyValuePair.Create(c.Name, dataset.CountsPerClass[i])).ToDictionary(StringComparer.Ordinal),
                Problems = dataset.Problems.Count,
                Mpp = dataset.Mpp,
                MppSource = dataset.MppSource.ToString().ToLowerInvariant(),
            },
            Recipe = recipe,
            Device = TrainingDevice.Name,
            Threads = options.Threads,
            Split = new SplitNode(options.Folds, options.Seed, true, TrainingFiles.SplitFileName),
            LeakCheck = new LeakCheckNode(leaks.Verdict, leaks.IsLeaky, run.AllowLeaks),
            Folds = foldArray,
            CrossValidation = new CrossValidationNode
            {
                Note = "patient/group-grouped cross-validation; fold figures at each fold's best epoch on validation balanced accuracy",
                AccuracyMean = folds.Average(f => f.Metrics.Accuracy),
                AccuracySd = TrainingOutputs.SampleSd([.. folds.Select(f => f.Metrics.Accuracy)]),
                BinaryAccuracyMean = cv.Pooled.BinaryAccuracy is null ? null : folds.Average(f => f.Metrics.BinaryAccuracy ?? double.NaN),
                BinaryAccuracySd = cv.Pooled.BinaryAccuracy is null ? null : TrainingOutputs.SampleSd([.. folds.Select(f => f.Metrics.BinaryAccuracy ?? double.NaN)]),
                BalancedAccuracyMean = cv.BalancedAccuracyMean,
                BalancedAccuracySd = cv.BalancedAccuracySd,
                MacroF1Mean = cv.MacroF1Mean,
                MacroF1Sd = cv.MacroF1Sd,
                Pooled = cv.Pooled.ToJson(),
                PooledBalancedAccuracyCi95 = [cv.BalancedAccuracyInterval.Low, cv.BalancedAccuracyInterval.High],
                PooledMacroF1Ci95 = [cv.MacroF1Interval.Low, cv.MacroF1Interval.High],
            },
            FinalModel = new FinalModelNode(
                options.Final == FinalModelChoice.BestFold ? "best-fold" : "all-data",
                options.Final == FinalModelChoice.BestFold
                    ? $"weights of fold {bestFold} at its best epoch (best validation balanced accuracy of the folds)"
                    : $"trained on all {dataset.Items.Count} images for {state.FinalEpochs} epochs (the folds' mean best epoch, rounded)",
                options.Final == FinalModelChoice.AllData ? state.FinalEpochs : null,
                bestFold),
            WallSeconds = Math.Round(elapsed.TotalSeconds, 1),
            FinishedUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            SoftwareVersion = typeof(Trainer).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            TorchSharpVersion = typeof(torch).Assembly.GetName().Version?.ToString(3),
            Engine = engine?.ToJson(), // null when this process resumed a run with no epoch left to train
        };
        return JsonSerializer.SerializeToNode(node, Json)!.AsObject();
    }

    private sealed record TrainingNode
    {
        [JsonPropertyName("dataset")] public required DatasetNode Dataset { get; init; }
        [JsonPropertyName("recipe")] public required CardRecipe Recipe { get; init; }
        [JsonPropertyName("device")] public required string Device { get; init; }
        [JsonPropertyName("threads")] public required int Threads { get; init; }
        [JsonPropertyName("split")] public required SplitNode Split { get; init; }
        [JsonPropertyName("leak_check")] public required LeakCheckNode LeakCheck { get; init; }
        [JsonPropertyName("folds")] public required JsonArray Folds { get; init; }
        [JsonPropertyName("cv")] public required CrossValidationNode CrossValidation { get; init; }
        [JsonPropertyName("final_model")] public required FinalModelNode FinalModel { get; init; }
        [JsonPropertyName("wall_seconds")] public required double WallSeconds { get; init; }
        [JsonPropertyName("finished_utc")] public required string FinishedUtc { get; init; }
        [JsonPropertyName("software_version")] public required string SoftwareVersion { get; init; }
        [JsonPropertyName("torchsharp_version")] public required string? TorchSharpVersion { get; init; }
        [JsonPropertyName("engine")] public required JsonObject? Engine { get; init; }
    }

    private sealed record DatasetNode
    {
        [JsonPropertyName("sources")] public required IReadOnlyList<SourceNode> Sources { get; init; }
        [JsonPropertyName("images")] public required int Images { get; init; }
        [JsonPropertyName("groups")] public required int Groups { get; init; }
        [JsonPropertyName("group_kind")] public required string GroupKind { get; init; }
        [JsonPropertyName("images_per_class")] public required Dictionary<string, int> ImagesPerClass { get; init; }
        [JsonPropertyName("problems")] public required int Problems { get; init; }
        [JsonPropertyName("mpp")] public required double? Mpp { get; init; }
        [JsonPropertyName("mpp_source")] public required string MppSource { get; init; }
    }

    private sealed record SourceNode(
        [property: JsonPropertyName("path")] string Path,
        [property: JsonPropertyName("scheme")] string Scheme,
        [property: JsonPropertyName("images")] int Images,
        [property: JsonPropertyName("usual_width_pixels")] int UsualWidthPixels,
        [property: JsonPropertyName("usual_height_pixels")] int UsualHeightPixels);

    private sealed record SplitNode(
        [property: JsonPropertyName("folds")] int Folds,
        [property: JsonPropertyName("seed")] int Seed,
        [property: JsonPropertyName("grouped")] bool Grouped,
        [property: JsonPropertyName("file")] string File);

    private sealed record LeakCheckNode(
        [property: JsonPropertyName("verdict")] string Verdict,
        [property: JsonPropertyName("leaky")] bool Leaky,
        [property: JsonPropertyName("allowed")] bool Allowed);

    private sealed record CrossValidationNode
    {
        [JsonPropertyName("note")] public required string Note { get; init; }
        [JsonPropertyName("accuracy_mean")] public required double AccuracyMean { get; init; }
        [JsonPropertyName("accuracy_sd")] public required double AccuracySd { get; init; }
        [JsonPropertyName("binary_accuracy_mean")] public required double? BinaryAccuracyMean { get; init; }
        [JsonPropertyName("binary_accuracy_sd")] public required double? BinaryAccuracySd { get; init; }
        [JsonPropertyName("balanced_accuracy_mean")] public required double BalancedAccuracyMean { get; init; }
        [JsonPropertyName("balanced_accuracy_sd")] public required double BalancedAccuracySd { get; init; }
        [JsonPropertyName("macro_f1_mean")] public required double MacroF1Mean { get; init; }
        [JsonPropertyName("macro_f1_sd")] public required double MacroF1Sd { get; init; }
        [JsonPropertyName("pooled")] public required JsonObject Pooled { get; init; }
        [JsonPropertyName("pooled_balanced_accuracy_ci95")] public required double[] PooledBalancedAccuracyCi95 { get; init; }
        [JsonPropertyName("pooled_macro_f1_ci95")] public required double[] PooledMacroF1Ci95 { get; init; }
    }

    private sealed record FinalModelNode(
        [property: JsonPropertyName("choice")] string Choice,
        [property: JsonPropertyName("description")] string Description,
        [property: JsonPropertyName("epochs")] int? Epochs,
        [property: JsonPropertyName("fold")] int? Fold);

    /// <summary>The recipe as the card records it: the options as run (crops, precision resolved), then what the data decided.</summary>
    private sealed record CardRecipe : RecipeJson
    {
        public CardRecipe(RecipeJson options) : base(options) { }

        [JsonPropertyName("input_size_pixels"), JsonPropertyOrder(1)] public required int InputSizePixels { get; init; }
        [JsonPropertyName("crops"), JsonPropertyOrder(1)] public required int Crops { get; init; }
        [JsonPropertyName("image_prediction"), JsonPropertyOrder(1)] public required string ImagePrediction { get; init; }
        [JsonPropertyName("init"), JsonPropertyOrder(1)] public required string Init { get; init; }
    }
}
