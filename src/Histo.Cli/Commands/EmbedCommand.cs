using System.ComponentModel;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
using Histo.Datasets;
using Histo.Learning.Evaluation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo embed MODEL DATASET|FOLDER... -o features.csv|features.npy</c>: pooled features per image.</summary>
public sealed class EmbedCommand : Command<EmbedCommand.Settings>
{
    public sealed class Settings : DatasetModelSettings
    {
        [CommandArgument(1, "<PATHS>")]
        [Description("A labelled dataset (class folders, IDC/BreakHis names, CSV manifest) or any folder of images; several are combined.")]
        public string[] Paths { get; set; } = [];

        [CommandOption("-o|--output <FILE>")]
        [Description("features.csv (path,label,group,f0..f511) or features.npy (float32 [[N,512]]) with features.paths.csv beside it.")]
        public string? Output { get; set; }

        public override ValidationResult Validate()
        {
            if (Paths.Length == 0)
            {
                return ValidationResult.Error("give at least one dataset or folder");
            }

            if (string.IsNullOrWhiteSpace(Output))
            {
                return ValidationResult.Error("an output file is required: -o features.csv or -o features.npy");
            }

            string extension = Path.GetExtension(Output).ToLowerInvariant();
            if (extension is not (".csv" or ".npy"))
            {
                return ValidationResult.Error($"output '{Output}' must end in .csv or .npy");
            }

            if (OutputFileSettings.OutputFileCanBeWritten(Output) is { Successful: false } unwritable)
            {
                return unwritable;
            }

            return base.Validate();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var classifier = settings.LoadModel();
        var predictor = new ImagePredictor(classifier, settings.PredictionOptions);
        List<FeatureRow> rows = ProgressView.Run(new DatasetProgressModel(), progress =>
        {
            var (inputs, labels, groups) = Inputs(settings, progress, cancellationToken);
            float[][] features = predictor.Embed(inputs, progress, cancellationToken);
            return inputs.Select((input, i) => new FeatureRow(input.Path, labels[i], groups[i], features[i])).ToList();
        });
        OutputTables.WriteFeatures(settings.Output!, rows);
        return 0;
    }

    /// <summary>
    /// The images to embed: a labelled dataset when the paths read as one (labels and groups kept), else every image
    /// file under the paths (no label or group).
    /// </summary>
    private static (List<ImageInput> Inputs, List<string> Labels, List<string> Groups) Inputs(
        Settings settings, IProgress<DatasetProgress> progress, CancellationToken cancellationToken)
    {
        try
        {
            Dataset dataset = DatasetLoader.Load(settings.Paths, settings.LoadOptions(), progress, cancellationToken);
            return ([.. dataset.Items.Select(item => new ImageInput(item.Path, () => dataset.LoadImage(item)))],
                [.. dataset.Items.Select(item => dataset.Classes[item.LabelIndex].Name)],
                [.. dataset.Items.Select(item => item.Group)]);
        }
        catch (Exception e) when (e is EmptyDatasetException or SingleClassDatasetException)
        {
            List<string> files = [.. settings.Paths.SelectMany(ImageFiles.Of).Distinct(StringComparer.Ordinal)];
            return ([.. files.Select(f => new ImageInput(f))], [.. files.Select(_ => "")], [.. files.Select(_ => "")]);
        }
    }
}
