using System.ComponentModel;
using System.Globalization;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
using Histo.Cohorts;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo cohort OUT [--json]</c>: the cohort table of a <c>histo slide</c> output folder, rewritten from disk.</summary>
public sealed class CohortCommand : Command<CohortCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandArgument(0, "<OUT>")]
        [Description("Output folder of histo slide (OUT/<slide name>/ per slide).")]
        public string Output { get; set; } = "";

        [CommandOption("--json")]
        [Description("Print one JSON object.")]
        public bool Json { get; set; }

        public override ValidationResult Validate() =>
            Directory.Exists(Output) ? ValidationResult.Success() : ValidationResult.Error($"output folder '{Output}' not found");
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var table = CohortTable.Update(settings.Output, []);
        string csv = Path.Combine(settings.Output, CohortTable.CsvFileName);
        if (settings.Json)
        {
            JsonOutput.Write(ToJson(table, csv));
            return 0;
        }

        var c = CultureInfo.InvariantCulture;
        Console.Out.WriteLine($"{table.DoneCount} done, {table.FailedCount} failed, {table.PendingCount} pending; table: {csv}");
        foreach (var m in table.Models)
        {
            Console.Out.WriteLine(string.Create(c, $"model {m.Name} {m.Id ?? "(no id recorded)"} (histo {string.Join(", ", m.SoftwareVersions)}): {m.SlideCount} slide(s)"));
        }

        if (table.SlidesFromOtherModels.Count > 0)
        {
            Console.Out.WriteLine($"warning: made by another model than the others: {string.Join(", ", table.SlidesFromOtherModels)}");
        }

        if (table.Rows.Count == 0)
        {
            return 0;
        }

        var grid = new Table().AddColumns(["slide", "status", "tissue mm²", .. table.ClassNames.Select(n => Markup.Escape(n) + " mm²"), "seconds", "error"]);
        foreach (var r in table.Rows)
        {
            var areas = table.ClassNames.Select(n => r.Classes.FirstOrDefault(a => a.Name == n).AreaMm2?.ToString("0.###", c) ?? "");
            grid.AddRow([Markup.Escape(r.Slide), CohortTable.StatusName(r.Status), r.TissueAreaMm2?.ToString("0.###", c) ?? "", .. areas,
                r.Seconds?.ToString("0.#", c) ?? "", Markup.Escape(r.Error ?? "")]);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        console.Write(grid);
        return 0;
    }

    private static Dictionary<string, object?> ToJson(CohortTable table, string csv) => new()
    {
        ["done"] = table.DoneCount,
        ["failed"] = table.FailedCount,
        ["pending"] = table.PendingCount,
        ["csv"] = csv,
        ["models"] = table.Models.Select(m => new Dictionary<string, object?>
        {
            ["name"] = m.Name,
            ["id"] = m.Id,
            ["software_versions"] = m.SoftwareVersions,
            ["slides"] = m.SlideCount,
        }).ToList(),
        ["slides_from_other_models"] = table.SlidesFromOtherModels,
        ["slides"] = table.Rows.Select(r => new Dictionary<string, object?>
        {
            ["slide"] = r.Slide,
            ["status"] = CohortTable.StatusName(r.Status),
            ["model"] = r.Model,
            ["model_id"] = r.ModelId,
            ["software_version"] = r.SoftwareVersion,
            ["seconds"] = r.Seconds,
            ["patch_count"] = r.PatchCount,
            ["tissue_mm2"] = r.TissueAreaMm2,
            ["classes"] = r.Classes.Select(a => new Dictionary<string, object?> { ["name"] = a.Name, ["mm2"] = a.AreaMm2, ["fraction"] = a.Fraction }).ToList(),
            ["error"] = r.Error,
        }).ToList(),
    };
}
