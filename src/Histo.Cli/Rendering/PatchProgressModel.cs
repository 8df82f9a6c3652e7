using System.Diagnostics;
using System.Globalization;
using Histo.Patches;

namespace Histo.Cli.Rendering;

/// <summary>Progress of <c>histo patches</c>: one row (slide, positions, patches, patches/s); as plain lines, one every two seconds.</summary>
internal sealed class PatchProgressModel : ProgressModel<PatchProgress>
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <inheritdoc />
    public override (double Done, double Total) Position(PatchProgress value) => (value.PositionsDone, value.PositionCount);

    /// <inheritdoc />
    public override string Describe(PatchProgress value, int width)
    {
        double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
        return ProgressView.Fit(string.Create(CultureInfo.InvariantCulture,
            $"slide {value.SlideIndex + 1}/{value.SlideCount} {value.Slide}: {value.PositionsDone}/{value.PositionCount} positions, {value.PatchesWritten} patches, {value.PatchesWritten / seconds:0.#} patches/s"), width);
    }
}
