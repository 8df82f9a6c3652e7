using Histo.Color;
using Histo.Datasets;
using Histo.Learning.Training;
using Histo.Patches;
using Histo.Tissue;

namespace Histo.Cli.Settings;

/// <summary>Every word-valued option of the CLI and the library value each word stands for, in one place.</summary>
internal static class Choices
{
    /// <summary><c>--size-policy</c> (any case).</summary>
    public static readonly OptionChoice<SizePolicy> SizePolicy = new("--size-policy", ignoreCase: true,
        ("pad", Datasets.SizePolicy.Pad), ("resize", Datasets.SizePolicy.Resize), ("skip", Datasets.SizePolicy.Skip));

    /// <summary><c>--breakhis-labels</c>.</summary>
    public static readonly OptionChoice<BreakHisLabeling> BreakHisLabels = new("--breakhis-labels", ignoreCase: false,
        ("binary", BreakHisLabeling.BenignMalignant), ("subtype", BreakHisLabeling.Subtype));

    /// <summary><c>--method</c> of <c>tissue</c> and <c>patches</c>: the tissue detector.</summary>
    public static readonly OptionChoice<TissueMethod> TissueMethod = new("--method", ignoreCase: false,
        ("lab", Tissue.TissueMethod.Lab), ("otsu", Tissue.TissueMethod.Otsu));

    /// <summary><c>--label-rule</c> of <c>patches</c>.</summary>
    public static readonly OptionChoice<LabelRule> LabelRule = new("--label-rule", ignoreCase: false,
        ("mean", Patches.LabelRule.RoundedMean), ("majority", Patches.LabelRule.Majority));

    /// <summary><c>--method</c> of <c>normalize</c>: the stain normaliser.</summary>
    public static readonly OptionChoice<StainMethod> NormalizeMethod = new("--method", ignoreCase: false,
        ("macenko", Color.StainMethod.Macenko), ("reinhard", Color.StainMethod.Reinhard));

    /// <summary><c>--stain-method</c> of <c>train</c>.</summary>
    public static readonly OptionChoice<StainMethod> StainMethod = new("--stain-method", ignoreCase: false,
        ("macenko", Color.StainMethod.Macenko), ("reinhard", Color.StainMethod.Reinhard));

    /// <summary><c>--optimizer</c> of <c>train</c>.</summary>
    public static readonly OptionChoice<OptimizerKind> Optimizer = new("--optimizer", ignoreCase: false,
        ("sgd", OptimizerKind.SgdNesterov), ("adamw", OptimizerKind.AdamW));

    /// <summary><c>--precision</c> of <c>train</c>.</summary>
    public static readonly OptionChoice<TrainingPrecision> Precision = new("--precision", ignoreCase: false,
        ("auto", TrainingPrecision.Auto), ("fp32", TrainingPrecision.Float32), ("bf16", TrainingPrecision.BFloat16Mixed));

    /// <summary><c>--schedule</c> of <c>train</c>.</summary>
    public static readonly OptionChoice<LearningRateSchedule> Schedule = new("--schedule", ignoreCase: false,
        ("cosine", LearningRateSchedule.Cosine), ("step", LearningRateSchedule.Step));

    /// <summary><c>--balance</c> of <c>train</c>.</summary>
    public static readonly OptionChoice<ClassBalancing> Balance = new("--balance", ignoreCase: false,
        ("loss", ClassBalancing.LossWeights), ("sampling", ClassBalancing.Sampling), ("none", ClassBalancing.None));

    /// <summary><c>--final</c> of <c>train</c>.</summary>
    public static readonly OptionChoice<FinalModelChoice> Final = new("--final", ignoreCase: false,
        ("all", FinalModelChoice.AllData), ("best-fold", FinalModelChoice.BestFold));
}
