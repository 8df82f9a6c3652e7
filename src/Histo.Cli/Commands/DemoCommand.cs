using System.ComponentModel;
using Histo.Cli.Settings;
using Histo.Imaging;
using Histo.Models;
using Histo.Slides;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>
/// <c>histo demo [-o DIR] [--model MODEL]</c>: the main job end to end. Describes the bundled slide, gets a model (the
/// one given, one trained by an earlier demo run, or a quick model trained now from the shared data: 4-class BACH Part A when present, else IDC), runs slide
/// inference on the bundled slide (heatmap, overlay, class map, summary) and, where the shared BACH A01 window is
/// present, on it too, with the BACH Part B score against its pathologists' mask.
/// </summary>
public sealed class DemoCommand : Command<DemoCommand.Settings>
{
    /// <summary>
    /// The quick IDC recipe (used when the BACH Part A fields are absent): a 2-fold CV, one epoch per run at 64 px (the
    /// default 96 px costs twice as much), IDC's ~4 µm/px (DOMAIN.md: ~2.5x), the best fold's weights.
    /// </summary>
    public static readonly string[] DemoTrainingArguments = ["--folds", "2", "--epochs", "1", "--input", "64", "--image-mpp", "4", "--final", "best-fold"];

    /// <summary>
    /// The quick BACH recipe: the seed's 628 µm crops (µm/px read from the fields) but a 138-px stride (6 crops per
    /// field instead of 14) at 224 px instead of 320, a 2-fold CV of one epoch, bf16 where the CPU has it, the best fold's weights.
    /// </summary>
    public static readonly string[] DemoBachTrainingArguments = ["--folds", "2", "--epochs", "1", "--crop-stride-pixels", "138", "--input", "224", "--precision", "auto", "--final", "best-fold"];

    /// <summary>Map stride of the demo's slide runs with a BACH model, in patch pixels: 50 px at 0.84 µm/px = 42 µm cells.</summary>
    public const int DemoBachStridePixels = 50;

    public sealed class Settings : CommonSettings
    {
        [CommandOption("-o|--output <DIR>")]
        [Description("Output folder (default demo-out).")]
        public string Output { get; set; } = "demo-out";

        [CommandOption("--model <MODEL>")]
        [Description("Use this model directory instead of training the quick demo model (4-class BACH where ../shared/data has its fields, else IDC).")]
        public string? Model { get; set; }

        [CommandOption(ThreadsOption.Template)]
        [Description(ThreadsOption.Help)]
        public int? Threads { get; set; }

        public override ValidationResult Validate()
        {
            if (File.Exists(Output))
            {
                return ValidationResult.Error($"output '{Output}' is a file, not a folder");
            }

            if (ThreadsOption.Check(Threads) is { Successful: false } threads)
            {
                return threads;
            }

            return base.Validate();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string slidePath = BundledData.Slide("cmu-1-small-region.svs");
        Directory.CreateDirectory(settings.Output);
        Step("1/4", "the bundled slide");
        using (var slide = Slide.Open(slidePath))
        {
            Terminal.MarkupLine($"[bold]slide[/] {Terminal.Markup(slidePath)}");
            Terminal.MarkupLine($"  {slide.Vendor}, {slide.Width} x {slide.Height} px, {slide.LevelCount} level(s), mpp {slide.MppX:0.###} ({InfoCommand.MppSourceName(slide.MppSource) ?? "unknown"})");
            string thumbPath = Path.Combine(settings.Output, "thumbnail.png");
            ImageIO.Save(thumbPath, slide.GetThumbnail(1024));
            Terminal.MarkupLine($"[green]wrote[/] {Terminal.Markup(thumbPath)}");
        }

        Step("2/4", "a model");
        string model = settings.Model ?? Path.Combine(settings.Output, "model");
        if (settings.Model is null && !File.Exists(Path.Combine(model, ModelCard.FileName)))
        {
            Run(new TrainCommand(), context, QuickTraining(model, settings.Threads), cancellationToken);
        }
        else
        {
            Terminal.MarkupLine($"using the model in {Terminal.Markup(model)}{(settings.Model is null ? " (trained by an earlier demo run; delete it to retrain)" : "")}");
        }

        // a BACH model maps at 42 µm cells (the seed's Part B); any other at the default stride (cells of at most 100 µm)
        ModelCard card = ModelCard.Load(model);
        int? stride = card.HasBachCodes && card.CropStridePixels != null ? DemoBachStridePixels : null;

        Step("3/4", "slide inference on the bundled slide");
        string slidesOut = Path.Combine(settings.Output, "slides");
        var slideSettings = new SlideCommand.Settings { Model = model, Slides = slidePath, Output = slidesOut, Threads = settings.Threads, StridePixels = stride };
        Run(new SlideCommand(), context, slideSettings, cancellationToken);

        Step("4/4", "scoring against pathologists' annotations");
        string? a01 = BundledData.SharedData(Path.Combine("bach-a01", "A01-window.tif"));
        string? a01Mask = BundledData.SharedData(Path.Combine("bach-a01", "A01-window-labels.png"));
        if (a01 is null || a01Mask is null)
        {
            Terminal.MarkupLine("no annotated slide is bundled (the BACH A01 window is in the shared data, ../shared/data/bach-a01): skipped");
        }
        else
        {
            var a01Settings = new SlideCommand.Settings { Model = model, Slides = a01, Output = slidesOut, Threads = settings.Threads, StridePixels = stride };
            Run(new SlideCommand(), context, a01Settings, cancellationToken);
            string a01Out = Path.Combine(slidesOut, Path.GetFileNameWithoutExtension(a01));
            Run(new ScoreCommand(), context, new ScoreCommand.Settings { Prediction = a01Out, Truth = a01Mask }, cancellationToken);
        }

        Terminal.MarkupLine($"[bold green]done[/]: outputs in {Terminal.Markup(settings.Output)}; browse them with [bold]./histo serve {Terminal.Markup(Path.GetDirectoryName(slidePath) ?? ".")} --predictions {Terminal.Markup(slidesOut)}[/]");
        return 0;
    }

    /// <summary>The quick demo model's training: BACH Part A where the shared data has it, else IDC.</summary>
    private static TrainCommand.Settings QuickTraining(string model, int? threads)
    {
        if (BundledData.SharedData(Path.Combine("bach-parta", "Photos")) is { } photos)
        {
            Terminal.MarkupLine($"training the quick 4-class BACH model on {Terminal.Markup(photos)} (histo train {Terminal.Markup(photos)} -o {Terminal.Markup(model)} {string.Join(' ', DemoBachTrainingArguments)})");
            return new TrainCommand.Settings
            {
                Paths = [photos],
                Output = model,
                Folds = 2,
                Epochs = 1,
                Stride = 138,
                Input = 224,
                Precision = "auto",
                Final = "best-fold",
                Threads = threads,
                Resume = Directory.Exists(model),
            };
        }

        string idc = BundledData.SharedData("idc")
            ?? throw new HistoException("the demo needs a model: pass --model MODEL, or put the shared data (its bach-parta/ fields or idc/ patches) at ../shared/data beside the repository so the demo can train one");
        Terminal.MarkupLine($"training the quick IDC demo model on {Terminal.Markup(idc)} (histo train {Terminal.Markup(idc)} -o {Terminal.Markup(model)} {string.Join(' ', DemoTrainingArguments)})");
        return new TrainCommand.Settings
        {
            Paths = [idc],
            Output = model,
            Folds = 2,
            Epochs = 1,
            Input = 64,
            Mpp = 4,
            Final = "best-fold",
            Threads = threads,
            Resume = Directory.Exists(model),
        };
    }

    private static void Step(string number, string what) => Terminal.MarkupLine($"\n[bold blue]{number}[/] [bold]{Terminal.Markup(what)}[/]");

    /// <summary>Runs another command with its own validation and rendering; a failure ends the demo with its error.</summary>
    private static void Run<TSettings>(Command<TSettings> command, CommandContext context, TSettings settings, CancellationToken cancellationToken)
        where TSettings : CommandSettings
    {
        ValidationResult validation = settings.Validate();
        if (!validation.Successful)
        {
            throw new HistoException(validation.Message ?? "invalid demo settings");
        }

        int exit = command.Execute(context, settings, cancellationToken);
        if (exit != 0)
        {
            throw new HistoException($"the demo stopped: a step exited with code {exit}");
        }
    }
}

/// <summary>Finds the data bundled with Histo (the repository's data/ folder).</summary>
public static class BundledData
{
    /// <summary>The repository's data folder, found by walking up from the program.</summary>
    public static string Root
    {
        get
        {
            foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            {
                for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                {
                    string candidate = Path.Combine(dir.FullName, "data", "slides");
                    if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "Histo.slnx")))
                    {
                        return Path.Combine(dir.FullName, "data");
                    }
                }
            }

            throw new HistoException("cannot find Histo's bundled data folder (data/slides in the repository)");
        }
    }

    /// <summary>A bundled slide by file name.</summary>
    public static string Slide(string name) => Path.Combine(Root, "slides", name);

    /// <summary>
    /// A file or folder of the shared test data (<c>../shared/data</c> beside the repository, or $HISTO_SHARED_DATA),
    /// or null when it is not there. That data is for development and tests; the demo uses it when present.
    /// </summary>
    public static string? SharedData(string relativePath)
    {
        string root = Environment.GetEnvironmentVariable("HISTO_SHARED_DATA") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.Combine(Path.GetDirectoryName(Root) ?? ".", "..", "shared", "data");
        string path = Path.GetFullPath(Path.Combine(root, relativePath));
        return File.Exists(path) || Directory.Exists(path) ? path : null;
    }
}
