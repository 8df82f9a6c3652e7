using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
using Histo.Cohorts;
using Histo.Inference;
using Histo.Learning.Models;
using Histo.Maps;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>
/// <c>histo slide MODEL SLIDES -o OUT [--shard i/n] [--roi mask.png|annotation] [--batch N] [--threads N]
/// [--thresholds a,b,c,d | --argmax] [--stride-pixels S] [--min-tissue F] [--force]</c>.
/// </summary>
public sealed class SlideCommand : Command<SlideCommand.Settings>
{
    public sealed class Settings : SlideModelSettings
    {
        [CommandArgument(1, "<SLIDES>")]
        [Description("A slide, a folder of slides, or a .txt file listing slide paths (one per line).")]
        public string Slides { get; set; } = "";

        [CommandOption("-o|--output <DIR>")]
        [Description("Output folder: one sub-folder per slide (OUT/<slide name>/) plus cohort.csv.")]
        public string? Output { get; set; }

        [CommandOption("--shard <I/N>")]
        [Description("Process only shard i of n (0-based): slides at positions i, i+n, ... of the sorted cohort.")]
        public string? ShardText { get; set; }

        [CommandOption("--roi <FILE>")]
        [Description("Region of interest instead of detected tissue: a mask PNG over the whole slide (non-zero = region) or an annotation file (one slide only).")]
        public string? Roi { get; set; }

        [CommandOption("--thresholds <T0,T1,...>")]
        [Description("Class map by thresholds on the intensity, e.g. 0,0.35,0.70,0.75 (the seed's). Default: the card's tuned thresholds, else argmax.")]
        public string? Thresholds { get; set; }

        [CommandOption("--argmax")]
        [Description("Class map by argmax of the probabilities, even when the card has tuned thresholds.")]
        public bool Argmax { get; set; }

        [CommandOption("--stride-pixels <PIXELS>")]
        [Description("Step between patches in patch pixels; each map cell is one step wide. Default: the card's crop stride for a model trained on crops, else the patch size, shortened so map cells are at most 100 µm when the slide has an MPP. Smaller = overlapping patches and a finer map.")]
        public int? StridePixels { get; set; }

        [CommandOption(MinTissueOption.Template)]
        [Description(MinTissueOption.Help)]
        public double MinTissue { get; set; } = MinTissueOption.Default;

        [CommandOption("--force")]
        [Description("Recompute slides whose output folder is already complete (default: skip them).")]
        public bool Force { get; set; }

        internal Shard Shard { get; private set; } = Shard.All;

        internal ClassMapRule? Rule { get; private set; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Output))
            {
                return ValidationResult.Error("an output folder is required: -o OUT");
            }

            if (File.Exists(Output))
            {
                return ValidationResult.Error($"output '{Output}' is a file, not a folder");
            }

            if (StridePixels is < 1)
            {
                return ValidationResult.Error($"--stride-pixels must be at least 1, got {StridePixels}");
            }

            if (MinTissueOption.Check(MinTissue) is { Successful: false } minTissue)
            {
                return minTissue;
            }

            if (Argmax && Thresholds != null)
            {
                return ValidationResult.Error("give either --argmax or --thresholds, not both");
            }

            try
            {
                Shard = ShardText is null ? Shard.All : Shard.Parse(ShardText);
                Rule = Argmax ? ClassMapRule.Argmax : Thresholds is null ? null : ClassMapRule.WithThresholds(ParseThresholds(Thresholds));
            }
            catch (InvalidParameterException e)
            {
                return ValidationResult.Error(OptionRemedies.Error(e));
            }

            if (Roi != null && (Directory.Exists(Slides) || Slides.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)))
            {
                return ValidationResult.Error("--roi belongs to one slide; it cannot be used with a folder or a list");
            }

            return base.Validate();
        }

        internal static double[] ParseThresholds(string text)
        {
            var parts = text.Split(',', StringSplitOptions.TrimEntries);
            var values = new double[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                {
                    throw new InvalidParameterException($"--thresholds must be numbers separated by commas (e.g. 0,0.35,0.7,0.75), got '{text}'");
                }
            }

            return values;
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        int threads = settings.EffectiveThreads;
        var region = settings.Roi is null ? (RegionOfInterest)new RegionOfInterest.DetectedTissue() : RegionOfInterest.FromPath(settings.Roi);
        CohortInputs.Expand(settings.Slides, settings.Shard); // fail on a bad input before loading the model
        using var model = settings.LoadModel();
        var inference = new SlideInference(model, new SlideInferenceOptions
        {
            BatchSize = settings.Batch,
            ReaderThreads = threads,
            StridePixels = settings.StridePixels,
            MinTissueFraction = settings.MinTissue,
            Region = region,
            Rule = settings.Rule,
        });
        string modelName = Path.GetFileName(Path.GetFullPath(settings.Model).TrimEnd(Path.DirectorySeparatorChar));
        var runner = new CohortRunner(inference, modelName, PatchClassifier.ComputeId(settings.Model)) { Force = settings.Force };
        var clock = Stopwatch.StartNew();
        var report = Run(runner, settings, cancellationToken);
        var c = CultureInfo.InvariantCulture;
        if (report.Slides.Count == 1 && report.Slides[0].Status == SlideStatus.Failed)
        {
            throw new HistoException($"{report.Slides[0].Slide}: {report.Slides[0].Error}");
        }

        foreach (var slide in report.Slides)
        {
            foreach (var warning in slide.Warnings)
            {
                Terminal.ErrorLine($"warning: {slide.Slide}: {OptionRemedies.Warning(warning)}");
            }

            string line = slide.Status switch
            {
                SlideStatus.Done => string.Create(c,
                    $"{slide.Slide}: done in {slide.Seconds:0.0} s ({slide.PatchCount} patches, {slide.PatchCount / Math.Max(slide.Seconds ?? 0, 1e-9):0.#} patches/s)"),
                SlideStatus.Skipped => $"{slide.Slide}: skipped (outputs complete; --force recomputes)",
                _ => $"error: {slide.Slide}: {slide.Error}",
            };
            Terminal.ErrorLine(line);
        }

        Terminal.ErrorLine(string.Create(c,
            $"{report.Slides.Count(s => s.Status == SlideStatus.Done)} done, {report.Slides.Count(s => s.Status == SlideStatus.Skipped)} skipped, {report.FailedCount} failed in {clock.Elapsed.TotalSeconds:0.0} s"));
        var table = report.Table;
        Terminal.ErrorLine($"cohort: {table.DoneCount} done, {table.FailedCount} failed, {table.PendingCount} pending; table: {report.CsvPath}");
        return report.FailedCount > 0 ? 1 : 0;
    }

    private static CohortReport Run(CohortRunner runner, Settings settings, CancellationToken cancellationToken) =>
        ProgressView.Run(new SlideProgressModel(), progress => runner.Run(settings.Slides, settings.Output!, settings.Shard, progress, cancellationToken));
}
