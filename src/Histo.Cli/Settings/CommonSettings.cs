using System.ComponentModel;
using Spectre.Console.Cli;

namespace Histo.Cli.Settings;

/// <summary>Options every command takes.</summary>
public class CommonSettings : CommandSettings
{
    [CommandOption("-v|--verbose")]
    [Description("Print the stack trace of an error.")]
    public bool Verbose { get; set; }
}

/// <summary>Options of commands that write one output file.</summary>
public class OutputFileSettings : CommonSettings
{
    [CommandOption("-o|--output <PATH>")]
    [Description("Output file (.png, .jpg or .tif).")]
    public string? Output { get; set; }

    /// <summary>Refuses an output file name that names an existing directory, before any work is done.</summary>
    public static Spectre.Console.ValidationResult OutputIsNotDirectory(string? output) =>
        output is not null && Directory.Exists(output)
            ? Spectre.Console.ValidationResult.Error($"output '{output}' is a directory; give a file name for this output")
            : Spectre.Console.ValidationResult.Success();

    /// <summary>Refuses an output file whose directory does not exist or whose name is an existing directory.</summary>
    public static Spectre.Console.ValidationResult OutputFileCanBeWritten(string output)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(output));
        if (dir != null && !Directory.Exists(dir))
        {
            return Spectre.Console.ValidationResult.Error($"output directory '{dir}' does not exist");
        }

        return OutputIsNotDirectory(output);
    }

    /// <summary>Checks that an output path was given and that its directory exists.</summary>
    public Spectre.Console.ValidationResult ValidateOutput()
    {
        if (string.IsNullOrWhiteSpace(Output))
        {
            return Spectre.Console.ValidationResult.Error("an output file is required: -o out.png");
        }

        if (!Histo.Slides.SlideFormats.IsImageFile(Output))
        {
            return Spectre.Console.ValidationResult.Error($"output '{Output}' must end in .png, .jpg or .tif");
        }

        return OutputFileCanBeWritten(Output);
    }
}

/// <summary>Options of commands that read a region of a slide into one output image (<c>region</c>, <c>normalize</c>).</summary>
public class RegionFileSettings : OutputFileSettings
{
    [CommandOption("-x|--level0-x <LEVEL0_X>")]
    [Description("Region left edge in level-0 pixels (also --x).")]
    public long? X { get; set; }

    [CommandOption("-y|--level0-y <LEVEL0_Y>")]
    [Description("Region top edge in level-0 pixels (also --y).")]
    public long? Y { get; set; }

    [CommandOption("--width <PIXELS>")]
    [Description("Region width in pixels of the chosen level.")]
    public int? Width { get; set; }

    [CommandOption("--height <PIXELS>")]
    [Description("Region height in pixels of the chosen level.")]
    public int? Height { get; set; }

    [CommandOption("--level <LEVEL>")]
    [Description("Pyramid level to read from (default 0).")]
    public int Level { get; set; }

    /// <summary>Checks the region options (all four or, unless <paramref name="required"/>, none), then the output.</summary>
    public Spectre.Console.ValidationResult ValidateRegionAndOutput(bool required)
    {
        int given = new object?[] { X, Y, Width, Height }.Count(v => v != null);
        if (required && given != 4)
        {
            return Spectre.Console.ValidationResult.Error("--x, --y, --width and --height are required");
        }

        if (given is not (0 or 4))
        {
            return Spectre.Console.ValidationResult.Error("a region needs all of --x, --y, --width and --height");
        }

        if (Width <= 0 || Height <= 0)
        {
            return Spectre.Console.ValidationResult.Error($"--width and --height must be positive, got {Width}x{Height}");
        }

        if (Level < 0)
        {
            return Spectre.Console.ValidationResult.Error($"--level must be 0 or more, got {Level}");
        }

        return ValidateOutput();
    }
}
