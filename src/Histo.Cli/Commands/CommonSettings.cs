using System.ComponentModel;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>Options every command takes.</summary>
public class CommonSettings : CommandSettings
{
    [CommandOption("--verbose")]
    [Description("Print the stack trace of an error.")]
    public bool Verbose { get; set; }
}

/// <summary>Options of commands that write one output file.</summary>
public class OutputFileSettings : CommonSettings
{
    [CommandOption("-o|--output <PATH>")]
    [Description("Output file (.png, .jpg or .tif).")]
    public string? Output { get; set; }

    /// <summary>Checks that an output path was given and that its directory exists.</summary>
    public Spectre.Console.ValidationResult ValidateOutput()
    {
        if (string.IsNullOrWhiteSpace(Output))
        {
            return Spectre.Console.ValidationResult.Error("an output file is required: -o out.png");
        }

        if (!Histo.Imaging.ImageIO.HasImageExtension(Output))
        {
            return Spectre.Console.ValidationResult.Error($"output '{Output}' must end in .png, .jpg or .tif");
        }

        string? dir = Path.GetDirectoryName(Path.GetFullPath(Output));
        if (dir != null && !Directory.Exists(dir))
        {
            return Spectre.Console.ValidationResult.Error($"output directory '{dir}' does not exist");
        }

        return Spectre.Console.ValidationResult.Success();
    }
}
