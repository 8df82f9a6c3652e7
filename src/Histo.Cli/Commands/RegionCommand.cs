using System.ComponentModel;
using Histo.Cli.Settings;
using Histo.Imaging;
using Histo.Slides;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo region SLIDE --x X --y Y --width W --height H [--level L] -o out.png</c>.</summary>
public sealed class RegionCommand : Command<RegionCommand.Settings>
{
    public sealed class Settings : RegionFileSettings
    {
        [CommandArgument(0, "<SLIDE>")]
        [Description("Whole-slide image or plain image file.")]
        public string Slide { get; set; } = "";

        public override ValidationResult Validate() => ValidateRegionAndOutput(required: true);
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var slide = Slide.Open(settings.Slide);
        var region = slide.ReadRegion(settings.X!.Value, settings.Y!.Value, settings.Level, settings.Width!.Value, settings.Height!.Value);
        ImageIO.Save(settings.Output!, region);
        Terminal.ErrorLine($"wrote {settings.Output} ({region.Width} x {region.Height})");
        return 0;
    }
}
