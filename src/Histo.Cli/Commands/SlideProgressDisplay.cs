using System.Diagnostics;
using System.Globalization;
using Histo.Cli.Rendering;
using Histo.Inference;
using Spectre.Console;

namespace Histo.Cli.Commands;

/// <summary>
/// Progress of <c>histo slide</c>: on a terminal one live row (slide, stage, patches, patches/s and one ETA, fitted
/// to the terminal's width, then a bar and a percentage); when redirected, a plain line every two seconds on stdout.
/// </summary>
internal static class SlideProgressDisplay
{
    /// <summary>Columns the bar takes.</summary>
    internal const int BarWidth = 16;

    /// <summary>Runs <paramref name="work"/> with a live row on <paramref name="console"/>; <paramref name="clockSeconds"/> is for tests.</summary>
    public static T RunLive<T>(IAnsiConsole console, Func<IProgress<CohortProgress>, T> work, Func<double>? clockSeconds = null)
    {
        var meter = new SlideRateMeter(clockSeconds ?? Clock());
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = BarWidth }, new PercentageColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("slides", maxValue: 1);
                // Description, bar and percentage with a space between: the description gets what the others leave.
                int width = Math.Max(20, console.Profile.Width - BarWidth - 4 - 3);
                result = work(new SyncProgress<CohortProgress>(p =>
                {
                    task.MaxValue = Math.Max(1, p.Slide.PatchCount);
                    task.Value = p.Slide.PatchesDone;
                    task.Description = Terminal.Markup(meter.Describe(p, width));
                    ctx.Refresh();
                }));
                task.Value = task.MaxValue;
            });
        return result;
    }

    /// <summary>Runs <paramref name="work"/> writing a plain progress line to <paramref name="output"/> every two seconds.</summary>
    public static T RunPlain<T>(TextWriter output, Func<IProgress<CohortProgress>, T> work)
    {
        var clock = Clock();
        var meter = new SlideRateMeter(clock);
        double last = 0;
        return work(new SyncProgress<CohortProgress>(p =>
        {
            string text = meter.Describe(p, int.MaxValue);
            if (clock() - last >= 2)
            {
                last = clock();
                output.WriteLine(Terminal.Escape(text));
            }
        }));
    }

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
        return Fit($"{prefix}{name}: {what}", width);
    }

    /// <summary>The text cut to <paramref name="width"/> characters (an ellipsis marks the cut), so a live row never wraps.</summary>
    public static string Fit(string text, int width) =>
        text.Length <= width ? text : text[..Math.Max(0, width - 1)] + "…";

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
