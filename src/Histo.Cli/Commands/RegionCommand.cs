using System.ComponentModel;
using Histo.Imaging;
using Histo.Slides;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo region SLIDE --x X --y Y --width W --height H [--level L] -o out.png</c>.</summary>
public sealed class RegionCommand : Command<RegionCommand.Settings>
{
    public sealed class Settings : OutputFileSettings
    {
        [CommandArgument(0, "<SLIDE>")]
        [Description("Whole-slide image or plain image file.")]
        public string Slide { get; set; } = "";

        [CommandOption("-x|--level0-x <LEVEL0_X>")]
        [Description("Left edge in level-0 pixels (also --x).")]
        public long? X { get; set; }

        [CommandOption("-y|--level0-y <LEVEL0_Y>")]
        [Description("Top edge in level-0 pixels (also --y).")]
        public long? Y { get; set; }

        [CommandOption("--width <PIXELS>")]
        [Description("Width in pixels of the chosen level.")]
        public int? Width { get; set; }

        [CommandOption("--height <PIXELS>")]
        [Description("Height in pixels of the chosen level.")]
        public int? Height { get; set; }

        [CommandOption("--level <LEVEL>")]
        [Description("Pyramid level to read from (default 0).")]
        public int Level { get; set; }

        public override ValidationResult Validate()
        {
            if (X is null || Y is null || Width is null || Height is null)
            {
                return ValidationResult.Error("--x, --y, --width and --height are required");
            }

            if (Width <= 0 || Height <= 0)
            {
                return ValidationResult.Error($"--width and --height must be positive, got {Width}x{Height}");
            }

            if (Level < 0)
            {
                return ValidationResult.Error($"--level must be 0 or more, got {Level}");
            }

            return ValidateOutput();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var slide = Slide.Open(settings.Slide);
        var region = slide.ReadRegion(settings.X!.Value, settings.Y!.Value, settings.Level, settings.Width!.Value, settings.Height!.Value);
        ImageIO.Save(settings.Output!, region);
        Console.Error.WriteLine($"wrote {settings.Output} ({region.Width} x {region.Height})");
        return 0;
    }
}
