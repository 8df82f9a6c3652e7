using System.Diagnostics;
using System.Globalization;
using System.Text;
using Histo.IO;
using Histo.Models;

namespace Histo.Inference;

/// <summary>What happened to one slide of a cohort run.</summary>
public enum SlideStatus
{
    /// <summary>Inferred in this run.</summary>
    Done,

    /// <summary>Its output directory was already complete.</summary>
    Skipped,

    /// <summary>Failed in this run (see the message).</summary>
    Failed,

    /// <summary>Not done yet: owned by another shard (or failed there).</summary>
    Pending,
}

/// <summary>One row of the cohort table.</summary>
/// <param name="Slide">Slide name.</param>
/// <param name="SlidePath">Slide path.</param>
/// <param name="Status">Outcome.</param>
/// <param name="Seconds">Time spent in this run (null when not run here).</param>
/// <param name="Error">The failure message.</param>
/// <param name="Warnings">Fallbacks taken while inferring.</param>
/// <param name="PatchCount">Patches classified in this run.</param>
public sealed record CohortSlideResult(string Slide, string SlidePath, SlideStatus Status, double? Seconds, string? Error, IReadOnlyList<string> Warnings,
    int PatchCount = 0);

/// <summary>Progress of a cohort run.</summary>
/// <param name="SlideIndex">0-based index of the current slide among this job's slides.</param>
/// <param name="SlideCount">Slides of this job.</param>
/// <param name="Slide">The current slide's progress.</param>
public readonly record struct CohortProgress(int SlideIndex, int SlideCount, SlideInferenceProgress Slide);

/// <summary>The outcome of a cohort run.</summary>
/// <param name="Slides">This job's slides, in order.</param>
/// <param name="CsvPath">The cohort table written.</param>
public sealed record CohortReport(IReadOnlyList<CohortSlideResult> Slides, string CsvPath)
{
    /// <summary>Slides that failed in this run.</summary>
    public int FailedCount => Slides.Count(s => s.Status == SlideStatus.Failed);
}

/// <summary>
/// Runs <see cref="SlideInference"/> over a cohort as idempotent per-slide jobs: a slide whose output directory is
/// complete is skipped (so a crashed or killed run resumes where it stopped), a failing slide is recorded and the
/// others continue. Then writes <c>OUT/cohort.csv</c> atomically, one row per slide of the whole cohort (all shards):
/// name, status, seconds, tissue mm², mm² per class, error.
/// </summary>
public sealed class CohortRunner
{
    /// <summary>File name of the cohort table.</summary>
    public const string CsvFileName = "cohort.csv";

    private readonly SlideInference _inference;
    private readonly string _modelName;

    /// <summary>Creates a runner for a pipeline; <paramref name="modelName"/> goes into each summary.</summary>
    public CohortRunner(SlideInference inference, string modelName)
    {
        ArgumentNullException.ThrowIfNull(inference);
        ArgumentNullException.ThrowIfNull(modelName);
        (_inference, _modelName) = (inference, modelName);
    }

    /// <summary>Re-run slides whose outputs are complete instead of skipping them.</summary>
    public bool Force { get; init; }

    /// <summary>
    /// Processes <paramref name="input"/> (a slide, a folder or a .txt list) for this <paramref name="shard"/> into
    /// <paramref name="outputRoot"/>. Cancellation stops between (or inside) slides and is rethrown.
    /// </summary>
    public CohortReport Run(string input, string outputRoot, Shard shard, IProgress<CohortProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outputRoot);
        var all = CohortInputs.Expand(input, Shard.All);
        var mine = CohortInputs.Expand(input, shard);
        Directory.CreateDirectory(outputRoot);
        var results = new List<CohortSlideResult>();
        for (int i = 0; i < mine.Count; i++)
        {
            string slide = mine[i];
            string name = CohortInputs.SlideName(slide);
            if (!Force && SlideOutputs.IsComplete(outputRoot, slide))
            {
                results.Add(new CohortSlideResult(name, slide, SlideStatus.Skipped, null, null, []));
                continue;
            }

            var clock = Stopwatch.StartNew();
            int index = i;
            var relay = progress is null ? null : new Relay(p => progress.Report(new CohortProgress(index, mine.Count, p)));
            try
            {
                var result = _inference.Run(slide, relay, cancellationToken);
                relay?.Report(new SlideInferenceProgress(name, "writing", result.Patches.Count, result.Patches.Count));
                SlideOutputs.Write(outputRoot, result, _modelName, _inference.Options.ThumbnailMaxPixels, cancellationToken);
                results.Add(new CohortSlideResult(name, slide, SlideStatus.Done, clock.Elapsed.TotalSeconds, null, result.Warnings, result.Patches.Count));
            }
            catch (HistoException e)
            {
                results.Add(new CohortSlideResult(name, slide, SlideStatus.Failed, clock.Elapsed.TotalSeconds, e.Message, []));
            }
            catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
            {
                // One slide's unexpected failure (a decoder or disk error) must not cost the rest of the cohort.
                results.Add(new CohortSlideResult(name, slide, SlideStatus.Failed, clock.Elapsed.TotalSeconds, $"unexpected {e.GetType().Name}: {e.Message}", []));
            }
        }

        string csv = Path.Combine(outputRoot, CsvFileName);
        WriteCsv(csv, all, results, outputRoot, _inference.Card.DisplayClassNames);
        return new CohortReport(results, csv);
    }

    private static void WriteCsv(string path, IReadOnlyList<string> all, List<CohortSlideResult> results, string outputRoot, IReadOnlyList<string> classes)
    {
        var c = CultureInfo.InvariantCulture;
        var byPath = results.ToDictionary(r => r.SlidePath, StringComparer.Ordinal);
        var text = new StringBuilder("slide,status,seconds,tissue_mm2");
        foreach (string name in classes)
        {
            text.Append(',').Append(SlideOutputs.CsvField("mm2_" + name));
        }

        text.Append(",error\n");
        foreach (string slide in all)
        {
            byPath.TryGetValue(slide, out var r);
            var status = r?.Status ?? (SlideOutputs.IsComplete(outputRoot, slide) ? SlideStatus.Skipped : SlideStatus.Pending);
            bool complete = status is SlideStatus.Done or SlideStatus.Skipped;
            text.Append(SlideOutputs.CsvField(CohortInputs.SlideName(slide))).Append(',')
                .Append(status.ToString().ToLowerInvariant()).Append(',')
                .Append(r?.Seconds is { } s ? s.ToString("0.##", c) : "");
            if (complete)
            {
                var (tissue, areas) = SlideSummary.ReadAreas(Path.Combine(SlideOutputs.DirectoryFor(outputRoot, slide), SlideOutputs.Summary));
                text.Append(',').Append(Format(tissue));
                foreach (string name in classes)
                {
                    text.Append(',').Append(Format(areas.FirstOrDefault(a => a.Name == name).AreaMm2));
                }
            }
            else
            {
                text.Append(',', classes.Count + 1);
            }

            text.Append(',').Append(r?.Error is { } e ? SlideOutputs.CsvField(e) : "").Append('\n');
        }

        AtomicFile.WriteAllText(path, text.ToString());

        string Format(double? v) => v is { } x ? x.ToString("0.######", c) : "";
    }

    private sealed class Relay(Action<SlideInferenceProgress> report) : IProgress<SlideInferenceProgress>
    {
        public void Report(SlideInferenceProgress value) => report(value);
    }
}
