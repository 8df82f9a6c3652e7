using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Histo.Datasets;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>Options shared by the commands that read datasets (<c>dataset</c>, <c>leakcheck</c>).</summary>
public class DatasetSettings : CommonSettings
{
    [CommandArgument(0, "<PATHS>")]
    [Description("Dataset folders (class folders, IDC or BreakHis names) or CSV manifests (path,label[[,group]]); several are combined.")]
    public string[] Paths { get; set; } = [];

    [CommandOption("--size-policy <POLICY>")]
    [Description("Images smaller than their dataset's usual size (border cuts): pad (default, white), resize, or skip.")]
    public string SizePolicy { get; set; } = "pad";

    [CommandOption("--breakhis-labels <LABELS>")]
    [Description("BreakHis labels: binary (benign/malignant, default) or subtype (8 tumour types).")]
    public string BreakHisLabels { get; set; } = "binary";

    /// <summary>Checks the shared options.</summary>
    public override ValidationResult Validate()
    {
        if (Paths.Length == 0)
        {
            return ValidationResult.Error("give at least one dataset path");
        }

        if (ParsePolicy(SizePolicy) is null)
        {
            return ValidationResult.Error($"--size-policy must be pad, resize or skip, got '{SizePolicy}'");
        }

        if (BreakHisLabels is not ("binary" or "subtype"))
        {
            return ValidationResult.Error($"--breakhis-labels must be binary or subtype, got '{BreakHisLabels}'");
        }

        return ValidationResult.Success();
    }

    /// <summary>The loader options these settings ask for; <paramref name="mpp"/> overrides the images' µm/px.</summary>
    public DatasetLoadOptions LoadOptions(bool verify = false, double? mpp = null) => new()
    {
        MppOverride = mpp,
        SizePolicy = ParsePolicy(SizePolicy) ?? Datasets.SizePolicy.Pad,
        BreakHisLabeling = BreakHisLabels == "subtype" ? BreakHisLabeling.Subtype : BreakHisLabeling.BenignMalignant,
        VerifyImages = verify,
    };

    private static SizePolicy? ParsePolicy(string value) => value.ToLowerInvariant() switch
    {
        "pad" => Datasets.SizePolicy.Pad,
        "resize" => Datasets.SizePolicy.Resize,
        "skip" => Datasets.SizePolicy.Skip,
        _ => null,
    };
}

/// <summary>Dataset options plus <c>--json</c>, for the commands that print a report (<c>dataset</c>, <c>leakcheck</c>).</summary>
public class JsonDatasetSettings : DatasetSettings
{
    [CommandOption("--json")]
    [Description("Print one JSON object.")]
    public bool Json { get; set; }
}

/// <summary>Progress display for dataset work: a Spectre progress bar on a terminal, sparse plain lines otherwise.</summary>
internal static class DatasetProgressDisplay
{
    /// <summary>
    /// Runs <paramref name="work"/>, showing its progress on stderr: a live bar with images/s and ETA when stderr is
    /// a terminal; when it is redirected, a plain line every few seconds once the work has taken more than two seconds
    /// (quick runs and early failures print nothing).
    /// </summary>
    public static T Run<T>(Func<IProgress<DatasetProgress>, T> work)
    {
        if (Console.IsErrorRedirected)
        {
            var plain = new PlainProgress();
            return work(plain);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = SlideProgressDisplay.BarWidth }, new PercentageColumn())
            .Start(context =>
            {
                var live = new LiveProgress(context, Math.Max(20, console.Profile.Width - SlideProgressDisplay.BarWidth - 7));
                result = work(live);
            });
        return result;
    }

    private static string Describe(DatasetProgress p, double seconds)
    {
        double rate = seconds > 0 ? p.Done / seconds : 0;
        string eta = rate > 0 && p.Done < p.Total ? string.Create(CultureInfo.InvariantCulture, $", ETA {(p.Total - p.Done) / rate:0} s") : "";
        return string.Create(CultureInfo.InvariantCulture, $"{p.Stage}: {p.Done:N0}/{p.Total:N0} ({rate:N0} images/s{eta})");
    }

    private sealed class PlainProgress : IProgress<DatasetProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Dictionary<string, Stopwatch> _stageClocks = [];
        private readonly Lock _lock = new();
        private double _nextLineSeconds = 2;

        public void Report(DatasetProgress value)
        {
            lock (_lock)
            {
                if (!_stageClocks.TryGetValue(value.Stage, out var stage))
                {
                    _stageClocks[value.Stage] = stage = Stopwatch.StartNew();
                }

                double now = _clock.Elapsed.TotalSeconds;
                if (now < _nextLineSeconds)
                {
                    return;
                }

                _nextLineSeconds = now + 5;
                Terminal.ErrorLine(Describe(value, stage.Elapsed.TotalSeconds));
            }
        }
    }

    private sealed class LiveProgress(ProgressContext context, int width) : IProgress<DatasetProgress>
    {
        private readonly Dictionary<string, (ProgressTask Task, Stopwatch Clock)> _tasks = [];
        private readonly Lock _lock = new();

        public void Report(DatasetProgress value)
        {
            lock (_lock)
            {
                if (!_tasks.TryGetValue(value.Stage, out var entry))
                {
                    entry = (context.AddTask(Terminal.Markup(value.Stage), maxValue: Math.Max(1, value.Total)), Stopwatch.StartNew());
                    _tasks[value.Stage] = entry;
                }

                entry.Task.Value = value.Done;
                entry.Task.Description = Terminal.Markup(SlideRateMeter.Fit(Describe(value, entry.Clock.Elapsed.TotalSeconds), width));
                if (value.Done >= value.Total)
                {
                    entry.Task.StopTask();
                }
            }
        }
    }
}
