using System.Diagnostics;
using Spectre.Console;

namespace Histo.Cli.Rendering;

/// <summary>
/// What one kind of progress report looks like: the row it belongs to, its text, how far it is, when a plain line is
/// due. <see cref="ProgressView"/> draws it; the library only reports.
/// </summary>
/// <typeparam name="T">The library's progress report.</typeparam>
internal abstract class ProgressModel<T>
{
    /// <summary>Seconds before the first plain line (quick runs and early failures print none).</summary>
    protected virtual double FirstLineSeconds => 2;

    /// <summary>Seconds between plain lines.</summary>
    protected virtual double LineEverySeconds => 2;

    private double _nextLineSeconds = double.NaN;

    /// <summary>The live row a report belongs to (one row per key); one row by default.</summary>
    public virtual string Row(T value) => "";

    /// <summary>The title of a new live row.</summary>
    public virtual string RowTitle(T value) => Row(value);

    /// <summary>A new row stops the rows before it (a new fold ends the previous one's bar).</summary>
    public virtual bool NewRowStopsOthers => false;

    /// <summary>Live rows stay on the screen when the work ends (false: they are cleared).</summary>
    public virtual bool KeepRows => true;

    /// <summary>The text of a report, at most <paramref name="width"/> characters.</summary>
    public abstract string Describe(T value, int width);

    /// <summary>How far the report's row is: done of total.</summary>
    public abstract (double Done, double Total) Position(T value);

    /// <summary>The report ends its row.</summary>
    public virtual bool Finishes(T value) => false;

    /// <summary>The plain line for a report <paramref name="seconds"/> after the start, or null when none is due.</summary>
    public virtual string? PlainLine(T value, double seconds)
    {
        string text = Describe(value, int.MaxValue); // every report: a model may measure rates across reports
        if (double.IsNaN(_nextLineSeconds))
        {
            _nextLineSeconds = FirstLineSeconds;
        }

        if (seconds < _nextLineSeconds)
        {
            return null;
        }

        _nextLineSeconds = seconds + LineEverySeconds;
        return text;
    }
}

/// <summary>
/// The one progress view of the CLI, always on stderr (stdout keeps results, so <c>histo ... --json &gt; x.json</c>
/// stays clean): a live Spectre bar per row when stderr is an interactive terminal, plain lines otherwise (CI, logs,
/// cluster jobs), at the cadence the <see cref="ProgressModel{T}"/> chooses.
/// </summary>
internal static class ProgressView
{
    /// <summary>Columns the bar takes.</summary>
    public const int BarWidth = 16;

    /// <summary>Runs <paramref name="work"/> with its progress shown on stderr, live or as plain lines.</summary>
    public static TResult Run<T, TResult>(ProgressModel<T> model, Func<IProgress<T>, TResult> work)
    {
        var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return stderr.Profile.Capabilities.Interactive && !Console.IsErrorRedirected
            ? RunLive(stderr, model, work)
            : RunPlain(Console.Error, model, work);
    }

    /// <summary>Runs <paramref name="work"/> with live rows on <paramref name="console"/>.</summary>
    public static TResult RunLive<T, TResult>(IAnsiConsole console, ProgressModel<T> model, Func<IProgress<T>, TResult> work)
    {
        TResult result = default!;
        console.Progress()
            .AutoClear(!model.KeepRows)
            .HideCompleted(!model.KeepRows)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = BarWidth }, new PercentageColumn())
            .Start(context =>
            {
                // Description, bar and percentage with a space between: the description gets what the others leave.
                int width = Math.Max(20, console.Profile.Width - BarWidth - 4 - 3);
                var rows = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                var gate = new Lock();
                result = work(new SyncProgress<T>(value =>
                {
                    lock (gate)
                    {
                        string key = model.Row(value);
                        if (!rows.TryGetValue(key, out ProgressTask? task))
                        {
                            if (model.NewRowStopsOthers)
                            {
                                foreach (ProgressTask other in rows.Values)
                                {
                                    other.StopTask();
                                }
                            }

                            string title = model.RowTitle(value);
                            task = context.AddTask(title.Length > 0 ? Terminal.Markup(title) : "progress", maxValue: 1); // Spectre refuses an empty name
                            rows[key] = task;
                        }

                        var (done, total) = model.Position(value);
                        task.MaxValue = Math.Max(1, total);
                        task.Value = done;
                        task.Description = Terminal.Markup(Fit(model.Describe(value, width), width));
                        if (model.Finishes(value))
                        {
                            task.StopTask();
                        }

                        context.Refresh();
                    }
                }));
            });
        return result;
    }

    /// <summary>Runs <paramref name="work"/> writing the model's plain lines to <paramref name="output"/>.</summary>
    public static TResult RunPlain<T, TResult>(TextWriter output, ProgressModel<T> model, Func<IProgress<T>, TResult> work)
    {
        var clock = Stopwatch.StartNew();
        var gate = new Lock();
        return work(new SyncProgress<T>(value =>
        {
            lock (gate)
            {
                if (model.PlainLine(value, clock.Elapsed.TotalSeconds) is { } line)
                {
                    output.WriteLine(Terminal.Escape(line));
                }
            }
        }));
    }

    /// <summary>The text cut to <paramref name="width"/> characters (an ellipsis marks the cut), so a live row never wraps.</summary>
    public static string Fit(string text, int width) =>
        text.Length <= width ? text : text[..Math.Max(0, width - 1)] + "…";
}
