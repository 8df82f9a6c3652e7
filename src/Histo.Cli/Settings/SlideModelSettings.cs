using System.ComponentModel;
using Histo.Annotations;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Settings;

/// <summary><c>--label-map MAP</c>: label texts of annotation files to classes, worded and parsed once.</summary>
internal static class LabelMapOption
{
    /// <summary>The option's template.</summary>
    public const string Template = "--label-map <MAP>";

    /// <summary>The option's help text.</summary>
    public const string Help = "Label texts of annotation files to classes, e.g. Tumor=Invasive,Other=Normal, or a JSON file (default: BACH substrings).";

    /// <summary>Parses <paramref name="spec"/> (null: the BACH map) into <paramref name="map"/>, or says what is wrong with it.</summary>
    public static ValidationResult Parse(string? spec, out LabelMap map)
    {
        map = LabelMap.Bach;
        if (spec is null)
        {
            return ValidationResult.Success();
        }

        try
        {
            map = LabelMap.Parse(spec);
            return ValidationResult.Success();
        }
        catch (LabelMapException e)
        {
            return ValidationResult.Error(OptionRemedies.Error(e));
        }
    }
}

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
    [CommandOption(LabelMapOption.Template)]
    [Description(LabelMapOption.Help)]
    public string? LabelMapSpec { get; set; }

    internal LabelMap LabelMap { get; private set; } = LabelMap.Bach;

    /// <summary>Checks the shared options and parses the label map.</summary>
    public override ValidationResult Validate()
    {
        ValidationResult shared = base.Validate();
        if (!shared.Successful)
        {
            return shared;
        }

        ValidationResult parsed = LabelMapOption.Parse(LabelMapSpec, out LabelMap map);
        LabelMap = map;
        return parsed;
    }
}
