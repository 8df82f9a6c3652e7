using System.ComponentModel;
using System.Globalization;
using Histo.Cli.Settings;
using Histo.Imaging;
using Histo.Slides;
using Histo.Tissue;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo tissue SLIDE -o mask.png [--method lab|otsu] [--mask-mpp M] [--overlay overlay.png]</c>.</summary>
public sealed class TissueCommand : Command<TissueCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandArgument(0, "<SLIDE>")]
        [Description("Whole-slide image or plain image file.")]
        public string Slide { get; set; } = "";

        [CommandOption("-o|--output <PATH>")]
        [Description("Mask PNG to write (255 = tissue, 0 = background), one pixel per mask cell.")]
        public string? Output { get; set; }

        [CommandOption("--method <METHOD>")]
        [Description("lab (default: a* above 1.1 x its mean, with a floor and a cap) or otsu (Otsu on saturation).")]
        public string Method { get; set; } = "lab";

        [CommandOption("--mask-mpp <MICRONS>")]
        [Description("Mask resolution in µm per mask pixel when the slide's MPP is known (default 8).")]
        public double? Mpp { get; set; }

        [CommandOption("--overlay <PATH>")]
        [Description("Also write the mask drawn over the slide image (.png or .jpg).")]
        public string? Overlay { get; set; }

        [CommandOption("--keep-pen")]
        [Description("Do not reject pen marks (blue, green, black, red ink).")]
        public bool KeepPen { get; set; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Output))
            {
                return ValidationResult.Error("a mask file is required: -o mask.png");
            }

            if (!string.Equals(Path.GetExtension(Output), ".png", StringComparison.OrdinalIgnoreCase))
            {
                return ValidationResult.Error($"the mask must be a .png file (lossless), got '{Output}'");
            }

            if (Choices.TissueMethod.Check(Method) is { Successful: false } method)
            {
                return method;
            }

            if (Mpp is { } m && !(m is > 0 and <= 1000))
            {
                return ValidationResult.Error($"--mask-mpp must be between 0 and 1000 µm/px, got {m.ToString(CultureInfo.InvariantCulture)}");
            }

            if (Overlay != null && !(Path.GetExtension(Overlay).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg"))
            {
                return ValidationResult.Error($"--overlay must end in .png or .jpg, got '{Overlay}'");
            }

            foreach (string? file in new[] { Output, Overlay })
            {
                string? dir = file is null ? null : Path.GetDirectoryName(Path.GetFullPath(file));
                if (dir != null && !Directory.Exists(dir))
                {
                    return ValidationResult.Error($"output directory '{dir}' does not exist");
                }
            }

            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = new TissueOptions
        {
            Method = Choices.TissueMethod.Parse(settings.Method),
            RejectPenMarks = !settings.KeepPen,
        };
        if (settings.Mpp is { } mpp)
        {
            options = options with { MaskMpp = mpp };
        }

        using var slide = Slide.Open(settings.Slide);
        var result = new TissueDetector(options).Detect(slide, null, cancellationToken);
        var overlay = settings.Overlay is null ? null : TissueOverlay.Render(result);
        result.Mask.Save(settings.Output!);
        if (overlay != null)
        {
            ImageIO.Save(settings.Overlay!, overlay);
        }

        foreach (var warning in result.Warnings)
        {
            Terminal.ErrorLine($"warning: {OptionRemedies.Warning(warning)}");
        }

        var c = CultureInfo.InvariantCulture;
        string resolution = result.MaskMpp is { } maskMpp ? string.Create(c, $"{maskMpp:0.##} µm/px, ") : "";
        string area = result.TissueAreaMm2 is { } mm2 ? string.Create(c, $", {mm2:0.###} mm²") : "";
        string threshold = result.Method == TissueMethod.Lab
            ? string.Create(c, $"a* > {result.Threshold:0.##}")
            : string.Create(c, $"saturation > {result.Threshold:0.###}");
        Terminal.ErrorLine(string.Create(c,
            $"tissue: {result.TissueFraction * 100:0.0} % of the slide{area}; pen marks {result.PenFraction * 100:0.0} %; {threshold}"));
        Terminal.ErrorLine(string.Create(c,
            $"wrote {settings.Output} ({result.Mask.Width} x {result.Mask.Height}, {resolution}{result.Mask.Level0PerPixelX:0.##} level-0 px per mask px, read from level {result.LevelIndex})"));
        if (settings.Overlay != null)
        {
            Terminal.ErrorLine($"wrote {settings.Overlay} ({overlay!.Width} x {overlay.Height})");
        }

        return 0;
    }
}
