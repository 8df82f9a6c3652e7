using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Histo.Color;
using Histo.Learning.Models;
using Histo.Models;

namespace Histo.Learning.Training;

/// <summary>The optimiser of a training run.</summary>
public enum OptimizerKind
{
    /// <summary>SGD with Nesterov momentum (the seed's choice).</summary>
    SgdNesterov,

    /// <summary>AdamW (decoupled weight decay).</summary>
    AdamW,
}

/// <summary>How the learning rate changes after the warm-up.</summary>
public enum LearningRateSchedule
{
    /// <summary>Cosine decay from the base rate to zero over the run.</summary>
    Cosine,

    /// <summary>Multiply by <see cref="TrainingOptions.StepGamma"/> every <see cref="TrainingOptions.StepEpochs"/> epochs.</summary>
    Step,
}

/// <summary>How unequal class sizes are compensated.</summary>
public enum ClassBalancing
{
    /// <summary>No compensation.</summary>
    None,

    /// <summary>Cross-entropy weighted by inverse class frequency (each class contributes equally).</summary>
    LossWeights,

    /// <summary>Each epoch draws images with probability inversely proportional to their class size.</summary>
    Sampling,
}

/// <summary>What the processor offers the training arithmetic.</summary>
public static class TrainingHardware
{
    /// <summary>
    /// True when the CPU has AVX512-BF16 (CPUID leaf 7 subleaf 1, EAX bit 5). Without it libtorch emulates bf16 and
    /// <see cref="TrainingPrecision.BFloat16Mixed"/> is many times slower than fp32 (measured on an AVX2-only EPYC:
    /// under 1 image/s against fp32's several per second at 224 px).
    /// </summary>
    public static bool HasNativeBFloat16 => MixedPrecision.CpuHasBFloat16();
}

/// <summary>The arithmetic of the training forward and backward passes.</summary>
public enum TrainingPrecision
{
    /// <summary>bf16 mixed precision where the CPU has AVX512-BF16 instructions, fp32 elsewhere.</summary>
    Auto,

    /// <summary>fp32 throughout.</summary>
    Float32,

    /// <summary>
    /// Forward and backward in bfloat16 on a copy of the network, gradients applied in fp32 to fp32 master weights
    /// (the optimiser state and the saved weights stay fp32).
    /// </summary>
    BFloat16Mixed,
}

/// <summary>Which weights the final model directory holds.</summary>
public enum FinalModelChoice
{
    /// <summary>A model trained on all data for the mean best epoch count of the folds.</summary>
    AllData,

    /// <summary>The weights of the fold with the best validation balanced accuracy, at its best epoch.</summary>
    BestFold,
}

/// <summary>
/// The recipe of a training run: cross-validation, optimisation, augmentation and preprocessing. Every default is the
/// measured default recipe (README, "Training"); the seed alone decides every random choice.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Default number of cross-validation folds.</summary>
    public const int DefaultFolds = 3;

    /// <summary>Default epochs per fold.</summary>
    public const int DefaultEpochs = 5;

    /// <summary>Default batch size.</summary>
    public const int DefaultBatchSize = 64;

    /// <summary>Default seed.</summary>
    public const int DefaultSeed = 42;

    /// <summary>Cross-validation folds (grouped by patient or source image).</summary>
    public int Folds { get; init; } = DefaultFolds;

    /// <summary>Epochs per fold.</summary>
    public int Epochs { get; init; } = DefaultEpochs;

    /// <summary>Images per optimisation step.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>The optimiser: AdamW by default (on IDC it beat the seed's SGD at lr 0.001 and 0.003 in patient-grouped CV).</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;

    /// <summary>Base learning rate, or null for the optimiser's default (AdamW 0.0003; SGD 0.001 as in the seed's recipe).</summary>
    public double? LearningRate { get; init; }

    /// <summary>The learning rate actually used.</summary>
    public double EffectiveLearningRate => LearningRate ?? (Optimizer == OptimizerKind.AdamW ? 3e-4 : 1e-3);

    /// <summary>SGD momentum (Nesterov).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Weight decay (L2 for SGD, decoupled for AdamW).</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Schedule after the warm-up.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Cosine;

    /// <summary>Linear learning-rate warm-up from 0, in epochs (fractions allowed).</summary>
    public double WarmupEpochs { get; init; } = 0.5;

    /// <summary>Step schedule: epochs between decays.</summary>
    public int StepEpochs { get; init; } = 3;

    /// <summary>Step schedule: factor applied at every step.</summary>
    public double StepGamma { get; init; } = 0.1;

    /// <summary>Epochs at the start of each run during which only the head learns (the backbone is frozen).</summary>
    public int FrozenBackboneEpochs { get; init; }

    /// <summary>
    /// The stem and the first this-many residual stages (0..4) keep their ImageNet weights for the whole run, their
    /// batch norms in eval mode: no gradient is computed through them, so a step is cheaper (bf16, 224 px, 2 cores:
    /// 44 images/s with 2 frozen stages against 26 with none). Null follows the data: <see cref="DefaultFrozenStagesForCrops"/>
    /// when the run cuts the seed's crops (BACH-like fields), 0 (every layer learns) for whole images such as IDC's patches.
    /// </summary>
    public int? FrozenStages { get; init; }

    /// <summary>
    /// Frozen stages of a crop-based run by default: on BACH Part A (fold 1 of the 3-fold CV, 5 epochs, bf16) freezing
    /// the stem, layer1 and layer2 scored 0.83 at its best epoch against 0.80 with every layer learning, 1.7x faster.
    /// </summary>
    public const int DefaultFrozenStagesForCrops = 2;

    /// <summary>Class-imbalance compensation.</summary>
    public ClassBalancing Balancing { get; init; } = ClassBalancing.LossWeights;

    /// <summary>Dropout before the linear head.</summary>
    public double Dropout { get; init; } = 0.5;

    /// <summary>Random dihedral transform plus HSV and stain jitter on training images.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>Stain normalisation applied to every image (training and, through the card, inference).</summary>
    public StainMethod? StainNormalization { get; init; }

    /// <summary>Network input side in pixels, or null to follow the data (see <see cref="DefaultInputSize"/>).</summary>
    public int? InputSizePixels { get; init; }

    /// <summary>
    /// Microns per pixel of the training images when the user gives it: overrides the dataset's
    /// <see cref="Histo.Datasets.Dataset.Mpp"/> (read from the files) in the card. Null uses the dataset's.
    /// </summary>
    public double? Mpp { get; init; }

    /// <summary>
    /// Side of the square training crops in image pixels: 0 trains on whole images, null follows the data (the seed's
    /// ~628 µm window when the images' µm/px is known and they are at least one window large, whole images otherwise;
    /// see <see cref="DefaultCropMicrons"/>).
    /// </summary>
    public int? CropSizePixels { get; init; }

    /// <summary>Stride of the crop window in image pixels, or null for the seed's ~41.6 µm (see <see cref="DefaultStrideMicrons"/>).</summary>
    public double? CropStridePixels { get; init; }

    /// <summary>
    /// The training arithmetic: <see cref="TrainingPrecision.Auto"/> by default, bf16 mixed precision where the CPU
    /// has AVX512-BF16 (1.6x faster per step there; on BACH Part A its CV matched fp32's, see README, "BACH"), fp32
    /// elsewhere.
    /// </summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Auto;

    /// <summary>CPU threads for the network and data preparation.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Seed of the split, the initial head, shuffling, augmentation and dropout.</summary>
    public int Seed { get; init; } = DefaultSeed;

    /// <summary>What the final model is.</summary>
    public FinalModelChoice Final { get; init; } = FinalModelChoice.BestFold;

    /// <summary>
    /// The input size that follows the data: twice the usual patch side, to the nearest multiple of 32 (the network's
    /// total stride), at least 64 and at most 224 (the pretraining size). IDC's 50 px patches train at 96 px: in
    /// patient-grouped CV on IDC, 96 px beat 64 px (the patch side rounded up) and matched 128 px at half its cost.
    /// Large images (BACH, BreakHis) train at 224 px.
    /// </summary>
    public static int DefaultInputSize(int patchSidePixels) =>
        DefaultWholeImageInputSize(patchSidePixels);

    /// <summary>
    /// The input size of a run on the seed's crops (~628 µm windows of BACH-like fields): 320 px, ~2 µm/px. On BACH
    /// Part A (fold 1 of the 3-fold CV, 5 epochs, bf16, 2 frozen stages) 320 px reached 0.85 against 0.83 at 224 px,
    /// at half the throughput.
    /// </summary>
    public const int DefaultCropInputSize = 320;

    private static int DefaultWholeImageInputSize(int patchSidePixels) =>
        Math.Clamp((int)Math.Round(2.0 * patchSidePixels / 32, MidpointRounding.AwayFromZero) * 32, 64, 224);

    /// <summary>
    /// The seed's crop side in microns: 1495 px at 0.42 µm/px (Kwok 2018 cut BACH's 2048 x 1536 fields into 1495 px
    /// windows), 748 px on the 0.84 µm/px BACH fields in the shared data.
    /// </summary>
    public const double DefaultCropMicrons = 1495 * 0.42;

    /// <summary>The seed's crop stride in microns: 99 px at 0.42 µm/px (49.5 px at 0.84), 14 crops per BACH field.</summary>
    public const double DefaultStrideMicrons = 99 * 0.42;

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new ArgumentException(message);
            }
        }

        Require(Folds >= 2, $"folds must be 2 or more, got {Folds}");
        Require(Epochs >= 1, $"epochs must be 1 or more, got {Epochs}");
        Require(BatchSize >= 2, $"batch size must be 2 or more, got {BatchSize}");
        Require(EffectiveLearningRate > 0 && double.IsFinite(EffectiveLearningRate), "learning rate must be positive");
        Require(Momentum is >= 0 and < 1, "momentum must be in [0, 1)");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), "weight decay must be 0 or more");
        Require(WarmupEpochs >= 0 && double.IsFinite(WarmupEpochs), "warm-up epochs must be 0 or more");
        Require(StepEpochs >= 1 && StepGamma is > 0 and <= 1, "step schedule needs step epochs >= 1 and gamma in (0, 1]");
        Require(FrozenBackboneEpochs >= 0, "frozen-backbone epochs must be 0 or more");
        Require(FrozenStages is null or (>= 0 and <= ResNet18Variant.StageCount), $"frozen stages must be 0..{ResNet18Variant.StageCount}, got {FrozenStages}");
        Require(Dropout is >= 0 and < 1, "dropout must be in [0, 1)");
        Require(InputSizePixels is null or (>= 32 and <= 1024), $"input size must be 32..1024 pixels, got {InputSizePixels}");
        Require(Mpp is null || (Mpp >= ModelCard.MinMpp && Mpp <= ModelCard.MaxMpp),
            string.Create(CultureInfo.InvariantCulture, $"mpp must be {ModelCard.MinMpp}..{ModelCard.MaxMpp} µm/px, got {Mpp}"));
        Require(CropSizePixels is null or >= 0, $"crop size must be 0 (whole images) or more pixels, got {CropSizePixels}");
        Require(CropStridePixels is null || (CropStridePixels >= 1 && double.IsFinite(CropStridePixels.Value)), $"crop stride must be at least 1 pixel, got {CropStridePixels}");
        Require(Threads >= 1, $"threads must be 1 or more, got {Threads}");
    }

    /// <summary>The learning rate at a point of a run of <paramref name="totalEpochs"/> epochs.</summary>
    /// <param name="epochProgress">Epochs done so far, fractional within an epoch (0 at the start).</param>
    /// <param name="totalEpochs">Epochs of this run.</param>
    public double LearningRateAt(double epochProgress, int totalEpochs)
    {
        double lr = EffectiveLearningRate;
        if (WarmupEpochs > 0 && epochProgress < WarmupEpochs)
        {
            return lr * Math.Max(epochProgress, 1e-3 * WarmupEpochs) / WarmupEpochs;
        }

        return Schedule switch
        {
            LearningRateSchedule.Step => lr * Math.Pow(StepGamma, Math.Floor(epochProgress / StepEpochs)),
            _ => totalEpochs <= WarmupEpochs
                ? lr
                : lr * 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp((epochProgress - WarmupEpochs) / (totalEpochs - WarmupEpochs), 0, 1))),
        };
    }

    /// <summary>The recipe as JSON (for the model card and to check that a resumed run uses the same recipe).</summary>
    public JsonObject ToJson() => JsonSerializer.SerializeToNode(RecipeJson.Of(this))!.AsObject();
}

/// <summary>The recipe's JSON form, in the order the model card has always listed it.</summary>
internal record RecipeJson
{
    [JsonPropertyName("folds")] public int Folds { get; init; }
    [JsonPropertyName("epochs")] public int Epochs { get; init; }
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; }
    [JsonPropertyName("optimizer")] public string Optimizer { get; init; } = "";
    [JsonPropertyName("learning_rate")] public double LearningRate { get; init; }
    [JsonPropertyName("momentum")] public double? Momentum { get; init; }
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; }
    [JsonPropertyName("schedule")] public string Schedule { get; init; } = "";
    [JsonPropertyName("warmup_epochs")] public double WarmupEpochs { get; init; }
    [JsonPropertyName("step_epochs")] public int? StepEpochs { get; init; }
    [JsonPropertyName("step_gamma")] public double? StepGamma { get; init; }
    [JsonPropertyName("frozen_backbone_epochs")] public int FrozenBackboneEpochs { get; init; }
    [JsonPropertyName("frozen_stages")] public int? FrozenStages { get; init; }
    [JsonPropertyName("class_balancing")] public string ClassBalancing { get; init; } = "";
    [JsonPropertyName("dropout")] public double Dropout { get; init; }
    [JsonPropertyName("augmentation")] public string Augmentation { get; init; } = "";
    [JsonPropertyName("stain_normalization")] public string StainNormalization { get; init; } = "";
    [JsonPropertyName("crop_size_pixels")] public int? CropSizePixels { get; init; }
    [JsonPropertyName("crop_stride_pixels")] public double? CropStridePixels { get; init; }
    [JsonPropertyName("precision")] public string Precision { get; init; } = "";
    [JsonPropertyName("seed")] public int Seed { get; init; }
    [JsonPropertyName("final_model")] public string FinalModel { get; init; } = "";

    private RecipeJson() { }

    /// <summary>The JSON form of <paramref name="options"/>.</summary>
    public static RecipeJson Of(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var inv = CultureInfo.InvariantCulture;
        bool step = options.Schedule == LearningRateSchedule.Step;
        return new RecipeJson
        {
            Folds = options.Folds,
            Epochs = options.Epochs,
            BatchSize = options.BatchSize,
            Optimizer = options.Optimizer == OptimizerKind.AdamW ? "adamw" : "sgd-nesterov",
            LearningRate = options.EffectiveLearningRate,
            Momentum = options.Optimizer == OptimizerKind.SgdNesterov ? options.Momentum : null,
            WeightDecay = options.WeightDecay,
            Schedule = options.Schedule.ToString().ToLower(inv),
            WarmupEpochs = options.WarmupEpochs,
            StepEpochs = step ? options.StepEpochs : null,
            StepGamma = step ? options.StepGamma : null,
            FrozenBackboneEpochs = options.FrozenBackboneEpochs,
            FrozenStages = options.FrozenStages,
            ClassBalancing = options.Balancing switch { Training.ClassBalancing.LossWeights => "loss-weights", Training.ClassBalancing.Sampling => "sampling", _ => "none" },
            Dropout = options.Dropout,
            Augmentation = options.Augment ? "dihedral + hsv jitter + stain jitter" : "none",
            StainNormalization = options.StainNormalization?.ToString().ToLower(inv) ?? "none",
            CropSizePixels = options.CropSizePixels,
            CropStridePixels = options.CropStridePixels,
            Precision = options.Precision switch { TrainingPrecision.Float32 => "fp32", TrainingPrecision.BFloat16Mixed => "bf16-mixed", _ => "auto" },
            Seed = options.Seed,
            FinalModel = options.Final == FinalModelChoice.BestFold ? "best-fold" : "all-data",
        };
    }
}
