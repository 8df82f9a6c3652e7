using System.Diagnostics;
using System.Globalization;
using System.Text;
using Histo.Color;
using Histo.Datasets;
using Histo.Imaging;
using Histo.Learning.Models;
using Histo.Models;
using TorchSharp;

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
    private readonly TrainingOptions _options;

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

        _options = options;
    }

    /// <summary>The recipe.</summary>
    public TrainingOptions Options => _options;

    /// <summary>
    /// Runs the cross-validation and trains the final model into <paramref name="modelDirectory"/>. All checks (dataset,
    /// groups, leaks, readable images, the initial model's classes, existing output) happen before anything is written.
    /// </summary>
    /// <exception cref="TrainingRefusedException">The output directory, its checkpoint or the initial model does not allow the run.</exception>
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
                string problem = $"model {run.InitModelDirectory} has classes [{string.Join(", ", initCard.Classes)}] but the dataset has [{string.Join(", ", classes)}]";
                throw new TrainingRefusedException(TrainingRefusal.InitialModelClassesDiffer, run.InitModelDirectory, problem,
                    $"the initial {problem}; they must match in name and order");
            }

            if (!File.Exists(Path.Combine(run.InitModelDirectory, PatchClassifier.WeightsFileName)))
            {
                string problem = $"model {run.InitModelDirectory} has no {PatchClassifier.WeightsFileName}";
                throw new TrainingRefusedException(TrainingRefusal.InitialModelHasNoWeights, run.InitModelDirectory, problem, $"the initial {problem}");
            }
        }

        RgbaImage? stainTarget = null;
        IStainNormalizer? normalizer = null;
        if (_options.StainNormalization is { } method)
        {
            if (run.StainTargetPath == null)
            {
                throw new InvalidParameterException($"stain normalisation needs a target image ({nameof(TrainingRunOptions)}.{nameof(TrainingRunOptions.StainTargetPath)})");
            }

            stainTarget = ImageIO.Load(run.StainTargetPath);
            normalizer = StainNormalizer.Fit(method, stainTarget);
        }

        double? mpp = _options.Mpp ?? dataset.Mpp;
        CropPlan? crops = ResolveCrops(dataset, mpp, initCard);
        int patchSide = crops?.SizePixels ?? dataset.Sources.Max(s => Math.Max(s.UsualWidthPixels, s.UsualHeightPixels));
        int inputSize = _options.InputSizePixels ?? initCard?.InputSizePixels ?? (crops != null ? TrainingOptions.DefaultCropInputSize : TrainingOptions.DefaultInputSize(patchSide));
        bool mixed = UseMixedPrecision();

        CrossValidationSplit split = GroupKFold.Split(dataset, _options.Folds, _options.Seed);
        int[] foldOf = split.FoldsOf(dataset);
        var report = new DatasetProgressRelay(progress, _options.Folds);
        LeakReport leaks = LeakChecker.Check(dataset, split, new LeakCheckOptions { MaxParallelism = _options.Threads }, null, cancellationToken);
        if (!run.AllowLeaks)
        {
            LeakChecker.EnsureClean(leaks);
        }

        for (int f = 0; f < _options.Folds; f++)
        {
            var trainClasses = dataset.Items.Where((_, i) => foldOf[i] != f).Select(item => item.LabelIndex).Distinct().Count();
            if (trainClasses < classes.Length)
            {
                throw new DatasetException($"fold {f + 1} of {_options.Folds} would train without some classes (too few groups per class); use fewer folds or add data");
            }
        }

        string recipeKey = RecipeKey(dataset, inputSize, run, crops, mixed);
        if (previous != null && previous.RecipeKey != recipeKey)
        {
            string problem = $"{modelDirectory}: the checkpoint was made with another dataset or recipe";
            throw new TrainingRefusedException(TrainingRefusal.CheckpointRecipeChanged, modelDirectory, problem,
                $"{problem}; rerun with the same arguments, or start again, replacing the run");
        }

        torch.set_num_threads(_options.Threads);
        var images = new PreparedImages(dataset, inputSize, normalizer, crops);
        images.PrepareAll(_options.Threads, n => report.Preparing(n, images.ItemCount), cancellationToken);

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

        TrainingOptions resolved = _options with { FrozenStages = _options.FrozenStages ?? (crops != null ? TrainingOptions.DefaultFrozenStagesForCrops : 0) };
        var session = new TrainingSession(resolved, dataset, images, foldOf, initCard != null ? run.InitModelDirectory : null, checkpointDirectory, state,
            progress, clock, elapsedBefore, mixed, cancellationToken);

        while (state.PhaseFold >= 1 && state.PhaseFold <= _options.Folds)
        {
            session.RunFold(state.PhaseFold);
            TrainingOutputs.WriteHistory(modelDirectory, state);
        }

        var folds = state.Folds.OrderBy(f => f.Fold).Select(f => TrainingOutputs.ToFoldResult(f, dataset)).ToList();
        CrossValidationSummary summary = TrainingOutputs.Summarize(_options, dataset, state, folds);
        TrainingOutputs.WritePredictions(modelDirectory, dataset, state, foldOf);

        int? bestFold = null;
        string finalWeights;
        if (_options.Final == FinalModelChoice.BestFold)
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
            TrainingOutputs.WriteHistory(modelDirectory, state);
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
            StainNormalization = _options.StainNormalization is { } m ? m.ToString().ToLowerInvariant() : "none",
        };
        card.Training = TrainingCard.Node(resolved, dataset, leaks, inputSize, run, folds, summary, state, bestFold, elapsed, crops, images, mixed, session.Engine);

        using (var network = new ResNet18Variant(classes.Length, _options.Dropout))
        {
            network.load(finalWeights, strict: true);
            using var classifier = new PatchClassifier(network, card, stainTarget); // checks that the card fits the network
            classifier.Save(modelDirectory); // the one model-directory writer: model.json last, so the directory is complete
        }

        Directory.Delete(checkpointDirectory, recursive: true);
        return new TrainingResult(modelDirectory, folds, summary, _options.Final, _options.Final == FinalModelChoice.AllData ? state.FinalEpochs : null,
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
        // a run that replaces the directory does not read the checkpoint it deletes (a malformed one must not stop it)
        TrainingCheckpoint? state = Directory.Exists(checkpointDirectory) && (run.Resume || !run.Force) ? TrainingCheckpoint.TryLoad(checkpointDirectory) : null;
        if (run.Resume)
        {
            if (state == null)
            {
                throw complete
                    ? Refused(TrainingRefusal.ModelCompleteNothingToResume, $"{modelDirectory} already holds a complete model: nothing to resume", " (replace it to train it again)")
                    : Refused(TrainingRefusal.NothingToResume, $"{modelDirectory}: no interrupted run to resume (no {TrainingFiles.CheckpointDirectoryName}/{TrainingCheckpoint.FileName})", "");
            }

            return state;
        }

        if (complete && !run.Force)
        {
            throw Refused(TrainingRefusal.ModelExists, $"{modelDirectory} already holds a trained model", "; replace it or choose another model directory");
        }

        if (state != null && !run.Force)
        {
            throw Refused(TrainingRefusal.InterruptedRunExists, $"{modelDirectory} holds an interrupted run", "; resume it or replace it to start again");
        }

        if (!complete && !run.Force && Directory.Exists(modelDirectory) && Directory.EnumerateFileSystemEntries(modelDirectory).Any())
        {
            throw Refused(TrainingRefusal.OutputNotEmpty, $"{modelDirectory} exists and is not empty", "; choose another model directory or replace it");
        }

        return null;

        TrainingRefusedException Refused(TrainingRefusal reason, string problem, string remedy) =>
            new(reason, modelDirectory, problem, problem + remedy);
    }

    /// <summary>
    /// The crops of this run: the options' size and stride; else the initial model's; else the seed's ~628 µm window
    /// with its ~41.6 µm stride when the images' µm/px is known and they are at least one window large; else none
    /// (whole images, e.g. IDC's 50 px patches).
    /// </summary>
    private CropPlan? ResolveCrops(Dataset dataset, double? mpp, ModelCard? initCard)
    {
        if (_options.CropSizePixels == 0)
        {
            return null;
        }

        int smallestSide = dataset.Sources.Where(s => s.ItemCount > 0).Min(s => Math.Min(s.UsualWidthPixels, s.UsualHeightPixels));
        int? size = _options.CropSizePixels;
        double? stride = _options.CropStridePixels;
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
    private bool UseMixedPrecision() => _options.Precision switch
    {
        TrainingPrecision.BFloat16Mixed => true,
        TrainingPrecision.Float32 => false,
        _ => TrainingDevice.Current.type == DeviceType.CPU && MixedPrecision.CpuHasBFloat16(),
    };

    private string RecipeKey(Dataset dataset, int inputSize, TrainingRunOptions run, CropPlan? crops, bool mixed)
    {
        var key = _options.ToJson();
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

    /// <summary>Relays the image-preparation progress.</summary>
    private sealed class DatasetProgressRelay(IProgress<TrainingProgress>? progress, int folds)
    {
        public void Preparing(int done, int total) =>
            progress?.Report(new TrainingProgress(TrainingStage.Preparing, 1, folds, 0, 0, done, total, 0, null, double.NaN, null, Environment.WorkingSet));
    }
}
