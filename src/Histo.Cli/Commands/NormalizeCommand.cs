using System.ComponentModel;
using Histo.Cli.Settings;
using Histo.Color;
using Histo.Imaging;
using Histo.Slides;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo normalize IMAGE|SLIDE --target T -o out.png [--method macenko|reinhard] [--x --y --width --height] [--level L]</c>.</summary>
public sealed class NormalizeCommand : Command<NormalizeCommand.Settings>
{
    /// <summary>Largest image normalised without a region, in pixels.</summary>
    private const long MaxWholeImagePixels = 64L << 20;

    public sealed class Settings : RegionFileSettings
    {
        [CommandArgument(0, "<INPUT>")]
        [Description("Image file, or a slide with a region (--x --y --width --height).")]
        public string Input { get; set; } = "";

        [CommandOption("--target <IMAGE>")]
        [Description("Reference image whose staining to match (e.g. TIAToolbox's target_image.png).")]
        public string? Target { get; set; }

        [CommandOption("--method <METHOD>")]
        [Description("macenko (default) or reinhard.")]
        public string Method { get; set; } = "macenko";

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Target))
            {
                return ValidationResult.Error("a target image is required: --target target.png");
            }

            if (Choices.NormalizeMethod.Check(Method) is { Successful: false } method)
            {
                return method;
            }

            return ValidateRegionAndOutput(required: false);
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var target = ImageIO.Load(settings.Target!).CompositeOverWhite();
        var normalizer = StainNormalizer.Fit(Choices.NormalizeMethod.Parse(settings.Method), target);
        RgbaImage source;
        using (var slide = Slide.Open(settings.Input))
        {
            if (settings.X is { } x)
            {
                source = slide.ReadRegion(x, settings.Y!.Value, settings.Level, settings.Width!.Value, settings.Height!.Value);
            }
            else
            {
                if (settings.Level >= slide.LevelCount)
                {
                    throw new InvalidRegionException($"level {settings.Level} does not exist (the slide has levels 0..{slide.LevelCount - 1})");
                }

                var level = slide.Levels[settings.Level];
                if (level.Width * level.Height > MaxWholeImagePixels)
                {
                    throw new InvalidRegionException(
                        $"{settings.Input} is {level.Width}x{level.Height} at level {settings.Level}: too large to normalise whole; give a region with --x --y --width --height, or a smaller --level");
                }

                source = slide.ReadRegion(0, 0, settings.Level, (int)level.Width, (int)level.Height);
            }
        }

        var result = normalizer.Normalize(source.CompositeOverWhite());
        ImageIO.Save(settings.Output!, result.Image);
        if (!result.Applied)
        {
            Terminal.ErrorLine($"warning: not normalised ({result.SkipReason}); wrote the image unchanged");
        }

        Terminal.ErrorLine($"wrote {settings.Output} ({result.Image.Width} x {result.Image.Height}, {settings.Method})");
        return 0;
    }
}
