using System.ComponentModel;
using System.Globalization;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
using Histo.Datasets;
using Histo.Learning.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>
/// <c>histo train DATASET... -o MODEL</c>: grouped cross-validation of the ImageNet ResNet18 fine-tuned on the
/// dataset, then the final model; prints the per-fold table and the CV summary.
/// </summary>
public sealed class TrainCommand : Command<TrainCommand.Settings>
{
    public sealed class Settings : DatasetSettings
    {
        [CommandOption("-o|--output <MODEL>")]
        [Description("Model directory to write (weights.bin, model.json, split.json, history.csv, cv_predictions.csv).")]
        public string? Output { get; set; }

        [CommandOption("--folds <K>")]
        [Description("Cross-validation folds, grouped by patient or source image (default 3).")]
        public int Folds { get; set; } = TrainingOptions.DefaultFolds;

        [CommandOption("--epochs <E>")]
        [Description("Epochs per fold (default 5).")]
        public int Epochs { get; set; } = TrainingOptions.DefaultEpochs;

        [CommandOption("--batch <N>")]
        [Description("Batch size (default 64).")]
        public int Batch { get; set; } = TrainingOptions.DefaultBatchSize;

        [CommandOption("--input <PX>")]
        [Description("Network input side in pixels (default: follows the data, e.g. 96 for IDC's 50 px patches, 320 for the seed's crops of BACH-like fields, 224 for other large images).")]
        public int? Input { get; set; }

        [CommandOption("--image-mpp <MICRONS>")]
        [Description("Microns per pixel of the images, recorded in the model card (default: read from the images' TIFF resolution tags; giving it skips the scale checks).")]
        public double? Mpp { get; set; }

        [CommandOption("--crop-pixels <PIXELS>")]
        [Description("Side of the square training crops, in image pixels; 0 trains on whole images (default: the seed's 628 µm window when the images carry their µm/px and are that large, e.g. 748 px on 0.84 µm/px BACH fields; whole images otherwise).")]
        public int? Crop { get; set; }

        [CommandOption("--crop-stride-pixels <PIXELS>")]
        [Description("Stride of the crop window in image pixels, the last crop aligned to the far edge (default: the seed's 41.6 µm, 49.5 px at 0.84 µm/px: 14 crops per BACH field).")]
        public double? Stride { get; set; }

        [CommandOption("--precision <P>")]
        [Description("Training arithmetic: auto (default: bf16 where the CPU has AVX512-BF16, fp32 elsewhere), fp32, or bf16 (bf16 forward/backward on a copy, fp32 master weights; 1.6x faster on AVX512-BF16 CPUs, many times slower on CPUs without them).")]
        public string Precision { get; set; } = "auto";

        [CommandOption("--lr <RATE>")]
        [Description("Base learning rate (default 0.0003 for adamw, 0.001 for sgd); cosine schedule with warm-up.")]
        public double? LearningRate { get; set; }

        [CommandOption("--schedule <NAME>")]
        [Description("Learning-rate schedule after warm-up: cosine (default) or step.")]
        public string Schedule { get; set; } = "cosine";

        [CommandOption("--optimizer <NAME>")]
        [Description("adamw (default) or sgd (Nesterov momentum 0.9, the seed's optimiser).")]
        public string Optimizer { get; set; } = "adamw";

        [CommandOption("--freeze-epochs <E>")]
        [Description("Epochs at the start with the backbone frozen (only the head learns; default 0).")]
        public int FreezeEpochs { get; set; }

        [CommandOption("--frozen-stages <K>")]
        [Description("Keep the stem and the first K residual stages (0-4) at their ImageNet weights for the whole run: faster steps (default 2 when training on crops of large images such as BACH, 0 on whole images such as IDC).")]
        public int? FrozenStages { get; set; }

        [CommandOption("--balance <HOW>")]
        [Description("Class imbalance: loss (class-weighted loss, default), sampling, or none.")]
        public string Balance { get; set; } = "loss";

        [CommandOption("--seed <S>")]
        [Description("Seed of the split, head, shuffling, augmentation and dropout (default 42).")]
        public int Seed { get; set; } = TrainingOptions.DefaultSeed;

        [CommandOption(ThreadsOption.Template)]
        [Description(ThreadsOption.Help)]
        public int? Threads { get; set; }

        [CommandOption("--init <MODEL>")]
        [Description("Start from a trained model's weights instead of ImageNet (its classes must match).")]
        public string? Init { get; set; }

        [CommandOption("--resume")]
        [Description("Continue the interrupted run in the model directory (same arguments).")]
        public bool Resume { get; set; }

        [CommandOption("--force")]
        [Description("Replace an existing model directory.")]
        public bool Force { get; set; }

        [CommandOption("--allow-leaks")]
        [Description("Train even if the leak check finds patients or duplicate images across folds.")]
        public bool AllowLeaks { get; set; }

        [CommandOption("--stain-target <IMAGE>")]
        [Description("Stain-normalise every image to this target (also applied at inference).")]
        public string? StainTarget { get; set; }

        [CommandOption("--stain-method <METHOD>")]
        [Description("Stain normalisation with --stain-target: macenko (default) or reinhard.")]
        public string StainMethodName { get; set; } = "macenko";

        [CommandOption("--no-augment")]
        [Description("No dihedral, HSV or stain jitter augmentation.")]
        public bool NoAugment { get; set; }

        [CommandOption("--class-names <LABEL=NAME,...>")]
        [Description("Names of the classes in every output, e.g. 0=non-IDC tissue,1=IDC (default: the known scheme's names, IDC's 0/1 as non-IDC tissue/IDC, else the labels).")]
        public string? ClassNamesText { get; set; }

        internal IReadOnlyDictionary<string, string>? ClassNames { get; private set; }

        [CommandOption("--final <CHOICE>")]
        [Description("Final model: best-fold (the weights of the fold with the best validation balanced accuracy, default; no extra training) or all (train again on all data for the mean best epoch count).")]
        public string Final { get; set; } = "best-fold";

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Output))
            {
                return ValidationResult.Error("a model directory is required: -o MODEL");
            }

            string? parent = Path.GetDirectoryName(Path.GetFullPath(Output));
            if (parent != null && !Directory.Exists(parent))
            {
                return ValidationResult.Error($"output parent directory '{parent}' does not exist");
            }

            foreach (ValidationResult choice in new[]
            {
                Choices.Optimizer.Check(Optimizer), Choices.Precision.Check(Precision), Choices.Schedule.Check(Schedule),
                Choices.Balance.Check(Balance), Choices.Final.Check(Final), Choices.StainMethod.Check(StainMethodName),
            })
            {
                if (!choice.Successful)
                {
                    return choice;
                }
            }

            if (StainTarget != null && !File.Exists(StainTarget))
            {
                return ValidationResult.Error($"--stain-target '{StainTarget}' not found");
            }

            if (ClassNamesText != null)
            {
                var names = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (string pair in ClassNamesText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    int eq = pair.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0 || eq == pair.Length - 1 || !names.TryAdd(pair[..eq].Trim(), pair[(eq + 1)..].Trim()))
                    {
                        return ValidationResult.Error($"--class-names takes LABEL=NAME pairs separated by commas, each label once (e.g. 0=non-IDC tissue,1=IDC), got '{ClassNamesText}'");
                    }
                }

                ClassNames = names.Count > 0 ? names : null;
            }

            if (Resume && Force)
            {
                return ValidationResult.Error("--resume continues a run and --force replaces it: give one of them");
            }

            try
            {
                ToOptions().Validate();
            }
            catch (ArgumentException e)
            {
                return ValidationResult.Error(e.Message);
            }

            return base.Validate();
        }

        /// <summary>The recipe these options ask for.</summary>
        public TrainingOptions ToOptions() => new()
        {
            Folds = Folds,
            Epochs = Epochs,
            BatchSize = Batch,
            InputSizePixels = Input,
            CropSizePixels = Crop,
            CropStridePixels = Stride,
            Precision = Choices.Precision.Parse(Precision),
            Mpp = Mpp,
            LearningRate = LearningRate,
            Schedule = Choices.Schedule.Parse(Schedule),
            Optimizer = Choices.Optimizer.Parse(Optimizer),
            FrozenBackboneEpochs = FreezeEpochs,
            FrozenStages = FrozenStages,
            Balancing = Choices.Balance.Parse(Balance),
            Seed = Seed,
            Threads = ThreadsOption.Effective(Threads),
            Augment = !NoAugment,
            StainNormalization = StainTarget == null ? null : Choices.StainMethod.Parse(StainMethodName),
            Final = Choices.Final.Parse(Final),
        };
    }

    /// <summary>The warning for <c>--precision bf16</c> on a CPU without native bf16.</summary>
    internal const string BFloat16Emulated =
        "warning: this CPU has no AVX512-BF16 instructions, so bf16 is emulated and training runs many times slower than fp32; --precision auto picks fp32 here";

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var trainer = new Trainer(settings.ToOptions());
        var run = new TrainingRunOptions
        {
            Resume = settings.Resume,
            Force = settings.Force,
            AllowLeaks = settings.AllowLeaks,
            InitModelDirectory = settings.Init,
            StainTargetPath = settings.StainTarget,
            ClassNames = settings.ClassNames,
        };
        Dataset dataset = ProgressView.Run(new DatasetProgressModel(), progress => DatasetLoader.Load(settings.Paths, settings.LoadOptions(mpp: settings.Mpp), progress, cancellationToken));
        if (dataset.MppWarning is { } scaleWarning)
        {
            Terminal.ErrorLine("warning: " + OptionRemedies.Warning(scaleWarning));
        }

        if (Choices.Precision.Parse(settings.Precision) == TrainingPrecision.BFloat16Mixed && !TrainingHardware.HasNativeBFloat16)
        {
            Console.Error.WriteLine(BFloat16Emulated);
        }

        // a refusal (TrainingRefusedException) is worded with this command's options by OptionRemedies
        TrainingResult result = ProgressView.Run(new TrainingProgressModel(), progress => trainer.Run(dataset, settings.Output!, run, progress, cancellationToken));

        Render(result, dataset);
        return 0;
    }

    private static void Render(TrainingResult result, Dataset dataset)
    {
        var inv = CultureInfo.InvariantCulture;
        CrossValidationSummary cv = result.CrossValidation;
        bool binary = cv.Pooled.BinaryAccuracy is not null;
        var table = new Table().AddColumn("fold").AddColumn("train").AddColumn("val").AddColumn("best epoch")
            .AddColumn("balanced acc").AddColumn("macro F1").AddColumn("accuracy");
        if (binary)
        {
            table.AddColumn("binary acc");
        }

        // Per-class F1 of two-class runs too: published binary figures (IDC's F1 0.7648) are the positive class's F1, not
        // the macro mean. With more classes the pooled per-class table below carries the per-class figures.
        bool perClass = dataset.Classes.Count <= 2;
        if (perClass)
        {
            foreach (var cls in dataset.Classes)
            {
                table.AddColumn(Terminal.Markup("F1 " + cls.Name));
            }
        }

        foreach (FoldResult f in result.Folds)
        {
            var cells = new List<string>
            {
                f.Fold.ToString(inv), f.TrainCount.ToString("N0", inv), f.ValidationCount.ToString("N0", inv), f.BestEpoch.ToString(inv),
                MetricsTables.F(f.Metrics.BalancedAccuracy), MetricsTables.F(f.Metrics.MacroF1), MetricsTables.F(f.Metrics.Accuracy),
            };
            if (binary)
            {
                cells.Add(MetricsTables.F(f.Metrics.BinaryAccuracy ?? double.NaN));
            }

            if (perClass)
            {
                cells.AddRange(f.Metrics.PerClass.Select(c => MetricsTables.F(c.F1)));
            }

            table.AddRow(cells.ToArray());
        }

        AnsiConsole.Write(table);
        string accuracy = MetricsTables.MeanSd(result.Folds.Select(f => f.Metrics.Accuracy));
        string binaryFolds = binary ? $", binary accuracy {MetricsTables.MeanSd(result.Folds.Select(f => f.Metrics.BinaryAccuracy ?? double.NaN))}" : "";
        Terminal.OutLine(string.Create(inv,
            $"CV ({result.Folds.Count}-fold, grouped by {GroupWord(dataset)}): accuracy {accuracy}{binaryFolds}, balanced accuracy {cv.BalancedAccuracyMean:0.0000} ± {cv.BalancedAccuracySd:0.0000}, macro F1 {cv.MacroF1Mean:0.0000} ± {cv.MacroF1Sd:0.0000} (mean ± sd over folds)"));
        string binaryPooled = cv.Pooled.BinaryAccuracy is { } b ? $", binary accuracy (carcinoma vs not) {MetricsTables.F(b)}" : "";
        Terminal.OutLine(string.Create(inv,
            $"pooled out-of-fold ({cv.Pooled.Count:N0} images): accuracy {MetricsTables.F(cv.Pooled.Accuracy)}{binaryPooled}, balanced accuracy {cv.Pooled.BalancedAccuracy:0.0000} [95% CI {cv.BalancedAccuracyInterval.Low:0.0000}-{cv.BalancedAccuracyInterval.High:0.0000}], macro F1 {cv.Pooled.MacroF1:0.0000} [95% CI {cv.MacroF1Interval.Low:0.0000}-{cv.MacroF1Interval.High:0.0000}]{(cv.Pooled.Auc is { } auc ? $", AUC {auc:0.0000}" : "")}"));
        Terminal.OutLine("per class (pooled out-of-fold; sensitivity and specificity one class vs the rest, as in the BACH paper's Table 4):");
        AnsiConsole.Write(MetricsTables.PerClass(cv.Pooled));
        Terminal.OutLine("confusion matrix (pooled out-of-fold; rows: truth, columns: predicted):");
        AnsiConsole.Write(MetricsTables.Confusion(cv.Pooled));
        string final = result.Final == FinalModelChoice.BestFold
            ? $"final model: weights of fold {result.BestFold} at its best epoch"
            : $"final model: trained on all {dataset.Items.Count:N0} images for {result.FinalEpochs} epochs (the folds' mean best epoch)";
        string scale = dataset.Mpp is { } mpp ? string.Create(inv, $"; {mpp:0.###} µm/px") : "";
        Terminal.OutLine(string.Create(inv, $"{final}; input {result.InputSizePixels} px{scale}; {result.Elapsed.TotalMinutes:0.0} min{(result.Resumed ? " (resumed)" : "")}"));
        Terminal.OutLine($"model written to {result.ModelDirectory}");
    }

    private static string GroupWord(Dataset dataset) =>
        dataset.Items.All(i => i.GroupKind == GroupKind.Patient) ? "patient" : dataset.Items.All(i => i.GroupKind == GroupKind.SourceImage) ? "source image" : "group";
}
