using System.Diagnostics;
using System.Globalization;
using Histo.Cohorts;
using Histo.Inference;

namespace Histo.Cli.Rendering;

/// <summary>
/// Progress of <c>histo slide</c>: one row (slide, stage, patches, patches/s and one ETA, fitted to the terminal's
/// width); as plain lines, one every two seconds.
/// </summary>
internal sealed class SlideProgressModel(Func<double>? clockSeconds = null) : ProgressModel<CohortProgress>
{
    private readonly SlideRateMeter _meter = new(clockSeconds ?? Clock());

    /// <inheritdoc />
    public override string Describe(CohortProgress value, int width) => _meter.Describe(value, width);

    /// <inheritdoc />
    public override (double Done, double Total) Position(CohortProgress value) => (value.Slide.PatchesDone, value.Slide.PatchCount);

    private static Func<double> Clock()
    {
        var watch = Stopwatch.StartNew();
        return () => watch.Elapsed.TotalSeconds;
    }
}

/// <summary>
/// The text of a slide's progress: patches/s measured over the patch stage only (the stages before and after it take
/// time but classify nothing), one ETA for the rest of that stage.
/// </summary>
internal sealed class SlideRateMeter(Func<double> clockSeconds)
{
    private string? _slide;
    private double _patchesStart;
    private double? _rate;

    /// <summary>One line of at most <paramref name="width"/> characters (the slide name is shortened first).</summary>
    public string Describe(CohortProgress p, int width)
    {
        var s = p.Slide;
        double now = clockSeconds();
        if (_slide != s.Slide)
        {
            (_slide, _patchesStart, _rate) = (s.Slide, now, null);
        }

        if (s.Stage != "patches" || s.PatchesDone == 0)
        {
            if (s.Stage != "writing")
            {
                _patchesStart = now; // the clock of the patch stage starts with its first patch
            }
        }
        else if (now - _patchesStart >= 0.5)
        {
            _rate = s.PatchesDone / (now - _patchesStart);
        }

        var c = CultureInfo.InvariantCulture;
        string what = s.Stage switch
        {
            "patches" => string.Create(c, $"{s.PatchesDone:N0}/{s.PatchCount:N0} patches, {Rate()}, ETA {Eta(s)}"),
            "writing" => string.Create(c, $"writing outputs ({Rate()})"),
            "tissue" => "finding tissue",
            _ => s.Stage,
        };
        string prefix = string.Create(c, $"{p.SlideIndex + 1}/{p.SlideCount} ");
        string name = Shorten(s.Slide, width - prefix.Length - 2 - what.Length);
        return ProgressView.Fit($"{prefix}{name}: {what}", width);
    }

    private string Rate() => _rate is { } r ? string.Create(CultureInfo.InvariantCulture, $"{r:0.#} patches/s") : "- patches/s";

    private string Eta(SlideInferenceProgress s)
    {
        if (_rate is not { } r || r <= 0)
        {
            return "--:--";
        }

        var left = TimeSpan.FromSeconds(Math.Max(0, s.PatchCount - s.PatchesDone) / r);
        return left.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)left.TotalHours}:{left.Minutes:00}:{left.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{left.Minutes}:{left.Seconds:00}");
    }

    private static string Shorten(string name, int room)
    {
        if (name.Length <= Math.Max(room, 8))
        {
            return name;
        }

        int keep = Math.Max(8, room) - 1;
        return name[..(keep - keep / 2)] + "…" + name[^(keep / 2)..];
    }
}
