using System.ComponentModel;
using System.Globalization;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
using Histo.IO;
using Histo.Learning.Evaluation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo predict MODEL IMAGE|FOLDER [--json|--csv] [-o FILE]</c>: class and probabilities per image.</summary>
public sealed class PredictCommand : Command<PredictCommand.Settings>
{
    public sealed class Settings : ImageModelSettings
    {
        [CommandArgument(1, "<PATH>")]
        [Description("An image, or a folder searched recursively for images. Large images are tiled into model-sized patches.")]
        public string Path { get; set; } = "";

        [CommandOption("--json")]
        [Description("Write JSON: classes and, per image, path, class and probabilities.")]
        public bool Json { get; set; }

        [CommandOption("--csv")]
        [Description("Write CSV: path,predicted,p_<class>...")]
        public bool Csv { get; set; }

        [CommandOption("-o|--output <FILE>")]
        [Description("Write to FILE (atomically) instead of stdout; .json or .csv picks the format when neither flag is given.")]
        public string? Output { get; set; }

        /// <summary>The output format: json, csv or table.</summary>
        public string Format => Json ? "json" : Csv ? "csv" : Output is not null ? System.IO.Path.GetExtension(Output).TrimStart('.').ToLowerInvariant() : "table";

        public override ValidationResult Validate()
        {
            if (Json && Csv)
            {
                return ValidationResult.Error("give --json or --csv, not both");
            }

            if (Output is not null)
            {
                if (Format is not ("json" or "csv"))
                {
                    return ValidationResult.Error($"output '{Output}' must end in .json or .csv (or give --json/--csv)");
                }

                if (OutputFileSettings.OutputFileCanBeWritten(Output) is { Successful: false } unwritable)
                {
                    return unwritable;
                }
            }

            return base.Validate();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var classifier = settings.LoadModel();
        List<string> files = ImageFiles.Of(settings.Path);
        var predictor = new ImagePredictor(classifier, settings.PredictionOptions);
        float[][] probabilities = ProgressView.Run(new DatasetProgressModel(), progress =>
            predictor.Predict([.. files.Select(f => new ImageInput(f))], progress, cancellationToken));
        ImagePrediction[] predictions = [.. files.Select((f, i) => new ImagePrediction(f, "", -1, probabilities[i]))];
        IReadOnlyList<string> labels = classifier.Card.Classes;
        string? text = settings.Format switch
        {
            "json" => OutputTables.PredictionsJson(labels, predictions, settings.Tta),
            "csv" => OutputTables.PredictionsCsv(labels, predictions),
            _ => null,
        };
        if (text is null)
        {
            var table = new Table().AddColumns("image", "class");
            foreach (string label in labels)
            {
                table.AddColumn("p(" + Terminal.Markup(label) + ")");
            }

            foreach (ImagePrediction p in predictions)
            {
                table.AddRow([Terminal.Markup(p.Path), Terminal.Markup(labels[p.PredictedIndex]), .. p.Probabilities.Select(v => v.ToString("0.0000", CultureInfo.InvariantCulture))]);
            }

            AnsiConsole.Write(table);
        }
        else if (settings.Output is not null)
        {
            AtomicFile.WriteAllText(settings.Output, text);
        }
        else
        {
            Console.Out.Write(Terminal.Escape(text));
        }

        return 0;
    }
}
