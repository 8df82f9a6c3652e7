using System.ComponentModel;
using System.Globalization;
using Histo.Annotations;
using Histo.Bach;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
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

        [CommandOption(LabelMapOption.Template)]
        [Description(LabelMapOption.Help)]
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
            ValidationResult parsed = LabelMapOption.Parse(LabelMapSpec, out LabelMap map);
            LabelMap = map;
            return parsed;
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
            Terminal.ErrorLine($"warning: {OptionRemedies.Warning(warning)}");
        }

        if (report.Warnings.Count > 20)
        {
            Terminal.ErrorLine($"warning: ... and {report.Warnings.Count - 20} more");
        }

        var s = report.Score;
        string scoreText = s.Score is { } value
            ? string.Create(CultureInfo.InvariantCulture, $"{value:0.0000}")
            : "undefined (both maps are Normal everywhere)";
        Terminal.MarkupLine(string.Create(CultureInfo.InvariantCulture,
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
        var codes = Enumerable.Range(0, BachScore.ClassCount).ToList();
        return JsonOutput.Serialize(new Dictionary<string, object?>
        {
            ["score"] = s.Score,
            ["error_sum"] = s.ErrorSum,
            ["weight_sum"] = s.WeightSum,
            ["accuracy"] = s.Accuracy,
            ["width"] = report.Width,
            ["height"] = report.Height,
            ["pixels"] = s.PixelCount,
            ["prediction"] = report.PredictionPath,
            ["truth"] = report.TruthPath,
            ["truth_kind"] = report.Truth == TruthKind.Mask ? "mask" : "annotations",
            ["classes"] = codes.Select(c => new Dictionary<string, object?>
            {
                ["code"] = c,
                ["name"] = BachScore.ClassNames[c],
                ["dice"] = s.Dice(c),
                ["prediction_pixels"] = s.PredictionCount(c),
                ["truth_pixels"] = s.TruthCount(c),
                ["both_pixels"] = s.Confusion(c, c),
            }).ToList(),
            ["confusion"] = codes.Select(g => codes.Select(p => s.Confusion(g, p)).ToList()).ToList(),
            ["unknown_labels"] = report.UnknownLabels.Select(u => new Dictionary<string, object?> { ["label"] = u.Label, ["count"] = u.Count }).ToList(),
            ["warnings"] = report.Warnings.Select(w => w.Message).ToList(),
        });
    }
}
