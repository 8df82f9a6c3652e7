using System.ComponentModel;
using Histo.Imaging;
using Histo.Slides;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo demo [-o DIR]</c>: the main job on the bundled slide.</summary>
public sealed class DemoCommand : Command<DemoCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandOption("-o|--output <DIR>")]
        [Description("Output folder (default demo-out).")]
        public string Output { get; set; } = "demo-out";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string slidePath = BundledData.Slide("cmu-1-small-region.svs");
        Directory.CreateDirectory(settings.Output);
        using var slide = Slide.Open(slidePath);
        AnsiConsole.MarkupLine($"[bold]slide[/] {Markup.Escape(slidePath)}");
        AnsiConsole.MarkupLine($"  {slide.Vendor}, {slide.Width} x {slide.Height} px, {slide.LevelCount} level(s), mpp {slide.MppX:0.###} ({InfoCommand.MppSourceName(slide.MppSource) ?? "unknown"})");
        string thumbPath = Path.Combine(settings.Output, "thumbnail.png");
        ImageIO.Save(thumbPath, slide.GetThumbnail(1024));
        AnsiConsole.MarkupLine($"[green]wrote[/] {Markup.Escape(thumbPath)}");
        return 0;
    }
}

/// <summary>Finds the data bundled with Histo (the repository's data/ folder).</summary>
public static class BundledData
{
    /// <summary>The repository's data folder, found by walking up from the program.</summary>
    public static string Root
    {
        get
        {
            foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            {
                for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                {
                    string candidate = Path.Combine(dir.FullName, "data", "slides");
                    if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "Histo.slnx")))
                    {
                        return Path.Combine(dir.FullName, "data");
                    }
                }
            }

            throw new HistoException("cannot find Histo's bundled data folder (data/slides in the repository)");
        }
    }

    /// <summary>A bundled slide by file name.</summary>
    public static string Slide(string name) => Path.Combine(Root, "slides", name);
}
