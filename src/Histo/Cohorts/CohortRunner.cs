using System.Diagnostics;
using Histo.Inference;
using Histo.Outputs;
using Histo.Slides;

namespace Histo.Cohorts;

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
public sealed record CohortSlideResult(string Slide, string SlidePath, SlideStatus Status, double? Seconds, string? Error, IReadOnlyList<HistoWarning> Warnings,
    int PatchCount = 0);

/// <summary>Progress of a cohort run.</summary>
/// <param name="SlideIndex">0-based index of the current slide among this job's slides.</param>
/// <param name="SlideCount">Slides of this job.</param>
/// <param name="Slide">The current slide's progress.</param>
public readonly record struct CohortProgress(int SlideIndex, int SlideCount, SlideInferenceProgress Slide);

/// <summary>The outcome of a cohort run.</summary>
/// <param name="Slides">This job's slides, in order.</param>
/// <param name="CsvPath">The cohort table written.</param>
/// <param name="Table">The whole cohort table (all runs into the folder) as written.</param>
public sealed record CohortReport(IReadOnlyList<CohortSlideResult> Slides, string CsvPath, CohortTable Table)
{
    /// <summary>Slides that failed in this run.</summary>
    public int FailedCount => Slides.Count(s => s.Status == SlideStatus.Failed);
}

/// <summary>
/// Runs <see cref="SlideInference"/> over a cohort as idempotent per-slide jobs: a slide whose output directory is
/// complete is skipped (so a crashed or killed run resumes where it stopped), a failing slide is recorded on disk
/// (<see cref="CohortTable.RecordFailure"/>) and the others continue. Then rebuilds <c>OUT/cohort.csv</c> from everything
/// on disk plus this run's inputs (<see cref="CohortTable.Update"/>), so the table of sequential runs or of concurrent
/// shards holds every slide.
/// </summary>
public sealed class CohortRunner
{
    /// <summary>File name of the cohort table.</summary>
    public const string CsvFileName = CohortTable.CsvFileName;

    private readonly SlideInference _inference;
    private readonly string _modelName;
    private readonly string? _modelId;

    /// <summary>
    /// Creates a runner for a pipeline; <paramref name="modelName"/> and <paramref name="modelId"/> (a hash of the
    /// model's weights and card) go into each summary.
    /// </summary>
    public CohortRunner(SlideInference inference, string modelName, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(inference);
        ArgumentNullException.ThrowIfNull(modelName);
        (_inference, _modelName, _modelId) = (inference, modelName, modelId);
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
            string name = SlideFormats.SlideName(slide);
            if (!Force && SlideOutputs.IsComplete(outputRoot, slide))
            {
                CohortTable.ClearFailure(outputRoot, slide); // a run killed between publishing and clearing
                results.Add(new CohortSlideResult(name, slide, SlideStatus.Skipped, null, null, []));
                continue;
            }

            var provenance = new SlideProvenance(_modelName, _modelId, DateTime.UtcNow);
            var clock = Stopwatch.StartNew();
            var relay = CohortProgressRelay.For(progress, i, mine.Count);
            string? error = null;
            try
            {
                var result = _inference.Run(slide, relay, cancellationToken);
                relay?.Report(new SlideInferenceProgress(name, "writing", result.Patches.Count, result.Patches.Count));
                SlideOutputs.Write(outputRoot, result, provenance, cancellationToken);
                CohortTable.ClearFailure(outputRoot, slide);
                results.Add(new CohortSlideResult(name, slide, SlideStatus.Done, clock.Elapsed.TotalSeconds, null, result.Warnings, result.Patches.Count));
            }
            catch (HistoException e)
            {
                error = e.Message;
            }
            catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
            {
                // One slide's unexpected failure (a decoder or disk error) must not cost the rest of the cohort.
                error = $"unexpected {e.GetType().Name}: {e.Message}";
            }

            if (error != null)
            {
                CohortTable.RecordFailure(outputRoot, slide, error, provenance, clock.Elapsed.TotalSeconds);
                results.Add(new CohortSlideResult(name, slide, SlideStatus.Failed, clock.Elapsed.TotalSeconds, error, []));
            }
        }

        var table = CohortTable.Update(outputRoot, all.Select(SlideFormats.SlideName), _inference.Card.DisplayClassNames);
        return new CohortReport(results, Path.Combine(outputRoot, CohortTable.CsvFileName), table);
    }
}
