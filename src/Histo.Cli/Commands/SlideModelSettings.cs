using System.ComponentModel;
using Histo.Annotations;
using Histo.Learning.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>Options of the commands that run a model over slides (<c>slide</c>, <c>tune</c>, <c>mine</c>).</summary>
public class SlideModelSettings : CommonSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("Model directory (model.json + weights.bin).")]
    public string Model { get; set; } = "";

    [CommandOption("--batch <N>")]
    [Description("Patches per model call (default 16).")]
    public int Batch { get; set; } = 16;

    [CommandOption("--threads <N>")]
    [Description("Threads for the model and for reading patches (default: the number of cores).")]
    public int? Threads { get; set; }

    /// <summary>The thread count to use.</summary>
    internal int EffectiveThreads => Threads ?? Environment.ProcessorCount;

    /// <summary>Checks the shared options.</summary>
    public override ValidationResult Validate()
    {
        if (Batch is < 1 or > 4096)
        {
            return ValidationResult.Error($"--batch must be between 1 and 4096, got {Batch}");
        }

        if (Threads is < 1 or > 256)
        {
            return ValidationResult.Error($"--threads must be between 1 and 256, got {Threads}");
        }

        return base.Validate();
    }

    /// <summary>Sets libtorch's thread count and opens the model.</summary>
    internal PatchClassifier LoadModel()
    {
        TorchSharp.torch.set_num_threads(EffectiveThreads);
        return PatchClassifier.Load(Model);
    }
}

/// <summary>Slide-model options plus the label map of annotation files (<c>tune</c>, <c>mine</c>).</summary>
public class AnnotatedSlideModelSettings : SlideModelSettings
{
    [CommandOption("--label-map <MAP>")]
    [Description("Label texts to classes for annotation files (default: BACH substrings).")]
    public string? LabelMapSpec { get; set; }

    internal LabelMap LabelMap { get; private set; } = LabelMap.Bach;

    /// <summary>Checks the shared options and parses the label map.</summary>
    public override ValidationResult Validate()
    {
        ValidationResult shared = base.Validate();
        if (!shared.Successful || LabelMapSpec == null)
        {
            return shared;
        }

        try
        {
            LabelMap = LabelMap.Parse(LabelMapSpec);
            return shared;
        }
        catch (LabelMapException e)
        {
            return ValidationResult.Error("--label-map: " + e.Message);
        }
    }
}
