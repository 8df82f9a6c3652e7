using System.ComponentModel;
using Histo.Cli.Settings;
using Histo.Imaging;
using Histo.Slides;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo thumbnail SLIDE -o out.png [--max-size N]</c>.</summary>
public sealed class ThumbnailCommand : Command<ThumbnailCommand.Settings>
{
    public sealed class Settings : OutputFileSettings
    {
        [CommandArgument(0, "<SLIDE>")]
        [Description("Whole-slide image or plain image file.")]
        public string Slide { get; set; } = "";

        [CommandOption("--max-size <PIXELS>")]
        [Description("Longest side of the thumbnail in pixels (default 1024).")]
        public int MaxSize { get; set; } = 1024;

        public override ValidationResult Validate()
        {
            if (MaxSize is < 1 or > 16384)
            {
                return ValidationResult.Error($"--max-size must be between 1 and 16384, got {MaxSize}");
            }

            return ValidateOutput();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var slide = Slide.Open(settings.Slide);
        var thumbnail = slide.GetThumbnail(settings.MaxSize);
        ImageIO.Save(settings.Output!, thumbnail);
        Terminal.ErrorLine($"wrote {settings.Output} ({thumbnail.Width} x {thumbnail.Height})");
        return 0;
    }
}
