using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Histo.Annotations;
using Histo.Bach;
using Histo.Scoring;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo score PREDICTION TRUTH [--label-map MAP] [--geometry FILE] [--json]</c>.</summary>
public sealed class ScoreCommand : Command<ScoreCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandArgument(0, "<PREDICTION>")]
        [Description("A slide output directory (bach.png + geometry.json) or a BACH map PNG (codes 0..3).")]
        public string Prediction { get; set; } = "";

        [CommandArgument(1, "<TRUTH>")]
        [Description("Ground truth: annotation file (Aperio XML, ASAP XML, GeoJSON) or label mask PNG (codes 0..3).")]
        public string Truth { get; set; } = "";

        [CommandOption("--label-map <MAP>")]
        [Description("Label texts to classes, e.g. Tumor=Invasive,Other=Normal, or a JSON file. Default: BACH substrings.")]
        public string? LabelMapSpec { get; set; }

        [CommandOption("--geometry <FILE>")]
        [Description("geometry.json of the map (default: the one beside bach.png).")]
        public string? Geometry { get; set; }

        [CommandOption("--json")]
        [Description("Print one JSON object.")]
        public bool Json { get; set; }

        /// <summary>The parsed label map (set by <see cref="Validate"/>).</summary>
        public LabelMap LabelMap { get; private set; } = LabelMap.Bach;

        public override ValidationResult Validate()
        {
            if (LabelMapSpec != null)
            {
                try
                {
                    LabelMap = LabelMap.Parse(LabelMapSpec);
                }
                catch (LabelMapException e)
                {
                    return ValidationResult.Error("--label-map: " + e.Message);
                }
            }

            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var report = SlideScorer.Score(settings.Prediction, settings.Truth, settings.LabelMap, settings.Geometry, cancellationToken);
        if (settings.Json)
        {
            Terminal.OutLine(ToJson(report));
            return 0;
        }

        foreach (var warning in report.Warnings.Take(20))
        {
            Terminal.ErrorLine($"warning: {warning.Message}");
        }

        if (report.Warnings.Count > 20)
        {
            Terminal.ErrorLine($"warning: ... and {report.Warnings.Count - 20} more");
        }

        var s = report.Score;
        string scoreText = s.Score is { } value
            ? string.Create(CultureInfo.InvariantCulture, $"{value:0.0000}")
            : "undefined (both maps are Normal everywhere)";
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"[bold]BACH Part B score[/] {Terminal.Markup(scoreText)}   (1 - {s.ErrorSum} / {s.WeightSum}; {report.Width}x{report.Height} px, accuracy {s.Accuracy:0.0000})"));
        var table = new Table().AddColumns("class", "Dice", "prediction px", "truth px", "both px");
        for (int c = 0; c < BachScore.ClassCount; c++)
        {
            table.AddRow(BachScore.ClassNames[c],
                s.Dice(c) is { } d ? d.ToString("0.0000", CultureInfo.InvariantCulture) : "-",
                s.PredictionCount(c).ToString(CultureInfo.InvariantCulture),
                s.TruthCount(c).ToString(CultureInfo.InvariantCulture),
                s.Confusion(c, c).ToString(CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>The <c>--json</c> document.</summary>
    public static string ToJson(ScoreReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var s = report.Score;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            if (s.Score is { } value)
            {
                w.WriteNumber("score", value);
            }
            else
            {
                w.WriteNull("score");
            }

            w.WriteNumber("error_sum", s.ErrorSum);
            w.WriteNumber("weight_sum", s.WeightSum);
            w.WriteNumber("accuracy", s.Accuracy);
            w.WriteNumber("width", report.Width);
            w.WriteNumber("height", report.Height);
            w.WriteNumber("pixels", s.PixelCount);
            w.WriteString("prediction", report.PredictionPath);
            w.WriteString("truth", report.TruthPath);
            w.WriteString("truth_kind", report.Truth == TruthKind.Mask ? "mask" : "annotations");
            w.WriteStartArray("classes");
            for (int c = 0; c < BachScore.ClassCount; c++)
            {
                w.WriteStartObject();
                w.WriteNumber("code", c);
                w.WriteString("name", BachScore.ClassNames[c]);
                if (s.Dice(c) is { } d)
                {
                    w.WriteNumber("dice", d);
                }
                else
                {
                    w.WriteNull("dice");
                }

                w.WriteNumber("prediction_pixels", s.PredictionCount(c));
                w.WriteNumber("truth_pixels", s.TruthCount(c));
                w.WriteNumber("both_pixels", s.Confusion(c, c));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("confusion");
            for (int g = 0; g < BachScore.ClassCount; g++)
            {
                w.WriteStartArray();
                for (int p = 0; p < BachScore.ClassCount; p++)
                {
                    w.WriteNumberValue(s.Confusion(g, p));
                }

                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteStartArray("unknown_labels");
            foreach (var u in report.UnknownLabels)
            {
                w.WriteStartObject();
                w.WriteString("label", u.Label);
                w.WriteNumber("count", u.Count);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("warnings");
            foreach (var warning in report.Warnings)
            {
                w.WriteStringValue(warning.Message);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
