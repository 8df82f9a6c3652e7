using System.ComponentModel;
using System.Globalization;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
using Histo.Datasets;
using Histo.Evaluation;
using Histo.IO;
using Histo.Learning.Evaluation;
using Histo.Learning.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo evaluate MODEL DATASET... [--json] [--tta] [--report DIR]</c>: a model's metrics on a labelled dataset.</summary>
public sealed class EvaluateCommand : Command<EvaluateCommand.Settings>
{
    public sealed class Settings : DatasetModelSettings
    {
        [CommandArgument(1, "<PATHS>")]
        [Description("Labelled dataset: class folders, IDC or BreakHis names, or CSV manifests (path,label[[,group]]); several are combined.")]
        public string[] Paths { get; set; } = [];

        [CommandOption("--json")]
        [Description("Print one JSON object (accuracy, balanced_accuracy, macro_f1, binary_accuracy, per_class, confusion, auc, bootstrap).")]
        public bool Json { get; set; }

        [CommandOption("--report <DIR>")]
        [Description("Also write confusion.png and index.html into DIR (replaced atomically).")]
        public string? Report { get; set; }

        [CommandOption("--predictions <FILE>")]
        [Description("Also write the per-image predictions as CSV (path,truth,predicted,p_<class>...), atomically.")]
        public string? Predictions { get; set; }

        public override ValidationResult Validate()
        {
            if (Paths.Length == 0)
            {
                return ValidationResult.Error("give at least one dataset path");
            }

            if (Predictions is not null && !string.Equals(Path.GetExtension(Predictions), ".csv", StringComparison.OrdinalIgnoreCase))
            {
                return ValidationResult.Error($"--predictions '{Predictions}' must end in .csv");
            }

            if (Report is not null && string.IsNullOrWhiteSpace(Report))
            {
                return ValidationResult.Error("--report needs a folder");
            }

            return base.Validate();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var classifier = settings.LoadModel();
        EvaluationResult result = ProgressView.Run(new DatasetProgressModel(), progress =>
        {
            Dataset dataset = DatasetLoader.Load(settings.Paths, settings.LoadOptions(), progress, cancellationToken);
            return Evaluator.Evaluate(classifier, dataset, settings.PredictionOptions, progress, cancellationToken);
        });
        if (settings.Predictions is not null)
        {
            AtomicFile.WriteAllText(settings.Predictions, OutputTables.PredictionsCsv(result.Labels, result.Predictions));
        }

        if (settings.Report is not null)
        {
            EvaluationReport.Write(settings.Report, result, classifier.Card, settings.Model, string.Join(", ", settings.Paths), settings.Tta);
        }

        if (settings.Json)
        {
            JsonOutput.Write(result.ToJson());
            return 0;
        }

        Render(result);
        return 0;
    }

    private static void Render(EvaluationResult result)
    {
        var inv = CultureInfo.InvariantCulture;
        ClassificationMetrics m = result.Metrics;
        var metrics = new Table().AddColumns("metric", "value", "95 % bootstrap interval");
        metrics.AddRow("images", m.Count.ToString("N0", inv), "");
        metrics.AddRow("accuracy", F(m.Accuracy), "");
        metrics.AddRow("balanced accuracy", F(m.BalancedAccuracy), I(result.BalancedAccuracyInterval));
        metrics.AddRow("macro F1", F(m.MacroF1), I(result.MacroF1Interval));
        if (m.BinaryAccuracy is { } binary)
        {
            metrics.AddRow("binary accuracy (carcinoma vs not)", F(binary), "");
        }

        if (m.Auc is { } auc)
        {
            metrics.AddRow("ROC AUC", F(auc), "");
        }

        AnsiConsole.Write(metrics);
        AnsiConsole.Write(MetricsTables.PerClass(m));
        AnsiConsole.Write(MetricsTables.Confusion(m));
    }

    private static string F(double value) => MetricsTables.F(value);

    private static string I(ConfidenceInterval interval) => double.IsFinite(interval.Low) ? Terminal.Markup($"[{F(interval.Low)}, {F(interval.High)}]") : "n/a";
}
