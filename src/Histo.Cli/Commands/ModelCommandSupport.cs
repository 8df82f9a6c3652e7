using System.ComponentModel;
using Histo.Datasets;
using Histo.Imaging;
using Histo.Learning.Evaluation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>Options of the commands that run a trained model (<c>evaluate</c>, <c>predict</c>, <c>embed</c>).</summary>
public class ModelSettings : CommonSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("Model directory (model.json + weights.bin), as written by histo train.")]
    public string Model { get; set; } = "";

    [CommandOption("--tta")]
    [Description("Test-time augmentation: average each patch over its 8 rotations and flips.")]
    public bool Tta { get; set; }

    [CommandOption("--batch <N>")]
    [Description("Patches per network call (default 32).")]
    public int Batch { get; set; } = 32;

    [CommandOption("--threads <N>")]
    [Description("CPU threads for the network (default: all cores).")]
    public int Threads { get; set; }

    /// <summary>Checks the shared options.</summary>
    public override ValidationResult Validate()
    {
        if (Batch <= 0)
        {
            return ValidationResult.Error($"--batch must be positive, got {Batch}");
        }

        if (Threads < 0)
        {
            return ValidationResult.Error($"--threads must be positive, got {Threads}");
        }

        return ValidationResult.Success();
    }

    /// <summary>The prediction options these settings ask for.</summary>
    public ImagePredictionOptions PredictionOptions => new() { TestTimeAugmentation = Tta, BatchSize = Batch };

    /// <summary>Sets the network's CPU thread count (all cores unless --threads).</summary>
    public void ApplyThreads() => TorchSharp.torch.set_num_threads(Threads > 0 ? Threads : Environment.ProcessorCount);

    /// <summary>Loader options for datasets read by these commands (default size policy: pad).</summary>
    internal static DatasetLoadOptions LoadOptions(string sizePolicy) => new()
    {
        SizePolicy = ParsePolicy(sizePolicy) ?? SizePolicy.Pad,
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

        List<string> files = [.. Directory.EnumerateFiles(Path.GetFullPath(path), "*", SearchOption.AllDirectories)
            .Where(ImageIO.HasImageExtension).Order(StringComparer.Ordinal)];
        if (files.Count == 0)
        {
            throw new HistoException($"{path}: no image files (.png, .jpg, .tif, .bmp) in the folder");
        }

        return files;
    }
}
