using System.ComponentModel;
using System.Globalization;
using Histo.Cli.Rendering;
using Histo.Cli.Settings;
using Histo.Datasets;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary>
/// <c>histo leakcheck PATH... [--folds K] [--seed S] [--split split.json] [--json]</c>: checks a cross-validation split
/// for leaks. Exit code 0 = clean, 1 = leak found (or an error, which prints an <c>error:</c> line), 2 = usage error.
/// </summary>
public sealed class LeakCheckCommand : Command<LeakCheckCommand.Settings>
{
    /// <summary>Exit code when a leak is found.</summary>
    public const int LeakFound = 1;

    public sealed class Settings : JsonDatasetSettings
    {
        [CommandOption("--folds <K>")]
        [Description("Folds of the grouped split to check (default 5).")]
        public int? Folds { get; set; }

        [CommandOption("--seed <S>")]
        [Description("Seed of the split (default 42).")]
        public int? Seed { get; set; }

        [CommandOption("--split <SPLIT_JSON>")]
        [Description("Check this saved split instead of making one.")]
        public string? Split { get; set; }

        [CommandOption("--save-split <SPLIT_JSON>")]
        [Description("Write the split that was checked, as JSON (to store with a model).")]
        public string? SaveSplit { get; set; }

        [CommandOption("--ungrouped")]
        [Description("Make a naive split that ignores patients and source images, to see what it leaks.")]
        public bool Ungrouped { get; set; }

        [CommandOption("--hamming <BITS>")]
        [Description("Near-duplicates: perceptual-hash distance at or below this, 0-16 (default 10).")]
        public int Hamming { get; set; } = LeakCheckOptions.DefaultHammingThreshold;

        [CommandOption("--min-correlation <R>")]
        [Description("Near-duplicates: thumbnail correlation at or above this, 0-1 (default 0.95; 0 trusts the hash alone).")]
        public double MinCorrelation { get; set; } = LeakCheckOptions.DefaultMinCorrelation;

        [CommandOption("--no-flips")]
        [Description("Do not match flipped or rotated copies.")]
        public bool NoFlips { get; set; }

        [CommandOption("--examples <N>")]
        [Description("Examples listed per kind of leak (default 5 in text, 100 in JSON).")]
        public int? Examples { get; set; }

        public override ValidationResult Validate()
        {
            if (Split != null && (Folds != null || Seed != null || Ungrouped))
            {
                return ValidationResult.Error("--split takes folds and seed from the file: do not combine it with --folds, --seed or --ungrouped");
            }

            if (Folds is < 2)
            {
                return ValidationResult.Error($"--folds must be 2 or more, got {Folds}");
            }

            if (Hamming is < 0 or > LeakCheckOptions.MaxHammingThreshold)
            {
                return ValidationResult.Error($"--hamming must be between 0 and {LeakCheckOptions.MaxHammingThreshold}, got {Hamming}");
            }

            if (MinCorrelation is < 0 or > 1 || double.IsNaN(MinCorrelation))
            {
                return ValidationResult.Error($"--min-correlation must be between 0 and 1, got {MinCorrelation.ToString(CultureInfo.InvariantCulture)}");
            }

            if (Examples is < 0)
            {
                return ValidationResult.Error($"--examples must be 0 or more, got {Examples}");
            }

            if (SaveSplit != null)
            {
                string? dir = Path.GetDirectoryName(Path.GetFullPath(SaveSplit));
                if (dir != null && !Directory.Exists(dir))
                {
                    return ValidationResult.Error($"--save-split directory '{dir}' does not exist");
                }
            }

            return base.Validate();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = new LeakCheckOptions
        {
            HammingThreshold = settings.Hamming,
            MinCorrelation = settings.MinCorrelation,
            MatchFlipsAndRotations = !settings.NoFlips,
        };
        var split = settings.Split != null ? CrossValidationSplit.Load(settings.Split) : null;
        var (dataset, report) = ProgressView.Run(new DatasetProgressModel(), progress =>
        {
            // a leak is a leak at any scale: mixed scales are not refused here
            var ds = DatasetLoader.Load(settings.Paths, settings.LoadOptions() with { AllowMixedScales = true }, progress, cancellationToken);
            int folds = settings.Folds ?? GroupKFold.DefaultFoldCount;
            int seed = settings.Seed ?? GroupKFold.DefaultSeed;
            split ??= settings.Ungrouped ? GroupKFold.SplitUngrouped(ds, folds, seed) : GroupKFold.Split(ds, folds, seed);
            split.FoldsOf(ds);
            return (ds, LeakChecker.Check(ds, split, options, progress, cancellationToken));
        });
        if (settings.SaveSplit != null)
        {
            split!.Save(settings.SaveSplit, dataset);
        }

        if (settings.Json)
        {
            Terminal.OutLine(ToJson(dataset, split!, report, settings.Examples ?? 100));
        }
        else
        {
            Render(dataset, split!, report, settings.Examples ?? 5, settings.SaveSplit);
        }

        return report.IsLeaky ? LeakFound : 0;
    }

    private static void Render(Dataset dataset, CrossValidationSplit split, LeakReport report, int examples, string? savedTo)
    {
        var inv = CultureInfo.InvariantCulture;
        Terminal.OutLine(string.Create(inv,
            $"{report.ItemCount:N0} images, {dataset.Groups.Count:N0} groups; split: {report.FoldCount} folds, seed {report.Seed}, {(report.Grouped ? "grouped" : "UNGROUPED (naive, per image)")}"));
        var table = new Table().AddColumn("fold").AddColumn("images").AddColumn("groups");
        foreach (var cls in dataset.Classes)
        {
            table.AddColumn(Terminal.Markup(cls.Name));
        }

        foreach (var fold in report.Folds)
        {
            var cells = new List<string> { fold.Fold.ToString(inv), fold.ItemCount.ToString("N0", inv), fold.GroupCount.ToString("N0", inv) };
            cells.AddRange(fold.CountsPerClass.Select(n => n.ToString("N0", inv)));
            table.AddRow(cells.ToArray());
        }

        AnsiConsole.Write(table);
        foreach (var warning in split.Warnings(dataset))
        {
            Terminal.OutLine("warning: " + OptionRemedies.Warning(warning));
        }

        Terminal.OutLine(string.Create(inv, $"1. groups on both sides of a fold: {report.GroupLeaks.Count:N0}; source images on both sides: {report.SourceImageLeaks.Count:N0}"));
        foreach (var leak in report.GroupLeaks.Concat(report.SourceImageLeaks).Take(examples))
        {
            Terminal.OutLine($"   {leak.Group}: " + string.Join(", ", leak.ItemsPerFold.Select(kv => string.Create(inv, $"{kv.Value} in fold {kv.Key}"))));
        }

        Terminal.OutLine(string.Create(inv,
            $"2. near-duplicate pairs across folds: {report.NearDuplicateCount:N0} (hash distance <= {report.HammingThreshold} bits, thumbnail correlation >= {report.MinCorrelation:0.##})"));
        foreach (var pair in report.NearDuplicates.Take(examples))
        {
            Terminal.OutLine(string.Create(inv,
                $"   {pair.PathA} (fold {pair.FoldA}) ~ {pair.PathB} (fold {pair.FoldB}): {pair.HammingDistance} bits, r {pair.Correlation:0.000}, {pair.Transform}"));
        }

        Terminal.OutLine(string.Create(inv, $"3. exact duplicate files across folds: {report.ExactDuplicateCount:N0}"));
        foreach (var pair in report.ExactDuplicates.Take(examples))
        {
            Terminal.OutLine($"   {pair.PathA} (fold {pair.FoldA}) = {pair.PathB} (fold {pair.FoldB})");
        }

        Terminal.OutLine(string.Create(inv,
            $"not evidence: {report.LowInformationCount:N0} blank, mostly white or sliver images left out of the duplicate checks"));
        if (report.Unreadable.Count > 0)
        {
            Terminal.OutLine(string.Create(inv, $"unreadable: {report.Unreadable.Count:N0} (first: {report.Unreadable[0].Path}: {report.Unreadable[0].Error})"));
        }

        if (dataset.Problems.Count > 0)
        {
            Terminal.OutLine(string.Create(inv, $"dataset problems: {dataset.Problems.Count:N0} (see histo dataset)"));
        }

        if (savedTo != null)
        {
            Terminal.OutLine($"split written to {savedTo}");
        }

        Terminal.OutLine("verdict: " + report.Verdict);
    }

    /// <summary>The <c>--json</c> document.</summary>
    public static string ToJson(Dataset dataset, CrossValidationSplit split, LeakReport report, int examples)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(report);
        return JsonOutput.Serialize(new Dictionary<string, object?>
        {
            ["leaky"] = report.IsLeaky,
            ["verdict"] = report.Verdict,
            ["images"] = report.ItemCount,
            ["groups"] = dataset.Groups.Count,
            ["split"] = new Dictionary<string, object?>
            {
                ["folds"] = report.FoldCount,
                ["seed"] = report.Seed,
                ["grouped"] = report.Grouped,
            },
            ["classes"] = dataset.Classes.Select(cls => cls.Name).ToList(),
            ["fold_summaries"] = report.Folds.Select(fold => new Dictionary<string, object?>
            {
                ["fold"] = fold.Fold,
                ["images"] = fold.ItemCount,
                ["groups"] = fold.GroupCount,
                ["per_class"] = fold.CountsPerClass,
            }).ToList(),
            ["warnings"] = split.Warnings(dataset).Select(w => w.Message).ToList(),
            ["group_leaks"] = GroupLeaks(report.GroupLeaks, examples),
            ["source_image_leaks"] = GroupLeaks(report.SourceImageLeaks, examples),
            ["near_duplicates"] = new Dictionary<string, object?>
            {
                ["count"] = report.NearDuplicateCount,
                ["hamming_threshold"] = report.HammingThreshold,
                ["min_correlation"] = report.MinCorrelation,
                ["examples"] = Pairs(report.NearDuplicates, examples),
            },
            ["exact_duplicates"] = new Dictionary<string, object?>
            {
                ["count"] = report.ExactDuplicateCount,
                ["examples"] = Pairs(report.ExactDuplicates, examples),
            },
            ["low_information_ignored"] = report.LowInformationCount,
            ["unreadable"] = report.Unreadable.Select(u => new Dictionary<string, object?> { ["path"] = u.Path, ["error"] = u.Error }).ToList(),
            ["dataset_problems"] = dataset.Problems.Count,
        });
    }

    private static Dictionary<string, object?> GroupLeaks(IReadOnlyList<GroupLeak> leaks, int examples) => new()
    {
        ["count"] = leaks.Count,
        ["examples"] = leaks.Take(examples).Select(leak => new Dictionary<string, object?>
        {
            ["group"] = leak.Group,
            ["kind"] = DatasetCommand.Snake(leak.Kind),
            ["images_per_fold"] = leak.ItemsPerFold.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => (object?)kv.Value, StringComparer.Ordinal),
        }).ToList(),
    };

    private static List<Dictionary<string, object?>> Pairs(IReadOnlyList<DuplicatePair> pairs, int examples) =>
        [.. pairs.Take(examples).Select(p => new Dictionary<string, object?>
        {
            ["path_a"] = p.PathA,
            ["fold_a"] = p.FoldA,
            ["path_b"] = p.PathB,
            ["fold_b"] = p.FoldB,
            ["hamming_distance"] = p.HammingDistance,
            ["correlation"] = p.Correlation,
            ["transform"] = p.Transform,
        })];
}
