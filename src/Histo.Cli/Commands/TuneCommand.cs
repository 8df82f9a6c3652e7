using System.ComponentModel;
using System.Globalization;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
using Histo.Cohorts;
using Histo.Inference;
using Histo.Maps;
using Histo.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>
/// <c>histo tune MODEL FILES... [--step 0.01] [--label-map MAP] [--outputs OUT] [--batch N] [--threads N] [--dry-run]</c>: slides and
/// their ground truth (paired by name), thresholds that maximise the pooled BACH Part B score written into the card.
/// </summary>
public sealed class TuneCommand : Command<TuneCommand.Settings>
{
    public sealed class Settings : AnnotatedSlideModelSettings
    {
        [CommandArgument(1, "<FILES>")]
        [Description("Slides and their ground truth, paired by name: A01.svs with A01.xml (or .geojson), A01-window.tif with A01-window-labels.png (label mask of BACH codes).")]
        public string[] Files { get; set; } = [];

        [CommandOption("--step <STEP>")]
        [Description("Grid step of the threshold search (multiple of 0.01, default 0.01).")]
        public double Step { get; set; } = 0.01;

        [CommandOption("--outputs <OUT>")]
        [Description("Reuse complete slide outputs of `histo slide` with this model found in OUT/<slide name>/ instead of running the slides again.")]
        public string? Outputs { get; set; }

        [CommandOption("--dry-run")]
        [Description("Report the best thresholds without writing them into the card.")]
        public bool DryRun { get; set; }

        public override ValidationResult Validate()
        {
            if (Files.Length < 2)
            {
                return ValidationResult.Error("give at least one slide and its ground truth");
            }

            return base.Validate();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var pairs = ThresholdTuning.Pair(settings.Files);
        using var model = settings.LoadModel();
        var inference = new SlideInference(model, new SlideInferenceOptions { BatchSize = settings.Batch, ReaderThreads = settings.EffectiveThreads, Rule = ClassMapRule.Argmax });
        var options = new ThresholdTuningOptions { Step = settings.Step, LabelMap = settings.LabelMap, PreviousOutputs = settings.Outputs };
        ThresholdTuningReport report = ProgressView.Run(new SlideProgressModel(),
            progress => ThresholdTuning.Run(inference, model.Card, pairs, options, progress, cancellationToken));
        foreach (TunedSlide slide in report.Slides)
        {
            Terminal.ErrorLine($"{Path.GetFileName(slide.Slide)} + {Path.GetFileName(slide.Truth)}: {slide.PatchCount} patches" + (slide.ReusedOutputs is { } reused ? $" (reused {reused})" : ""));
        }

        if (!settings.DryRun)
        {
            ThresholdTuning.WriteIntoCard(settings.Model, report);
        }

        var tuned = report.Result;
        var c = CultureInfo.InvariantCulture;
        string thresholds = string.Join(",", tuned.Thresholds.Select(t => t.ToString("0.##", c)));
        Terminal.OutLine(string.Create(c,
            $"thresholds {thresholds}: pooled Part B score {tuned.Score:0.0000} over {pairs.Count} slide(s) ({tuned.Cells} map cells); seed 0,0.35,0.7,0.75: {tuned.SeedScore:0.0000}; argmax: {tuned.ArgmaxScore:0.0000}"));
        Terminal.ErrorLine(settings.DryRun ? "dry run: the card was not changed" : $"wrote the thresholds into {Path.Combine(settings.Model, ModelCard.FileName)}");
        return 0;
    }
}
