using System.ComponentModel;
using System.Globalization;
using System.Text;
using Histo.Bach;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
using Histo.Datasets;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo dataset PATH... [--json]</c>: what was understood of a dataset.</summary>
public sealed class DatasetCommand : Command<DatasetCommand.Settings>
{
    public sealed class Settings : JsonDatasetSettings
    {
        [CommandOption("--verify")]
        [Description("Decode every image instead of reading headers only (slower; finds truncated files).")]
        public bool Verify { get; set; }

        [CommandOption("--image-mpp <MICRONS>")]
        [Description("Microns per pixel of every image, instead of what the files record (skips the scale checks).")]
        public double? Mpp { get; set; }

        [CommandOption("--examples <N>")]
        [Description("Problems listed per kind in the text output (default 3; --json lists all).")]
        public int Examples { get; set; } = 3;

        public override ValidationResult Validate()
        {
            if (Examples < 0)
            {
                return ValidationResult.Error($"--examples must be 0 or more, got {Examples}");
            }

            if (Mpp is { } mpp && !(mpp > 0 && double.IsFinite(mpp)))
            {
                return ValidationResult.Error(string.Create(CultureInfo.InvariantCulture, $"--image-mpp must be positive, got {mpp}"));
            }

            return base.Validate();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var dataset = ProgressView.Run(new DatasetProgressModel(), progress => DatasetLoader.Load(settings.Paths, settings.LoadOptions(settings.Verify, settings.Mpp), progress, cancellationToken));
        var summary = DatasetSummary.Of(dataset);
        if (settings.Json)
        {
            Terminal.OutLine(ToJson(dataset, summary));
            return 0;
        }

        Render(dataset, summary, settings.Examples);
        return 0;
    }

    private static void Render(Dataset dataset, DatasetSummary summary, int examples)
    {
        var inv = CultureInfo.InvariantCulture;
        Terminal.OutLine(string.Create(inv, $"{summary.ImageCount:N0} images, {dataset.Classes.Count} classes, {summary.GroupCount:N0} groups ({GroupKinds(summary)})"));
        foreach (var source in dataset.Sources)
        {
            Terminal.OutLine(string.Create(inv, $"  {source.Path}: {source.Scheme}, {source.ItemCount:N0} images, usual size {source.UsualWidthPixels}x{source.UsualHeightPixels}"));
        }

        var classes = new Table().AddColumns("class", "BACH code", "images", "share");
        for (int c = 0; c < dataset.Classes.Count; c++)
        {
            var cls = dataset.Classes[c];
            int n = dataset.CountsPerClass[c];
            classes.AddRow(Terminal.Markup(cls.Name), cls.BachCode is { } code ? $"{code} ({BachClasses.Names[code]})" : "-",
                n.ToString("N0", inv), (n / (double)summary.ImageCount).ToString("P1", inv));
        }

        AnsiConsole.Write(classes);
        Terminal.OutLine(string.Create(inv,
            $"images per group: min {summary.MinImagesPerGroup}, median {summary.MedianImagesPerGroup:0.#}, max {summary.MaxImagesPerGroup}"));
        var sizes = summary.Sizes.Take(6).Select(s => string.Create(inv, $"{s.WidthPixels}x{s.HeightPixels}: {s.Count:N0}")).ToList();
        if (summary.Sizes.Count > 6)
        {
            sizes.Add(string.Create(inv, $"{summary.Sizes.Count - 6} other sizes: {summary.Sizes.Skip(6).Sum(s => s.Count):N0}"));
        }

        Terminal.OutLine("image sizes: " + string.Join(", ", sizes));
        Terminal.OutLine($"size policy: {PolicyText(dataset.SizePolicy)}");
        Terminal.OutLine("scale: " + ScaleText(dataset, summary));
        if (dataset.Problems.Count == 0)
        {
            Terminal.OutLine("problems: none");
            return;
        }

        Terminal.OutLine(string.Create(inv, $"problems: {dataset.Problems.Count:N0}"));
        foreach (var group in dataset.Problems.GroupBy(p => p.Kind).OrderBy(g => g.Key))
        {
            Terminal.OutLine(string.Create(inv, $"  {group.Count():N0} {DatasetLoader.Describe(group.Key)}"));
            foreach (var problem in group.Take(examples))
            {
                Terminal.OutLine("    " + problem.Message);
            }

            if (group.Count() > examples && examples > 0)
            {
                Terminal.OutLine(string.Create(inv, $"    ... and {group.Count() - examples:N0} more (--json lists all)"));
            }
        }
    }

    /// <summary>The dataset's µm/px and where it comes from, in a few words.</summary>
    internal static string ScaleText(Dataset dataset, DatasetSummary summary)
    {
        var inv = CultureInfo.InvariantCulture;
        string range = summary.RecordedMppRange is { } r ? string.Create(inv, $"{r.Min:0.###}-{r.Max:0.###}") : "";
        return dataset.MppSource switch
        {
            DatasetMppSource.Override => string.Create(inv, $"{dataset.Mpp:0.###} µm/px (given; what the files record is not checked)"),
            DatasetMppSource.ImageFiles when summary.ImagesWithMpp == summary.ImageCount && summary.RecordedMppRange is { } same && same.Min == same.Max =>
                string.Create(inv, $"{dataset.Mpp:0.###} µm/px (recorded by all {summary.ImageCount:N0} images)"),
            DatasetMppSource.ImageFiles => string.Create(inv,
                $"{dataset.Mpp:0.###} µm/px (median of the {summary.ImagesWithMpp:N0} of {summary.ImageCount:N0} images that record one, {range})"),
            DatasetMppSource.Mixed => string.Create(inv, $"mixed: the images record {range} µm/px (more than {DatasetLoader.MaxMppSpread * 100:0} % apart); each is used at its own"),
            _ => "unknown (no image records its µm/px; give it with --image-mpp)",
        };
    }

    private static string GroupKinds(DatasetSummary summary) =>
        string.Join(", ", summary.GroupCountsByKind.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Value:N0} {KindText(kv.Key)}")));

    private static string KindText(GroupKind kind) => kind switch
    {
        GroupKind.Patient => "patients",
        GroupKind.ManifestGroup => "manifest groups",
        _ => "source images",
    };

    private static string PolicyText(SizePolicy policy) => policy switch
    {
        SizePolicy.Pad => "pad (smaller images are padded with white to the usual size)",
        SizePolicy.Resize => "resize (smaller images are stretched to the usual size)",
        _ => "skip (smaller images are left out)",
    };

    /// <summary>Lower-case snake_case of an enum value name (SkippedNonImage → skipped_non_image).</summary>
    internal static string Snake(Enum value)
    {
        string name = value.ToString();
        var sb = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                sb.Append('_');
            }

            sb.Append(char.ToLowerInvariant(name[i]));
        }

        return sb.ToString();
    }

    /// <summary>The <c>--json</c> document.</summary>
    public static string ToJson(Dataset dataset, DatasetSummary summary)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(summary);
        var scale = new Dictionary<string, object?>
        {
            ["mpp"] = dataset.Mpp,
            ["source"] = Snake(dataset.MppSource),
            ["images_with_mpp"] = summary.ImagesWithMpp,
        };
        if (summary.RecordedMppRange is { } recorded)
        {
            scale["recorded_min_mpp"] = Math.Round(recorded.Min, 6);
            scale["recorded_max_mpp"] = Math.Round(recorded.Max, 6);
        }

        return JsonOutput.Serialize(new Dictionary<string, object?>
        {
            ["images"] = summary.ImageCount,
            ["sources"] = dataset.Sources.Select(s => new Dictionary<string, object?>
            {
                ["path"] = s.Path,
                ["scheme"] = s.Scheme,
                ["images"] = s.ItemCount,
                ["usual_width"] = s.UsualWidthPixels,
                ["usual_height"] = s.UsualHeightPixels,
            }).ToList(),
            ["classes"] = dataset.Classes.Select((cls, c) => new Dictionary<string, object?>
            {
                ["name"] = cls.Name,
                ["bach_code"] = cls.BachCode,
                ["count"] = dataset.CountsPerClass[c],
            }).ToList(),
            ["groups"] = new Dictionary<string, object?>
            {
                ["count"] = summary.GroupCount,
                ["by_kind"] = ByKind(summary.GroupCountsByKind),
                ["min_images"] = summary.MinImagesPerGroup,
                ["median_images"] = summary.MedianImagesPerGroup,
                ["max_images"] = summary.MaxImagesPerGroup,
            },
            ["sizes"] = summary.Sizes.Select(s => new Dictionary<string, object?>
            {
                ["width"] = s.WidthPixels,
                ["height"] = s.HeightPixels,
                ["count"] = s.Count,
            }).ToList(),
            ["size_policy"] = Snake(dataset.SizePolicy),
            ["scale"] = scale,
            ["problems"] = new Dictionary<string, object?>
            {
                ["count"] = dataset.Problems.Count,
                ["by_kind"] = ByKind(summary.ProblemCounts),
                ["items"] = dataset.Problems.Select(p => new Dictionary<string, object?>
                {
                    ["kind"] = Snake(p.Kind),
                    ["path"] = p.Path,
                    ["message"] = p.Message,
                }).ToList(),
            },
        });
    }

    /// <summary>Counts by kind under the kinds' snake_case names, in the counts' order.</summary>
    private static Dictionary<string, object?> ByKind<TKind>(IEnumerable<KeyValuePair<TKind, int>> counts)
        where TKind : Enum =>
        counts.ToDictionary(kv => Snake(kv.Key), kv => (object?)kv.Value, StringComparer.Ordinal);
}
