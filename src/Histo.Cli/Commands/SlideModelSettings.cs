using System.ComponentModel;
using Histo.Annotations;
using Histo.Learning.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>Options of the commands that run a model over slides (<c>slide</c>, <c>tune</c>, <c>mine</c>).</summary>
public class SlideModelSettings : ModelSettings
{
    [CommandOption("--batch <N>")]
    [Description("Patches per model call (default 16).")]
    public override int Batch { get; set; } = 16;
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
