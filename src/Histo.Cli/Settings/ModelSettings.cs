using System.ComponentModel;
using Histo.Datasets;
using Histo.Learning.Evaluation;
using Histo.Learning.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Settings;

/// <summary><c>--threads N</c>: the one wording and range of the thread count, whichever command takes it.</summary>
internal static class ThreadsOption
{
    /// <summary>The option's template.</summary>
    public const string Template = "--threads <N>";

    /// <summary>The option's help text.</summary>
    public const string Help = "CPU threads for the network and for reading images (default: all cores).";

    /// <summary>Success for no value or 1..256 threads.</summary>
    public static ValidationResult Check(int? threads) => threads is < 1 or > 256
        ? ValidationResult.Error($"--threads must be between 1 and 256, got {threads}")
        : ValidationResult.Success();

    /// <summary>The thread count to use: the one given, else every core.</summary>
    public static int Effective(int? threads) => threads ?? Environment.ProcessorCount;
}

/// <summary>
/// Options of every command that runs a trained model: the model directory, the batch and the thread count. The
/// batch option itself is declared by <see cref="ImageModelSettings"/> and <see cref="SlideModelSettings"/>, whose
/// defaults differ.
/// </summary>
public abstract class ModelSettings : CommonSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("Model directory (model.json + weights.bin), as written by histo train.")]
    public string Model { get; set; } = "";

    [CommandOption(ThreadsOption.Template)]
    [Description(ThreadsOption.Help)]
    public int? Threads { get; set; }

    /// <summary>Patches per network call.</summary>
    public abstract int Batch { get; set; }

    /// <summary>The thread count to use.</summary>
    internal int EffectiveThreads => ThreadsOption.Effective(Threads);

    /// <summary>Checks the shared options.</summary>
    public override ValidationResult Validate()
    {
        if (Batch is < 1 or > 4096)
        {
            return ValidationResult.Error($"--batch must be between 1 and 4096, got {Batch}");
        }

        if (ThreadsOption.Check(Threads) is { Successful: false } threads)
        {
            return threads;
        }

        return base.Validate();
    }

    /// <summary>
    /// Sets libtorch's thread count, opens the model and runs its engine's self-check, so that a fallback warning or a
    /// refusal comes before any work.
    /// </summary>
    internal PatchClassifier LoadModel()
    {
        TorchSharp.torch.set_num_threads(EffectiveThreads);
        PatchClassifier classifier = PatchClassifier.Load(Model);
        try
        {
            _ = classifier.Engine; // reading it runs the self-check
            return classifier;
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }
}

/// <summary>Options of the commands that run a model over images (<c>evaluate</c>, <c>predict</c>, <c>embed</c>).</summary>
public class ImageModelSettings : ModelSettings
{
    [CommandOption("--tta")]
    [Description("Test-time augmentation: average each patch over its 8 rotations and flips.")]
    public bool Tta { get; set; }

    [CommandOption("--batch <N>")]
    [Description("Patches per network call (default 32).")]
    public override int Batch { get; set; } = 32;

    /// <summary>The prediction options these settings ask for.</summary>
    public ImagePredictionOptions PredictionOptions => new() { TestTimeAugmentation = Tta, BatchSize = Batch };
}

/// <summary>Image-model options plus the size policy of the datasets read (<c>evaluate</c>, <c>embed</c>).</summary>
public class DatasetModelSettings : ImageModelSettings
{
    [CommandOption(DatasetSettings.SizePolicyTemplate)]
    [Description(DatasetSettings.SizePolicyHelp)]
    public string SizePolicy { get; set; } = "pad";

    /// <summary>Checks the size policy, then the shared options.</summary>
    public override ValidationResult Validate()
    {
        if (Choices.SizePolicy.Check(SizePolicy) is { Successful: false } policy)
        {
            return policy;
        }

        return base.Validate();
    }

    /// <summary>
    /// Loader options for the datasets these commands read. Mixed scales are allowed: the image predictor brings each
    /// image to the model's µm/px by its own.
    /// </summary>
    internal DatasetLoadOptions LoadOptions() => new()
    {
        SizePolicy = Choices.SizePolicy.Parse(SizePolicy),
        AllowMixedScales = true,
    };
}
