using System.ComponentModel;
using Histo.Cli.Settings;
using Histo.Learning.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo report MODEL [-o DIR]</c>: confusion matrix, training curves and an HTML page for a trained model.</summary>
public sealed class ReportCommand : Command<ReportCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandArgument(0, "<MODEL>")]
        [Description("Model directory holding history.csv and cv_predictions.csv (written by histo train).")]
        public string Model { get; set; } = "";

        [CommandOption("-o|--output <DIR>")]
        [Description("Report folder (default MODEL/report); replaced atomically.")]
        public string? Output { get; set; }

        public override ValidationResult Validate() =>
            Output is not null && string.IsNullOrWhiteSpace(Output) ? ValidationResult.Error("-o needs a folder") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string output = settings.Output ?? Path.Combine(settings.Model, TrainingReport.DefaultFolderName);
        TrainingReport.Write(settings.Model, output);
        Terminal.OutLine(Path.Combine(Path.GetFullPath(output), TrainingReport.IndexFileName));
        return 0;
    }
}
