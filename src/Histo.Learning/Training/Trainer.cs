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

/// <summary>How a run treats its output directory and the leak check.</summary>
public sealed record TrainingRunOptions
{
    /// <summary>Continue the interrupted run whose checkpoint is in the model directory.</summary>
    public bool Resume { get; init; }

    /// <summary>Replace a complete model directory (or an interrupted run's checkpoint when not resuming).</summary>
    public bool Force { get; init; }

    /// <summary>Train even when the leak check finds a leak (the card records it).</summary>
    public bool AllowLeaks { get; init; }

    /// <summary>Start every fold and the final model from this trained model's weights instead of ImageNet.</summary>
    public string? InitModelDirectory { get; init; }

    /// <summary>Stain-normalisation target image (required when <see cref="TrainingOptions.StainNormalization"/> is set).</summary>
    public string? StainTargetPath { get; init; }

    /// <summary>Names for class labels (label → name), recorded in the card's <c>class_names</c>; null keeps the derived names.</summary>
    public IReadOnlyDictionary<string, string>? ClassNames { get; init; }
}

/// <summary>
/// Fine-tunes the ImageNet ResNet18 on a dataset with leak-free cross-validation, then trains the final model, writing
/// a model directory: <c>weights.bin</c>, <c>model.json</c> (written last: its presence means the directory is
/// complete), <c>split.json</c>, <c>history.csv</c>, <c>cv_predictions.csv</c>. Every epoch is checkpointed atomically
/// in <c>checkpoints/</c> so <see cref="TrainingRunOptions.Resume"/> continues a killed run with nothing lost; on the
/// CPU with the same thread count, the same seed gives the same weights, resumed or not.
/// </summary>
public sealed class Trainer
{
    private readonly TrainingOptions options;

    /// <summary>Creates a trainer for a recipe.</summary>
    /// <exception cref="InvalidParameterException">A recipe value is out of range.</exception>
    public Trainer(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidParameterException(e.Message);
        }

        this.options = options;
    }

    /// <summary>The recipe.</summary>
    public TrainingOptions Options => options;

    /// <summary>
    /// Runs the cross-validation and trains the final model into <paramref name="modelDirectory"/>. All checks (dataset,
    /// groups, leaks, readable images, --init classes, existing output) happen before anything is written.
    /// </summary>
    /// <exception cref="HistoException">Bad input; the message says what to do.</exception>
    public TrainingResult Run(Dataset dataset, string modelDirectory, TrainingRunOptions? run = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelDirectory);
        run ??= new TrainingRunOptions();
        var clock = Stopwatch.StartNew();
        CheckDataset(dataset);
        string checkpointDirectory = Path.Combine(modelDirectory, TrainingFiles.CheckpointDirectoryName);
        TrainingCheckpoint? previous = CheckOutput(modelDirectory, checkpointDirectory, run);

        string[] classes = dataset.Classes.Select(c => c.Name).ToArray();
        if (new ModelCard { Classes = [.. classes], PatchSizePixels = 1, InputSizePixels = ModelCard.MinInputSizePixels }.Problem() is { } classProblem)
        {
            // the card written at the end would not load: refuse before hours of training
            throw new DatasetException($"the dataset's classes cannot make a model: {classProblem}");
        }
        List<string>? classNames = run.ClassNames is { } names ? ModelCard.NamesFor(classes, names) : null; // checked before any training
        ModelCard? initCard = null;
        if (run.InitModelDirectory != null)
        {
            initCard = ModelCard.Load(run.InitModelDirectory);
            if (!initCard.Classes.SequenceEqual(classes, StringComparer.Ordinal))
            {
                throw new HistoModelException(
                    $"--init model {run.InitModelDirectory} has classes [{string.Join(", ", initCard.Classes)}] but the dataset has [{string.Join(", ", classes)}]; they must match in name and order");
            }

            if (!File.Exists(Path.Combine(run.InitModelDirectory, PatchClassifier.WeightsFileName)))
            {
                throw new HistoModelException($"--init model {run.InitModelDirectory} has no {PatchClassifier.WeightsFileName}");
            }
        }

        RgbaImage? stainTarget = null;
        IStainNormalizer? normalizer = null;
        if (options.StainNormalization is { } method)
        {
            if (run.StainTargetPath == null)
            {
                throw new InvalidParameterException("stain normalisation needs a target image (--stain-target)");
            }

            stainTarget = ImageIO.Load(run.StainTargetPath);
            normalizer = StainNormalizer.Fit(method, stainTarget);
        }

        double? mpp = options.Mpp ?? dataset.Mpp;
        CropPlan? crops = ResolveCrops(dataset, mpp, initCard);
        int patchSide = crops?.SizePixels ?? dataset.Sources.Max(s => Math.Max(s.UsualWidthPixels, s.UsualHeightPixels));
        int inputSize = options.InputSizePixels ?? initCard?.InputSizePixels ?? TrainingOptions.DefaultInputSize(patchSide);
        bool mixed = UseMixedPrecision();

        CrossValidationSplit split = GroupKFold.Split(dataset, options.Folds, options.Seed);
        int[] foldOf = split.FoldsOf(dataset);
        var report = new DatasetProgressRelay(progress, options.Folds);
        LeakReport leaks = LeakChecker.Check(dataset, split, new LeakCheckOptions { MaxParallelism = options.Threads }, null, cancellationToken);
        if (!run.AllowLeaks)
        {
            LeakChecker.EnsureClean(leaks);
        }

        for (int f = 0; f < options.Folds; f++)
        {
            var trainClasses = dataset.Items.Where((_, i) => foldOf[i] != f).Select(item => item.LabelIndex).Distinct().Count();
            if (trainClasses < classes.Length)
            {
                throw new DatasetException($"fold {f + 1} of {options.Folds} would train without some classes (too few groups per class); use fewer folds or add data");
            }
        }

        string recipeKey = RecipeKey(dataset, inputSize, run, crops, mixed);
        if (previous != null && previous.RecipeKey != recipeKey)
        {
            throw new HistoException($"{modelDirectory}: the checkpoint was made with another dataset or recipe; rerun with the same arguments, or start again with --force");
        }

        torch.set_num_threads(options.Threads);
        var images = new PreparedImages(dataset, inputSize, normalizer, crops);
        images.PrepareAll(options.Threads, n => report.Preparing(n, images.ItemCount), cancellationToken);

        // Every check passed: from here on the output directory is written.
        Directory.CreateDirectory(modelDirectory);
        if (run.Force)
        {
            File.Delete(Path.Combine(modelDirectory, ModelCard.FileName));
            if (!run.Resume && Directory.Exists(checkpointDirectory))
            {
                Directory.Delete(checkpointDirectory, recursive: true);
            }
        }

        Directory.CreateDirectory(checkpointDirectory);
        split.Save(Path.Combine(modelDirectory, TrainingFiles.SplitFileName), dataset);
        TrainingCheckpoint state = previous ?? new TrainingCheckpoint { RecipeKey = recipeKey };
        double elapsedBefore = state.ElapsedSeconds;

        var session = new Session(this, dataset, images, foldOf, initCard != null ? run.InitModelDirectory : null, checkpointDirectory, state,
            progress, clock, elapsedBefore, mixed, cancellationToken);

        while (state.PhaseFold >= 1 && state.PhaseFold <= options.Folds)
        {
            session.RunFold(state.PhaseFold);
            WriteHistory(modelDirectory, state);
        }

        var folds = state.Folds.OrderBy(f => f.Fold).Select(f => ToFoldResult(f, dataset)).ToList();
        CrossValidationSummary summary = Summarize(dataset, state, folds);
        WritePredictions(modelDirectory, dataset, state, foldOf);

        int? bestFold = null;
        string finalWeights;
        if (options.Final == FinalModelChoice.BestFold)
        {
            bestFold = folds.OrderByDescending(f => f.Metrics.BalancedAccuracy).ThenBy(f => f.Fold).First().Fold;
            finalWeights = Path.Combine(checkpointDirectory, BestWeightsFile(bestFold.Value));
            state.PhaseFold = 0;
        }
        else
        {
            state.FinalEpochs ??= Math.Max(1, (int)Math.Round(state.Folds.Average(f => f.BestEpoch), MidpointRounding.AwayFromZero));
            if (state.PhaseFold != 0)
            {
                state.PhaseFold = 0;
                state.EpochsDone = 0;
                state.WeightsFile = state.OptimizerFile = null;
                state.Save(checkpointDirectory);
            }

            finalWeights = session.RunFinal(state.FinalEpochs.Value);
            WriteHistory(modelDirectory, state);
        }

        var elapsed = TimeSpan.FromSeconds(elapsedBefore + clock.Elapsed.TotalSeconds);
        var card = new ModelCard
        {
            Classes = [.. classes],
            ClassNames = classNames,
            BachCodes = ModelCard.InferBachCodes(classes),
            PatchSizePixels = patchSide,
            CropStridePixels = crops?.StridePixels,
            InputSizePixels = inputSize,
            Mpp = mpp,
            StainNormalization = options.StainNormalization is { } m ? m.ToString().ToLowerInvariant() : "none",
        };
        JsonObject training = TrainingNode(dataset, leaks, inputSize, run, folds, summary, state, bestFold, elapsed, crops, images, mixed);
        training["engine"] = session.Engine?.ToJson(); // null when this process resumed a run with no epoch left to train
        card.Training = training;

        using (var network = new ResNet18Variant(classes.Length, options.Dropout))
        {
            network.load(finalWeights, strict: true);
            using var classifier = new PatchClassifier(network, card, stainTarget);
            PatchClassifier.SaveWeights(network, Path.Combine(modelDirectory, PatchClassifier.WeightsFileName));
            if (stainTarget != null)
            {
                AtomicFile.WriteAllBytes(Path.Combine(modelDirectory, PatchClassifier.StainTargetFileName), ImageIO.Encode(stainTarget, ".png"));
            }
        }

        card.Save(modelDirectory);
        Directory.Delete(checkpointDirectory, recursive: true);
        return new TrainingResult(modelDirectory, folds, summary, options.Final, options.Final == FinalModelChoice.AllData ? state.FinalEpochs : null,
            bestFold, inputSize, elapsed, previous != null);
    }

    private static void CheckDataset(Dataset dataset)
    {
        if (dataset.Items.Count == 0)
        {
            throw new EmptyDatasetException("the dataset has no images");
        }

        var present = dataset.Classes.Where((_, i) => dataset.CountsPerClass[i] > 0).ToList();
        if (present.Count < 2)
        {
            throw new SingleClassDatasetException(present.FirstOrDefault()?.Name ?? "", $"the dataset has one class ({present.FirstOrDefault()?.Name}); training needs at least two");
        }

        if (present.Count < dataset.Classes.Count)
        {
            string empty = string.Join(", ", dataset.Classes.Where((_, i) => dataset.CountsPerClass[i] == 0).Select(c => c.Name));
            throw new DatasetException($"class {empty} has no images; remove it or add images");
        }
    }

    private static TrainingCheckpoint? CheckOutput(string modelDirectory, string checkpointDirectory, TrainingRunOptions run)
    {
        if (File.Exists(modelDirectory))
        {
            throw new HistoException($"{modelDirectory} is a file; give a directory for the model");
        }

        bool complete = File.Exists(Path.Combine(modelDirectory, ModelCard.FileName));
        TrainingCheckpoint? state = Directory.Exists(checkpointDirectory) ? TrainingCheckpoint.TryLoad(checkpointDirectory) : null;
        if (run.Resume)
        {
            if (state == null)
            {
                throw new HistoException(complete
                    ? $"{modelDirectory} already holds a complete model: nothing to resume (use --force to train it again)"
                    : $"{modelDirectory}: no interrupted run to resume (no {TrainingFiles.CheckpointDirectoryName}/{TrainingCheckpoint.FileName})");
            }

            return state;
        }

        if (complete && !run.Force)
        {
            throw new HistoException($"{modelDirectory} already holds a trained model; use --force to replace it or choose another -o");
        }

        if (state != null && !run.Force)
        {
            throw new HistoException($"{modelDirectory} holds an interrupted run; add --resume to continue it or --force to start again");
        }

        if (!complete && !run.Force && Directory.Exists(modelDirectory) && Directory.EnumerateFileSystemEntries(modelDirectory).Any())
        {
            throw new HistoException($"{modelDirectory} exists and is not empty; choose another -o or use --force");
        }

        return null;
    }

    /// <summary>
    /// The crops of this run: the options' size and stride; else the --init model's; else the seed's ~628 µm window
    /// with its ~41.6 µm stride when the images' µm/px is known and they are at least one window large; else none
    /// (whole images, e.g. IDC's 50 px patches).
    /// </summary>
    private CropPlan? ResolveCrops(Dataset dataset, double? mpp, ModelCard? initCard)
    {
        if (options.CropSizePixels == 0)
        {
            return null;
        }

        int smallestSide = dataset.Sources.Where(s => s.ItemCount > 0).Min(s => Math.Min(s.UsualWidthPixels, s.UsualHeightPixels));
        int? size = options.CropSizePixels;
        double? stride = options.CropStridePixels;
        if (size == null && initCard?.CropStridePixels is { } initStride && initCard.Mpp is { } initMpp && mpp is { } m)
        {
            // the same physical window as the model being refined
            size = (int)Math.Round(initCard.PatchSizePixels * initMpp / m, MidpointRounding.AwayFromZero);
            stride ??= initStride * initMpp / m;
        }

        if (size == null && mpp is { } known)
        {
            int seedSide = (int)Math.Round(TrainingOptions.DefaultCropMicrons / known, MidpointRounding.AwayFromZero);
            size = smallestSide >= seedSide ? seedSide : null;
        }

        if (size is not { } side)
        {
            return null;
        }

        double step = stride ?? (mpp is { } mm ? TrainingOptions.DefaultStrideMicrons / mm : Math.Max(1, side / 15.0));
        return new CropPlan(side, Math.Max(1, step));
    }

    /// <summary>Whether this run trains in bf16 mixed precision (asked for, or automatic on a CPU with AVX512-BF16).</summary>
    private bool UseMixedPrecision() => options.Precision switch
    {
        TrainingPrecision.BFloat16Mixed => true,
        TrainingPrecision.Float32 => false,
        _ => TrainingDevice.Current.type == DeviceType.CPU && MixedPrecision.CpuHasBFloat16(),
    };

    private string RecipeKey(Dataset dataset, int inputSize, TrainingRunOptions run, CropPlan? crops, bool mixed)
    {
        var key = options.ToJson();
        key["input_size_pixels"] = inputSize;
        key["crops"] = crops is null ? null : $"{crops.SizePixels}/{crops.StridePixels.ToString("R", CultureInfo.InvariantCulture)}";
        key["mixed_precision"] = mixed;
        key["init"] = run.InitModelDirectory is { } init ? Path.GetFullPath(init) : null;
        key["images"] = dataset.Items.Count;
        key["classes"] = string.Join("|", dataset.Classes.Select(c => c.Name));
        key["paths_hash"] = Fnv(string.Join("\n", dataset.Items.Select(i => i.Path + "\t" + i.LabelIndex + "\t" + i.Group)));
        return key.ToJsonString();
    }

    private static string Fnv(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }

    internal static string BestWeightsFile(int fold) => $"fold{fold}_best.bin";

    private static FoldResult ToFoldResult(FoldRecord record, Dataset dataset)
    {
        var labels = dataset.Classes.Select(c => c.Name).ToArray();
        var truth = record.Items.Select(i => dataset.Items[i].LabelIndex).ToArray();
        var metrics = ClassificationMetrics.Compute(labels, truth, record.Predictions, ModelCard.InferBachCodes(labels));
        return new FoldResult(record.Fold, record.TrainCount, record.Items.Length, record.BestEpoch, metrics);
    }

    private CrossValidationSummary Summarize(Dataset dataset, TrainingCheckpoint state, IReadOnlyList<FoldResult> folds)
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

    private static double SampleSd(double[] values)
    {
        if (values.Length < 2)
        {
            return 0;
        }

        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }

    private static void WriteHistory(string modelDirectory, TrainingCheckpoint state) =>
        AtomicFile.WriteAllText(Path.Combine(modelDirectory, TrainingFiles.HistoryFileName), TrainingFiles.HistoryCsv(state.History));

    private static void WritePredictions(string modelDirectory, Dataset dataset, TrainingCheckpoint state, int[] foldOf)
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

    private JsonObject TrainingNode(Dataset dataset, LeakReport leaks, int inputSize, TrainingRunOptions run, IReadOnlyList<FoldResult> folds,
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

    /// <summary>Relays the image-preparation progress.</summary>
    private sealed class DatasetProgressRelay(IProgress<TrainingProgress>? progress, int folds)
    {
        public void Preparing(int done, int total) =>
            progress?.Report(new TrainingProgress(TrainingStage.Preparing, 1, folds, 0, 0, done, total, 0, null, double.NaN, null, Environment.WorkingSet));
    }

    /// <summary>The network-training part of a run: folds and the final model, with checkpoints.</summary>
    private sealed class Session
    {
        private readonly Trainer trainer;
        private readonly Dataset dataset;
        private readonly PreparedImages images;
        private readonly int[] foldOf;
        private readonly int[] labels;
        private readonly int[] viewLabels;
        private readonly bool mixed;
        private readonly string? initDirectory;
        private readonly string checkpointDirectory;
        private readonly TrainingCheckpoint state;
        private readonly IProgress<TrainingProgress>? progress;
        private readonly Stopwatch clock;
        private readonly CancellationToken cancellationToken;
        private readonly double plannedImages;
        private double doneImages;

        public Session(Trainer trainer, Dataset dataset, PreparedImages images, int[] foldOf, string? initDirectory, string checkpointDirectory,
            TrainingCheckpoint state, IProgress<TrainingProgress>? progress, Stopwatch clock, double elapsedBefore, bool mixed, CancellationToken cancellationToken)
        {
            this.trainer = trainer;
            this.mixed = mixed;
            this.dataset = dataset;
            this.images = images;
            this.foldOf = foldOf;
            this.initDirectory = initDirectory;
            this.checkpointDirectory = checkpointDirectory;
            this.state = state;
            this.progress = progress;
            this.clock = clock;
            this.cancellationToken = cancellationToken;
            labels = dataset.Items.Select(i => i.LabelIndex).ToArray();
            viewLabels = Enumerable.Range(0, images.Count).Select(v => labels[images.ItemOf(v)]).ToArray();
            var o = trainer.options;
            int n = images.Count;

            // Work in image passes (a validation image costs about a third of a training image).
            double perFoldEpoch = (n * (o.Folds - 1.0) / o.Folds) + (n / (double)o.Folds / 3);
            plannedImages = (o.Folds * o.Epochs * perFoldEpoch) + (o.Final == FinalModelChoice.AllData ? o.Epochs * n : 0);
            doneImages = Math.Min(plannedImages, (state.History.Count(h => h.Fold != "final") * perFoldEpoch) + (state.History.Count(h => h.Fold == "final") * n));
            startImages = doneImages;
            ElapsedBefore = elapsedBefore;
        }

        private double ElapsedBefore { get; }

        /// <summary>The engine the network trained with in this process (after its self-check), or null before the first phase.</summary>
        public EngineUsage? Engine { get; private set; }

        private TrainingOptions Options => trainer.options;

        public void RunFold(int fold)
        {
            int[] train = Enumerable.Range(0, dataset.Items.Count).Where(i => foldOf[i] != fold - 1).ToArray();
            int[] validation = Enumerable.Range(0, dataset.Items.Count).Where(i => foldOf[i] == fold - 1).ToArray();
            RunPhase(fold, train, validation, Options.Epochs);
            state.Folds.Add(new FoldRecord
            {
                Fold = fold,
                TrainCount = train.Length,
                BestEpoch = state.BestEpoch,
                BestBalancedAccuracy = state.BestBalancedAccuracy,
                Items = validation,
                Predictions = state.BestPredictions ?? [],
            });
            string oldWeights = state.WeightsFile ?? "";
            string oldOptimizer = state.OptimizerFile ?? "";
            state.PhaseFold = fold + 1;
            state.EpochsDone = 0;
            state.WeightsFile = state.OptimizerFile = null;
            state.BestEpoch = 0;
            state.BestBalancedAccuracy = -1;
            state.BestPredictions = null;
            Save();
            DeleteCheckpointFile(oldWeights);
            DeleteCheckpointFile(oldOptimizer);
        }

        public string RunFinal(int epochs)
        {
            int[] all = Enumerable.Range(0, dataset.Items.Count).ToArray();
            RunPhase(0, all, null, epochs);
            return Path.Combine(checkpointDirectory, state.WeightsFile!);
        }

        private void RunPhase(int fold, int[] train, int[]? validation, int epochs)
        {
            string phaseName = fold == 0 ? "final" : fold.ToString(CultureInfo.InvariantCulture);
            torch.random.manual_seed(PhaseSeed(fold, 0));
            using ResNet18Variant network = CreateNetwork();
            network.to(TrainingDevice.Current);
            Engine = EngineSelfCheck.PrepareForTraining(network);
            using MixedPrecision? bf16 = mixed ? new MixedPrecision(network) : null;
            int[] trainViews = images.ViewsOf(train);
            var parameters = network.named_parameters().ToList();
            using var optimizer = CreateOptimizer(parameters.Select(p => p.parameter));
            if (state.EpochsDone > 0 && state.WeightsFile != null && state.OptimizerFile != null)
            {
                network.load(Path.Combine(checkpointDirectory, state.WeightsFile), strict: true);
                optimizer.load_state_dict(Path.Combine(checkpointDirectory, state.OptimizerFile));
            }

            using Tensor? classWeights = Options.Balancing == ClassBalancing.LossWeights ? ClassWeights(trainViews) : null;
            for (int epoch = state.EpochsDone + 1; epoch <= epochs; epoch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var epochClock = Stopwatch.StartNew();
                torch.random.manual_seed(PhaseSeed(fold, epoch));
                bool frozen = epoch <= Options.FrozenBackboneEpochs;
                foreach (var (name, parameter) in parameters)
                {
                    parameter.requires_grad = !frozen || name.StartsWith("fc.", StringComparison.Ordinal);
                }

                int[] order = EpochOrder(trainViews, fold, epoch);
                var augmenter = Options.Augment ? new Augmenter() : null;
                double lossSum = 0;
                int seen = 0;
                double lr = 0;
                network.train();
                using (var pipeline = new BatchPipeline(images, order, viewLabels, Options.BatchSize, augmenter, (ulong)PhaseSeed(fold, epoch), Options.Threads, cancellationToken))
                {
                    int batchIndex = 0;
                    foreach (PreparedBatch batch in pipeline.Batches())
                    {
                        if (batch.Count < 2)
                        {
                            continue; // batch norm cannot train on one image
                        }

                        lr = Options.LearningRateAt(epoch - 1 + ((double)batchIndex / pipeline.BatchCount), epochs);
                        foreach (var group in optimizer.ParamGroups)
                        {
                            group.LearningRate = lr;
                        }

                        using (DisposeScope scope = NewDisposeScope())
                        {
                            int size = images.InputSizePixels;
                            Tensor input = tensor(batch.Inputs, [batch.Count, 3, size, size]).to(TrainingDevice.Current);
                            Tensor target = tensor(batch.Labels).to(TrainingDevice.Current);
                            optimizer.zero_grad();
                            Tensor logits = bf16 != null ? bf16.Forward(input) : network.call(input);
                            Tensor loss = nn.functional.cross_entropy(logits, target, weight: classWeights);
                            loss.backward();
                            bf16?.CopyBack();
                            optimizer.step();
                            lossSum += loss.item<float>() * batch.Count;
                        }

                        seen += batch.Count;
                        batchIndex++;
                        doneImages += batch.Count;
                        Report(TrainingStage.Training, fold, epoch, epochs, batchIndex, pipeline.BatchCount, seen / epochClock.Elapsed.TotalSeconds, lossSum / seen, null);
                    }
                }

                double trainSeconds = epochClock.Elapsed.TotalSeconds;
                double trainLoss = lossSum / Math.Max(1, seen);
                double? valLoss = null, valBalanced = null, valF1 = null;
                if (validation != null)
                {
                    List<float[]> predictions = Predict(network, validation, fold, epoch, epochs, trainLoss);
                    var truth = validation.Select(i => labels[i]).ToArray();
                    var names = dataset.Classes.Select(c => c.Name).ToArray();
                    var metrics = ClassificationMetrics.Compute(names, truth, predictions);
                    valBalanced = metrics.BalancedAccuracy;
                    valF1 = metrics.MacroF1;
                    valLoss = truth.Select((t, i) => -Math.Log(Math.Max(predictions[i][t], 1e-7))).Average();
                    if (metrics.BalancedAccuracy > state.BestBalancedAccuracy)
                    {
                        state.BestBalancedAccuracy = metrics.BalancedAccuracy;
                        state.BestEpoch = epoch;
                        state.BestPredictions = predictions;
                        if (Options.Final == FinalModelChoice.BestFold)
                        {
                            PatchClassifier.SaveWeights(network, Path.Combine(checkpointDirectory, BestWeightsFile(fold)));
                        }
                    }
                }

                state.History.Add(new HistoryRow(phaseName, epoch, trainLoss, valLoss, valBalanced, valF1, lr, seen / trainSeconds, epochClock.Elapsed.TotalSeconds));
                string oldWeights = state.WeightsFile ?? "";
                string oldOptimizer = state.OptimizerFile ?? "";
                state.WeightsFile = $"{(fold == 0 ? "final" : "fold" + phaseName)}_epoch{epoch}.bin";
                state.OptimizerFile = $"{(fold == 0 ? "final" : "fold" + phaseName)}_epoch{epoch}.optimizer.bin";
                PatchClassifier.SaveWeights(network, Path.Combine(checkpointDirectory, state.WeightsFile));
                AtomicFile.Write(Path.Combine(checkpointDirectory, state.OptimizerFile), stream =>
                {
                    using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
                    optimizer.save_state_dict(writer);
                });
                state.EpochsDone = epoch;
                Save();
                AtomicFile.WriteAllText(Path.Combine(Path.GetDirectoryName(checkpointDirectory)!, TrainingFiles.HistoryFileName), TrainingFiles.HistoryCsv(state.History));
                DeleteCheckpointFile(oldWeights);
                DeleteCheckpointFile(oldOptimizer);
                Report(TrainingStage.EpochDone, fold, epoch, epochs, 0, 0, seen / trainSeconds, trainLoss, valBalanced);
            }
        }

        /// <summary>Class probabilities of each validation image: the mean over its crops (one crop: the image).</summary>
        private List<float[]> Predict(ResNet18Variant network, int[] validation, int fold, int epoch, int epochs, double trainLoss)
        {
            int[] views = images.ViewsOf(validation);
            var sums = new Dictionary<int, double[]>(validation.Length);
            network.eval();
            using var noGrad = no_grad();
            using var pipeline = new BatchPipeline(images, views, viewLabels, Options.BatchSize * 2, null, 0, Options.Threads, cancellationToken);
            int batchIndex = 0;
            foreach (PreparedBatch batch in pipeline.Batches())
            {
                using DisposeScope scope = NewDisposeScope();
                int size = images.InputSizePixels;
                Tensor input = tensor(batch.Inputs, [batch.Count, 3, size, size]).to(TrainingDevice.Current);
                Tensor probabilities = nn.functional.softmax(network.call(input), 1).cpu();
                float[] flat = probabilities.data<float>().ToArray();
                int k = (int)probabilities.shape[1];
                for (int r = 0; r < batch.Count; r++)
                {
                    int item = images.ItemOf(batch.Items[r]);
                    if (!sums.TryGetValue(item, out double[]? sum))
                    {
                        sums[item] = sum = new double[k];
                    }

                    for (int c = 0; c < k; c++)
                    {
                        sum[c] += flat[(r * k) + c];
                    }
                }

                batchIndex++;
                doneImages += batch.Count / 3.0;
                Report(TrainingStage.Validating, fold, epoch, epochs, batchIndex, pipeline.BatchCount, 0, trainLoss, null);
            }

            return validation.Select(item =>
            {
                double count = images.ViewsOf(item).Count();
                return sums[item].Select(v => (float)(v / count)).ToArray();
            }).ToList();
        }

        private ResNet18Variant CreateNetwork()
        {
            int classes = dataset.Classes.Count;
            if (initDirectory == null)
            {
                return ResNet18OnnxImporter.Load(classCount: classes, dropoutProbability: Options.Dropout);
            }

            var network = new ResNet18Variant(classes, Options.Dropout);
            network.load(Path.Combine(initDirectory, PatchClassifier.WeightsFileName), strict: true);
            return network;
        }

        private TorchSharp.Modules.OptimizerHelper CreateOptimizer(IEnumerable<TorchSharp.Modules.Parameter> parameters) => Options.Optimizer switch
        {
            OptimizerKind.AdamW => torch.optim.AdamW(parameters, Options.EffectiveLearningRate, weight_decay: Options.WeightDecay),
            _ => torch.optim.SGD(parameters, Options.EffectiveLearningRate, momentum: Options.Momentum, weight_decay: Options.WeightDecay, nesterov: true),
        };

        private Tensor ClassWeights(int[] trainViews)
        {
            int k = dataset.Classes.Count;
            var counts = new double[k];
            foreach (int v in trainViews)
            {
                counts[viewLabels[v]]++;
            }

            var weights = counts.Select(c => (float)(c > 0 ? trainViews.Length / (k * c) : 0)).ToArray();
            return tensor(weights).to(TrainingDevice.Current);
        }

        /// <summary>The seeded order of an epoch: a shuffle, or a class-balanced draw with replacement.</summary>
        private int[] EpochOrder(int[] train, int fold, int epoch)
        {
            var random = new SplitMix64((ulong)PhaseSeed(fold, epoch) ^ 0x5DEECE66DUL);
            if (Options.Balancing == ClassBalancing.Sampling)
            {
                var byClass = train.GroupBy(v => viewLabels[v]).Select(g => g.ToArray()).ToArray();
                var drawn = new int[train.Length];
                for (int j = 0; j < drawn.Length; j++)
                {
                    int[] pool = byClass[random.NextInt(byClass.Length)];
                    drawn[j] = pool[random.NextInt(pool.Length)];
                }

                return drawn;
            }

            int[] order = (int[])train.Clone();
            for (int j = order.Length - 1; j > 0; j--)
            {
                int swap = random.NextInt(j + 1);
                (order[j], order[swap]) = (order[swap], order[j]);
            }

            return order;
        }

        private long PhaseSeed(int fold, int epoch) =>
            (long)(new SplitMix64(((ulong)(uint)Options.Seed << 32) ^ ((ulong)(uint)fold << 16) ^ (uint)epoch).Next() >> 2);

        private void Report(TrainingStage stage, int fold, int epoch, int epochs, int batch, int batchCount, double imagesPerSecond, double loss, double? val)
        {
            if (progress == null)
            {
                return;
            }

            double seconds = sessionClock.Elapsed.TotalSeconds;
            TimeSpan? eta = null;
            if (doneImages > startImages && seconds > 5)
            {
                // the throughput of this session so far, over the image passes still planned
                eta = TimeSpan.FromSeconds(Math.Max(0, (plannedImages - doneImages) * seconds / (doneImages - startImages)));
            }

            double? lastVal = val ?? state.History.LastOrDefault()?.ValBalancedAccuracy;
            progress.Report(new TrainingProgress(stage, fold, Options.Folds, epoch, epochs, batch, batchCount, imagesPerSecond, eta, loss, lastVal, Environment.WorkingSet));
        }

        private readonly double startImages;
        private readonly Stopwatch sessionClock = Stopwatch.StartNew();

        private void Save()
        {
            state.ElapsedSeconds = ElapsedBefore + clock.Elapsed.TotalSeconds;
            state.Save(checkpointDirectory);
        }

        private void DeleteCheckpointFile(string name)
        {
            if (name.Length > 0)
            {
                string path = Path.Combine(checkpointDirectory, name);
                if (File.Exists(path) && name != state.WeightsFile && name != state.OptimizerFile)
                {
                    File.Delete(path);
                }
            }
        }
    }
}
