using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Histo.Annotations;
using Histo.Cli.Rendering;
using Histo.Inference;
using Histo.Learning.Models;
using Histo.Maps;
using Histo.Models;
using Histo.Outputs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>
/// <c>histo tune MODEL FILES... [--step 0.01] [--label-map MAP] [--outputs OUT] [--batch N] [--threads N] [--dry-run]</c>: slides and
/// their ground truth (paired by name), thresholds that maximise the pooled BACH Part B score written into the card.
/// </summary>
public sealed class TuneCommand : Command<TuneCommand.Settings>
{
    private static readonly HashSet<string> AnnotationExtensions = new(StringComparer.OrdinalIgnoreCase) { ".xml", ".geojson", ".json" };

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
        foreach (string file in settings.Files.Where(f => !File.Exists(f)))
        {
            throw new HistoException($"{file}: file not found");
        }

        bool IsTruth(string f) => AnnotationExtensions.Contains(Path.GetExtension(f)) || GroundTruth.HasTruthSuffix(Path.GetFileNameWithoutExtension(f));
        var pairs = GroundTruth.Pair(settings.Files.Where(f => !IsTruth(f)).ToList(), settings.Files.Where(IsTruth).ToList());
        int threads = settings.EffectiveThreads;
        using var model = settings.LoadModel();
        var inference = new SlideInference(model, new SlideInferenceOptions { BatchSize = settings.Batch, ReaderThreads = threads, Rule = ClassMapRule.Argmax });
        var tuner = new ThresholdTuner();
        double lastLine = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var (slide, truth) in pairs)
        {
            string previous = settings.Outputs is null ? "" : SlideOutputs.DirectoryFor(settings.Outputs, slide);
            bool reuse = settings.Outputs != null && SlideOutputs.IsComplete(settings.Outputs, slide);
            var result = reuse
                ? SlideOutputs.Read(previous, model.Card)
                : inference.Run(slide, new SyncProgress<SlideInferenceProgress>(p =>
            {
                if (clock.Elapsed.TotalSeconds - lastLine >= 2)
                {
                    lastLine = clock.Elapsed.TotalSeconds;
                    Terminal.ErrorLine($"{p.Slide}: {p.Stage} {p.PatchesDone}/{p.PatchCount} patches");
                }
            }), cancellationToken);
            tuner.Add(result, GroundTruth.Load(truth, result.Geometry, settings.LabelMap, cancellationToken));
            Terminal.ErrorLine($"{Path.GetFileName(slide)} + {Path.GetFileName(truth)}: {result.Patches.Count} patches" + (reuse ? $" (reused {previous})" : ""));
        }

        var tuned = tuner.Tune(settings.Step);
        var c = CultureInfo.InvariantCulture;
        string thresholds = string.Join(",", tuned.Thresholds.Select(t => t.ToString("0.##", c)));
        if (!settings.DryRun)
        {
            // Re-read the card so that only the thresholds (and their provenance) change.
            var card = ModelCard.Load(settings.Model);
            card.Thresholds = [.. tuned.Thresholds];
            card.Extra ??= [];
            card.Extra["thresholds_tuning"] = JsonSerializer.SerializeToElement(new Dictionary<string, object>
            {
                ["score"] = Math.Round(tuned.Score, 6),
                ["seed_thresholds_score"] = Math.Round(tuned.SeedScore, 6),
                ["argmax_score"] = Math.Round(tuned.ArgmaxScore, 6),
                ["step"] = tuned.Step,
                ["cells"] = tuned.Cells,
                ["slides"] = pairs.Select(p => Path.GetFileName(p.Slide)).ToArray(),
            });
            card.Save(settings.Model);
        }

        Terminal.OutLine(string.Create(c,
            $"thresholds {thresholds}: pooled Part B score {tuned.Score:0.0000} over {pairs.Count} slide(s) ({tuned.Cells} map cells); seed 0,0.35,0.7,0.75: {tuned.SeedScore:0.0000}; argmax: {tuned.ArgmaxScore:0.0000}"));
        Terminal.ErrorLine(settings.DryRun ? "dry run: the card was not changed" : $"wrote the thresholds into {Path.Combine(settings.Model, ModelCard.FileName)}");
        return 0;
    }
}
