using System.Text.Json;
using Histo.Annotations;
using Histo.Inference;
using Histo.Models;
using Histo.Outputs;

namespace Histo.Cohorts;

/// <summary>Options of <see cref="ThresholdTuning.Run"/>.</summary>
public sealed record ThresholdTuningOptions
{
    /// <summary>Grid step of the threshold search (a multiple of 0.01).</summary>
    public double Step { get; init; } = 0.01;

    /// <summary>Label texts of annotation files to BACH classes (default: BACH substrings).</summary>
    public LabelMap LabelMap { get; init; } = LabelMap.Bach;

    /// <summary>
    /// A folder of <c>histo slide</c> outputs made with the same model: a slide whose outputs are complete in
    /// <c>PreviousOutputs/&lt;slide name&gt;/</c> is read from there instead of being run again.
    /// </summary>
    public string? PreviousOutputs { get; init; }
}

/// <summary>One slide of a tuning run: its truth, its patch count, and the output folder reused for it, if any.</summary>
public sealed record TunedSlide(string Slide, string Truth, int PatchCount, string? ReusedOutputs);

/// <summary>What <see cref="ThresholdTuning.Run"/> found: the best thresholds and the slides they were tuned on.</summary>
public sealed record ThresholdTuningReport(TuningResult Result, IReadOnlyList<TunedSlide> Slides);

/// <summary>
/// The <c>histo tune</c> workflow: pair slides with their ground truth by name, run (or reuse) inference on each with
/// the argmax map, pool the cells in a <see cref="ThresholdTuner"/>, search the thresholds, and store them in a card.
/// </summary>
public static class ThresholdTuning
{
    private static readonly HashSet<string> AnnotationExtensions = new(StringComparer.OrdinalIgnoreCase) { ".xml", ".geojson", ".json" };

    /// <summary>
    /// Splits <paramref name="files"/> into slides and ground truth (annotation files, and label masks named with a
    /// truth suffix such as <c>-labels</c>) and pairs them by name.
    /// </summary>
    /// <exception cref="HistoException">A file does not exist, or the files do not pair up.</exception>
    public static IReadOnlyList<(string Slide, string Truth)> Pair(IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        foreach (string file in files.Where(f => !File.Exists(f)))
        {
            throw new HistoException($"{file}: file not found");
        }

        static bool IsTruth(string f) => AnnotationExtensions.Contains(Path.GetExtension(f)) || GroundTruth.HasTruthSuffix(Path.GetFileNameWithoutExtension(f));
        return GroundTruth.Pair([.. files.Where(f => !IsTruth(f))], [.. files.Where(IsTruth)]);
    }

    /// <summary>
    /// Runs <paramref name="inference"/> (its rule should be argmax: the tuner reads the probabilities) on every pair,
    /// or reads the slide's complete previous outputs, adds each to the tuner with its truth, and tunes.
    /// <paramref name="progress"/> gets the slide's index among the pairs with each inference report.
    /// </summary>
    public static ThresholdTuningReport Run(SlideInference inference, ModelCard card, IReadOnlyList<(string Slide, string Truth)> pairs,
        ThresholdTuningOptions options, IProgress<CohortProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inference);
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(options);
        var tuner = new ThresholdTuner();
        var slides = new List<TunedSlide>(pairs.Count);
        for (int i = 0; i < pairs.Count; i++)
        {
            var (slide, truth) = pairs[i];
            string? reused = options.PreviousOutputs is { } previous && SlideOutputs.IsComplete(previous, slide)
                ? SlideOutputs.DirectoryFor(previous, slide)
                : null;
            var result = reused is not null
                ? SlideOutputs.Read(reused, card)
                : inference.Run(slide, CohortProgressRelay.For(progress, i, pairs.Count), cancellationToken);
            tuner.Add(result, GroundTruth.Load(truth, result.Geometry, options.LabelMap, cancellationToken));
            slides.Add(new TunedSlide(slide, truth, result.Patches.Count, reused));
        }

        return new ThresholdTuningReport(tuner.Tune(options.Step), slides);
    }

    /// <summary>
    /// Writes the tuned thresholds into the card in <paramref name="modelDirectory"/>, with their provenance under
    /// <c>thresholds_tuning</c>; the card is read again so that nothing else in it changes.
    /// </summary>
    public static void WriteIntoCard(string modelDirectory, ThresholdTuningReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var tuned = report.Result;
        var card = ModelCard.Load(modelDirectory);
        card.Thresholds = [.. tuned.Thresholds];
        card.Extra ??= [];
        card.Extra["thresholds_tuning"] = JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["score"] = Math.Round(tuned.Score, 6),
            ["seed_thresholds_score"] = Math.Round(tuned.SeedScore, 6),
            ["argmax_score"] = Math.Round(tuned.ArgmaxScore, 6),
            ["step"] = tuned.Step,
            ["cells"] = tuned.Cells,
            ["slides"] = report.Slides.Select(s => Path.GetFileName(s.Slide)).ToArray(),
        });
        card.Save(modelDirectory);
    }
}
