using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
using Histo.Patches;
using Histo.Tissue;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>
/// <c>histo patches SLIDE|IMAGE|FOLDER -o DIR [--size 256] [--mpp 0.5 | --mag 20x | --level L] [--stride-pixels S]
/// [--min-tissue 0.05] [--labels mask.png] [--label-rule mean|majority] [--method lab|otsu]</c>.
/// </summary>
public sealed class PatchesCommand : Command<PatchesCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandArgument(0, "<INPUT>")]
        [Description("A slide, an image, or a folder of them (searched with its sub-folders).")]
        public string Input { get; set; } = "";

        [CommandOption("-o|--output <DIR>")]
        [Description("Output folder (created): one sub-folder of PNGs per slide plus patches.csv.")]
        public string? Output { get; set; }

        [CommandOption("--size <PIXELS>")]
        [Description("Patch side in pixels at the target resolution (default 256).")]
        public int Size { get; set; } = 256;

        [CommandOption("--mpp <MICRONS>")]
        [Description("Target resolution in µm per pixel (falls back to level 0, with a warning, when a slide has no MPP).")]
        public double? Mpp { get; set; }

        [CommandOption("--mag <MAGNIFICATION>")]
        [Description("Target resolution as objective magnification, e.g. 20x.")]
        public string? Magnification { get; set; }

        [CommandOption("--level <LEVEL>")]
        [Description("Target resolution as a pyramid level (the default is level 0).")]
        public int? Level { get; set; }

        [CommandOption("--stride-pixels <PIXELS>")]
        [Description("Step between patches in target pixels (default: the patch size). The last patch of each row and column is aligned to the far edge.")]
        public int? Stride { get; set; }

        [CommandOption(MinTissueOption.Template)]
        [Description(MinTissueOption.Help)]
        public double MinTissue { get; set; } = MinTissueOption.Default;

        [CommandOption("--labels <MASK_PNG>")]
        [Description("8-bit label mask over the whole slide (BACH codes 0..3 or class indices); one slide only.")]
        public string? Labels { get; set; }

        [CommandOption("--label-rule <RULE>")]
        [Description("mean (default: rounded mean of the codes, for ordinal BACH labels) or majority.")]
        public string LabelRule { get; set; } = "mean";

        [CommandOption("--method <METHOD>")]
        [Description("Tissue detection: lab (default) or otsu.")]
        public string Method { get; set; } = "lab";

        internal Resolution Resolution { get; private set; } = Resolution.Native;

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Output))
            {
                return ValidationResult.Error("an output folder is required: -o DIR");
            }

            if (File.Exists(Output))
            {
                return ValidationResult.Error($"output '{Output}' is a file, not a folder");
            }

            if (Size is < 1 or > 16384)
            {
                return ValidationResult.Error($"--size must be between 1 and 16384, got {Size}");
            }

            if (Stride is < 1 or > 1 << 24)
            {
                return ValidationResult.Error($"--stride-pixels must be at least 1, got {Stride}");
            }

            if (MinTissueOption.Check(MinTissue) is { Successful: false } minTissue)
            {
                return minTissue;
            }

            if (new object?[] { Mpp, Magnification, Level }.Count(v => v != null) > 1)
            {
                return ValidationResult.Error("give at most one of --mpp, --mag and --level");
            }

            try
            {
                Resolution = Mpp is { } mpp ? Resolution.Mpp(mpp)
                    : Magnification is { } mag ? Resolution.Magnification(ParseMagnification(mag))
                    : Level is { } level ? Resolution.Level(level)
                    : Resolution.Native;
            }
            catch (InvalidParameterException e)
            {
                return ValidationResult.Error(OptionRemedies.Error(e));
            }

            if (Choices.LabelRule.Check(LabelRule) is { Successful: false } rule)
            {
                return rule;
            }

            if (Choices.TissueMethod.Check(Method) is { Successful: false } method)
            {
                return method;
            }

            if (Labels != null && Directory.Exists(Input))
            {
                return ValidationResult.Error("--labels belongs to one slide; it cannot be used with a folder");
            }

            return ValidationResult.Success();
        }

        private static double ParseMagnification(string text)
        {
            string t = text.Trim().TrimEnd('x', 'X');
            return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
                ? value
                : throw new InvalidParameterException($"--mag must look like 20x, got '{text}'");
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var inputs = PatchExporter.FindInputs(settings.Input, excludeDirectory: settings.Output);
        var exporter = new PatchExporter(new PatchExportOptions
        {
            Resolution = settings.Resolution,
            SizePixels = settings.Size,
            StridePixels = settings.Stride,
            MinTissueFraction = settings.MinTissue,
            LabelRule = Choices.LabelRule.Parse(settings.LabelRule),
            Tissue = new TissueOptions { Method = Choices.TissueMethod.Parse(settings.Method) },
        });
        var clock = Stopwatch.StartNew();
        PatchExportSummary summary = ProgressView.Run(new PatchProgressModel(),
            progress => exporter.Export(inputs, settings.Output!, settings.Labels, progress, cancellationToken));
        foreach (var slide in summary.Slides)
        {
            foreach (var warning in slide.Warnings)
            {
                Terminal.ErrorLine($"warning: {OptionRemedies.Warning(warning)}");
            }
        }

        double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        var c = CultureInfo.InvariantCulture;
        foreach (var slide in summary.Slides)
        {
            Terminal.ErrorLine(string.Create(c,
                $"{slide.Slide}: {slide.PatchCount} of {slide.PositionCount} positions kept (tissue {slide.TissueFraction * 100:0.#} % of the slide, {slide.Resolution.Level0Downsample:0.###} level-0 px per patch px)"));
        }

        Terminal.ErrorLine(string.Create(c,
            $"wrote {summary.PatchCount} patches from {summary.Slides.Count} slide(s) to {settings.Output} and {summary.CsvPath} in {seconds:0.0} s ({summary.PatchCount / seconds:0.#} patches/s)"));
        return 0;
    }
}
