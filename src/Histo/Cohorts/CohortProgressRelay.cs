using Histo.Inference;

namespace Histo.Cohorts;

/// <summary>
/// Passes one slide's inference reports on as <see cref="CohortProgress"/> of slide <c>index</c> of <c>count</c>, at
/// once on the reporting thread (<see cref="CohortRunner"/> and <see cref="ThresholdTuning"/> run slides in turn).
/// </summary>
internal sealed class CohortProgressRelay(IProgress<CohortProgress> progress, int index, int count) : IProgress<SlideInferenceProgress>
{
    /// <summary>A relay to <paramref name="progress"/>, or null when nobody listens.</summary>
    public static CohortProgressRelay? For(IProgress<CohortProgress>? progress, int index, int count) =>
        progress is null ? null : new CohortProgressRelay(progress, index, count);

    /// <inheritdoc />
    public void Report(SlideInferenceProgress value) => progress.Report(new CohortProgress(index, count, value));
}
