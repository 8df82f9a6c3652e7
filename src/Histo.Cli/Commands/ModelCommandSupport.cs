using System.ComponentModel;
using Histo.Datasets;
using Histo.Imaging;
using Histo.IO;
using Histo.Learning.Evaluation;
using Histo.Learning.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>
/// Options of every command that runs a trained model: the model directory, the batch and the thread count. The
/// batch option itself is declared by <see cref="ImageModelSettings"/> and <see cref="SlideModelSettings"/>, whose
/// defaults differ.
/// </summary>
public abstract class ModelSettings : CommonSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("Model directory (model.json + weights.bin), as written by histo train.")]
    public string Model { get; set; } = "";

    [CommandOption("--threads <N>")]
    [Description("CPU threads for the network and for reading (default: all cores).")]
    public int? Threads { get; set; }

    /// <summary>Patches per network call.</summary>
    public abstract int Batch { get; set; }

    /// <summary>The thread count to use.</summary>
    internal int EffectiveThreads => Threads ?? Environment.ProcessorCount;

    /// <summary>Checks the shared options.</summary>
    public override ValidationResult Validate()
    {
        if (Batch is < 1 or > 4096)
        {
            return ValidationResult.Error($"--batch must be between 1 and 4096, got {Batch}");
        }

        if (Threads is < 1 or > 256)
        {
            return ValidationResult.Error($"--threads must be between 1 and 256, got {Threads}");
        }

        return base.Validate();
    }

    /// <summary>
    /// Sets libtorch's thread count, opens the model and runs its engine's self-check, so that a fallback warning or a
    /// refusal comes before any work.
    /// </summary>
    internal PatchClassifier LoadModel()
    {
        TorchSharp.torch.set_num_threads(EffectiveThreads);
        PatchClassifier classifier = PatchClassifier.Load(Model);
        try
        {
            _ = classifier.Engine; // reading it runs the self-check
            return classifier;
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loader options for datasets read by these commands (default size policy: pad). Mixed scales are allowed: the
    /// image predictor brings each image to the model's µm/px by its own.
    /// </summary>
    internal static DatasetLoadOptions LoadOptions(string sizePolicy) => new()
    {
        SizePolicy = ParsePolicy(sizePolicy) ?? SizePolicy.Pad,
        AllowMixedScales = true,
    };

    internal static SizePolicy? ParsePolicy(string value) => value.ToLowerInvariant() switch
    {
        "pad" => SizePolicy.Pad,
        "resize" => SizePolicy.Resize,
        "skip" => SizePolicy.Skip,
        _ => null,
    };

    /// <summary>The image files of a path: the file itself, or every image under a folder (recursively, sorted).</summary>
    internal static List<string> ImageFiles(string path)
    {
        if (File.Exists(path))
        {
            return [Path.GetFullPath(path)];
        }

        if (!Directory.Exists(path))
        {
            throw new HistoException($"{path}: no such file or folder");
        }

        List<string> files = [];
        foreach (string file in Directory.EnumerateFiles(Path.GetFullPath(path), "*", SearchOption.AllDirectories)
                     .Where(Histo.Slides.SlideFormats.IsImageFile).Order(StringComparer.Ordinal))
        {
            var kind = InputFile.KindOf(file);
            if (kind == InputFileKind.Regular)
            {
                files.Add(file);
            }
            else
            {
                // opening a FIFO would block until something writes to it
                Terminal.ErrorLine($"warning: {file}: {InputFile.Describe(kind)}, not a regular file: skipped");
            }
        }

        if (files.Count == 0)
        {
            throw new HistoException($"{path}: no image files (.png, .jpg, .tif, .bmp) in the folder");
        }

        return files;
    }
}

/// <summary>Options of the commands that run a model over images (<c>evaluate</c>, <c>predict</c>, <c>embed</c>).</summary>
public class ImageModelSettings : ModelSettings
{
    [CommandOption("--tta")]
    [Description("Test-time augmentation: average each patch over its 8 rotations and flips.")]
    public bool Tta { get; set; }

    [CommandOption("--batch <N>")]
    [Description("Patches per network call (default 32).")]
    public override int Batch { get; set; } = 32;

    /// <summary>The prediction options these settings ask for.</summary>
    public ImagePredictionOptions PredictionOptions => new() { TestTimeAugmentation = Tta, BatchSize = Batch };
}
