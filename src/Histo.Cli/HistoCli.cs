using Histo.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli;

/// <summary>
/// The <c>histo</c> command: registers the verbs and turns every failure into one <c>error:</c> line on stderr.
/// Exit codes: 0 success, 1 failure, 2 usage error (bad command or option), 130 cancelled.
/// </summary>
public static class HistoCli
{
    /// <summary>Exit code of a usage error.</summary>
    public const int UsageError = 2;

    /// <summary>Runs the command line and returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        Histo.Learning.TorchThreading.PreferPassiveWait(); // before any command touches TorchSharp
        Histo.Learning.Models.EngineSelfCheck.EngineReplaced += message => Terminal.ErrorLine($"warning: {message}");
        bool verbose = args.Contains("--verbose") || args.Contains("-v");
        if (args is ["-v"])
        {
            // Spectre's root -v prints the version; in histo -v is --verbose, which belongs to a command.
            return Fail("-v is short for --verbose and goes with a command (histo COMMAND ... -v); the version is histo --version", new UsageException("-v"), false, UsageError);
        }

        var app = new CommandApp();
        app.Configure(Configure);
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        try
        {
            return app.Run(args.Select(NormalizeArgument), cancel.Token);
        }
        catch (CommandParseException e)
        {
            return Fail(e.Message, e, verbose, UsageError);
        }
        catch (CommandRuntimeException e)
        {
            return Fail(e.Message, e, verbose, UsageError);
        }
        catch (UsageException e)
        {
            return Fail(e.Message, e, verbose, UsageError);
        }
        catch (HistoException e)
        {
            return Fail(OptionRemedies.Error(e), e, verbose, 1);
        }
        catch (OperationCanceledException e)
        {
            return Fail("cancelled", e, verbose, 130);
        }
        catch (UnauthorizedAccessException e)
        {
            // the library names the file where it can (OutputFileException, InputFileException); .NET's message names the path
            return Fail($"permission denied: {e.Message}", e, verbose, 1);
        }
        catch (IOException e)
        {
            return Fail($"input/output error: {e.Message}", e, verbose, 1);
        }
        catch (Exception e)
        {
            return Fail($"unexpected {e.GetType().Name}: {e.Message} (run with --verbose for details)", e, verbose, 1);
        }
    }

    private static void Configure(IConfigurator config)
    {
        config.SetApplicationName("histo");
        config.SetApplicationVersion(typeof(HistoCli).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
        config.PropagateExceptions();
        config.Settings.StrictParsing = true;
        config.AddCommand<DemoCommand>("demo").WithDescription("Run the main job end to end on the bundled slide.");
        config.AddCommand<InfoCommand>("info").WithDescription("Show a slide's dimensions, levels, MPP, vendor and properties.")
            .WithExample("info", "slide.svs", "--json");
        config.AddCommand<ThumbnailCommand>("thumbnail").WithDescription("Write a thumbnail of a slide as PNG or JPEG.")
            .WithExample("thumbnail", "slide.svs", "-o", "thumb.png", "--max-size", "1024");
        config.AddCommand<RegionCommand>("region").WithDescription("Write one region of a slide as PNG or JPEG.")
            .WithExample("region", "slide.svs", "--x", "1000", "--y", "2000", "--width", "512", "--height", "512", "-o", "region.png");
        config.AddCommand<TissueCommand>("tissue").WithDescription("Detect tissue: write a mask PNG (255 = tissue), optionally an overlay.")
            .WithExample("tissue", "slide.svs", "-o", "mask.png", "--overlay", "overlay.png");
        config.AddCommand<PatchesCommand>("patches").WithDescription("Cut patches at a target resolution into PNGs plus patches.csv.")
            .WithExample("patches", "slide.svs", "-o", "patches", "--size", "256", "--mpp", "0.5", "--min-tissue", "0.05");
        config.AddCommand<NormalizeCommand>("normalize").WithDescription("Stain-normalise an image or slide region (Macenko or Reinhard) to a target.")
            .WithExample("normalize", "tile.png", "--target", "target.png", "--method", "macenko", "-o", "out.png");
        config.AddCommand<ScoreCommand>("score").WithDescription("BACH Part B score and per-class Dice of a BACH map against annotations or a label mask.")
            .WithExample("score", "out/A01", "A01.xml", "--json");
        config.AddCommand<SlideCommand>("slide").WithDescription("Whole-slide inference: heatmap, class map, BACH map, GeoJSON, summary per slide; cohorts, shards, resume.")
            .WithExample("slide", "model/", "slides/", "-o", "out", "--shard", "0/4");
        config.AddCommand<CohortCommand>("cohort").WithDescription("Show and rewrite the cohort table of a histo slide output folder: done/failed/pending, mm² per class, models.")
            .WithExample("cohort", "out", "--json");
        config.AddCommand<TuneCommand>("tune").WithDescription("Tune the heatmap thresholds on annotated slides (BACH Part B score) and store them in the model card.")
            .WithExample("tune", "model/", "A02.svs", "A03.svs", "A02.xml", "A03.xml");
        config.AddCommand<MineCommand>("mine").WithDescription("Hard-example mining on an annotated slide, written as a class-folder dataset.")
            .WithExample("mine", "model/", "A02.svs", "A02.xml", "-o", "mined", "-n", "2000");
        config.AddCommand<DatasetCommand>("dataset").WithDescription("Show what was understood of a dataset: classes, groups, image sizes, problems.")
            .WithExample("dataset", "../shared/data/idc", "--json");
        config.AddCommand<LeakCheckCommand>("leakcheck").WithDescription("Check a grouped cross-validation split for leaks (exit 1 when leaks are found).")
            .WithExample("leakcheck", "../shared/data/idc", "--folds", "3", "--seed", "42");
        config.AddCommand<EvaluateCommand>("evaluate").WithDescription("Measure a model on a labelled dataset: accuracy, balanced accuracy, macro F1, per class, confusion.")
            .WithExample("evaluate", "model", "../shared/data/idc", "--json");
        config.AddCommand<PredictCommand>("predict").WithDescription("Class and probabilities per image (large images are tiled, patch probabilities averaged).")
            .WithExample("predict", "model", "images/", "--csv", "-o", "predictions.csv");
        config.AddCommand<EmbedCommand>("embed").WithDescription("Pooled 512-d network features per image as CSV or NPY.")
            .WithExample("embed", "model", "../shared/data/idc", "-o", "features.npy");
        config.AddCommand<ReportCommand>("report").WithDescription("Write a training report: confusion.png, curves.png and index.html.")
            .WithExample("report", "model", "-o", "model/report");
        config.AddCommand<TrainCommand>("train").WithDescription("Fine-tune the ImageNet ResNet18 with grouped cross-validation; write a model directory.")
            .WithExample("train", "../shared/data/idc", "-o", "models/idc");
        config.AddCommand<ServeCommand>("serve").WithDescription("Browse slides and prediction overlays in a web browser (Deep Zoom viewer).")
            .WithExample("serve", "slides/", "--predictions", "out/", "--port", "8080");
        config.AddCommand<DoctorCommand>("doctor").WithDescription("Show the machine (CPU, oneDNN ISA, threads, allocator, versions) and self-check every inference engine.")
            .WithExample("doctor", "--json");
    }

    /// <summary>
    /// Spectre.Console.Cli needs long option names of two or more characters; <c>--x</c> and <c>--y</c> (the names
    /// users know from other tools) are passed on as the short options <c>-x</c> and <c>-y</c>.
    /// </summary>
    private static string NormalizeArgument(string arg) => arg switch
    {
        "--x" => "-x",
        "--y" => "-y",
        _ when arg.StartsWith("--x=", StringComparison.Ordinal) => "-x=" + arg[4..],
        _ when arg.StartsWith("--y=", StringComparison.Ordinal) => "-y=" + arg[4..],
        _ => arg,
    };

    private static int Fail(string message, Exception e, bool verbose, int code)
    {
        string line = message.ReplaceLineEndings(" ").Trim();
        Terminal.ErrorLine($"error: {line}");
        if (verbose)
        {
            Console.Error.WriteLine(e.ToString());
        }

        return code;
    }
}

/// <summary>A wrong option value that the settings validation could not catch; exits with the usage error code.</summary>
public sealed class UsageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UsageException(string message) : base(message) { }
}
