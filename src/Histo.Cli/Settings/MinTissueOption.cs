using System.Globalization;
using Spectre.Console;

namespace Histo.Cli.Settings;

/// <summary><c>--min-tissue F</c> of <c>patches</c> and <c>slide</c>: the one wording and range of the tissue fraction.</summary>
internal static class MinTissueOption
{
    /// <summary>The option's template.</summary>
    public const string Template = "--min-tissue <FRACTION>";

    /// <summary>The option's help text.</summary>
    public const string Help = "Skip patches with less tissue than this fraction (0..1, default 0.05).";

    /// <summary>The default fraction.</summary>
    public const double Default = 0.05;

    /// <summary>Success for a fraction from 0 to 1.</summary>
    public static ValidationResult Check(double fraction) => fraction is >= 0 and <= 1
        ? ValidationResult.Success()
        : ValidationResult.Error($"--min-tissue must be between 0 and 1, got {fraction.ToString(CultureInfo.InvariantCulture)}");
}
