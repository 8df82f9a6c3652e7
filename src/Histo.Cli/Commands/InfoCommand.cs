using System.ComponentModel;
using System.Globalization;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
using Histo.Slides;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo info SLIDE [--json]</c>.</summary>
public sealed class InfoCommand : Command<InfoCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandArgument(0, "<SLIDE>")]
        [Description("Whole-slide image or plain image file.")]
        public string Slide { get; set; } = "";

        [CommandOption("--json")]
        [Description("Print one JSON object.")]
        public bool Json { get; set; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var slide = Slide.Open(settings.Slide);
        if (settings.Json)
        {
            Terminal.OutLine(ToJson(slide));
            return 0;
        }

        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]file[/]", Terminal.Markup(slide.Path));
        grid.AddRow("[bold]vendor[/]", Terminal.Markup(slide.Vendor));
        grid.AddRow("[bold]size[/]", $"{slide.Width} x {slide.Height} px");
        grid.AddRow("[bold]mpp[/]", slide.MppX is { } mx
            ? string.Create(CultureInfo.InvariantCulture, $"{mx:0.####} x {slide.MppY:0.####} µm/px ({MppSourceName(slide.MppSource)})")
            : "unknown");
        if (slide.ObjectivePower is { } power)
        {
            grid.AddRow("[bold]objective[/]", string.Create(CultureInfo.InvariantCulture, $"{power:0.#}x"));
        }

        grid.AddRow("[bold]associated[/]", slide.AssociatedImageNames.Count == 0 ? "none" : Terminal.Markup(string.Join(", ", slide.AssociatedImageNames)));
        AnsiConsole.Write(grid);
        var levels = new Table().AddColumns("level", "width", "height", "downsample");
        for (int i = 0; i < slide.LevelCount; i++)
        {
            var l = slide.Levels[i];
            levels.AddRow(i.ToString(CultureInfo.InvariantCulture), l.Width.ToString(CultureInfo.InvariantCulture),
                l.Height.ToString(CultureInfo.InvariantCulture), l.Downsample.ToString("0.###", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(levels);
        var props = new Table().AddColumns("property", "value");
        foreach (var (key, value) in slide.Properties.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            string shown = value.Length > 120 ? value[..117] + "..." : value;
            props.AddRow(Terminal.Markup(key), Terminal.Markup(shown.ReplaceLineEndings(" ")));
        }

        AnsiConsole.Write(props);
        return 0;
    }

    /// <summary>The machine-readable name of an MPP source.</summary>
    public static string? MppSourceName(MppSource source) => source switch
    {
        MppSource.Vendor => "vendor",
        MppSource.TiffResolution => "tiff-resolution",
        _ => null,
    };

    /// <summary>The <c>--json</c> document.</summary>
    public static string ToJson(Slide slide)
    {
        ArgumentNullException.ThrowIfNull(slide);
        return JsonOutput.Serialize(new Dictionary<string, object?>
        {
            ["path"] = slide.Path,
            ["width"] = slide.Width,
            ["height"] = slide.Height,
            ["level_count"] = slide.LevelCount,
            ["levels"] = slide.Levels.Select(l => new Dictionary<string, object?>
            {
                ["width"] = l.Width,
                ["height"] = l.Height,
                ["downsample"] = l.Downsample,
            }).ToList(),
            ["mpp_x"] = slide.MppX,
            ["mpp_y"] = slide.MppY,
            ["mpp_source"] = MppSourceName(slide.MppSource),
            ["objective_power"] = slide.ObjectivePower,
            ["vendor"] = slide.Vendor,
            ["associated_images"] = slide.AssociatedImageNames,
            ["properties"] = new SortedDictionary<string, string>(slide.Properties.ToDictionary(), StringComparer.Ordinal),
        });
    }
}
