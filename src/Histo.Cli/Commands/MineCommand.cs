using System.ComponentModel;
using Histo.Cli.Settings;
using Histo.Inference;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Histo.Cli.Commands;

/// <summary><c>histo mine MODEL SLIDE TRUTH -o DIR [-n 5900] [--seed 42] [--label-map MAP] [--batch N] [--threads N]</c>.</summary>
public sealed class MineCommand : Command<MineCommand.Settings>
{
    public sealed class Settings : AnnotatedSlideModelSettings
    {
        [CommandArgument(1, "<SLIDE>")]
        [Description("An annotated slide.")]
        public string Slide { get; set; } = "";

        [CommandArgument(2, "<TRUTH>")]
        [Description("Its ground truth: annotation file (Aperio / ASAP XML, GeoJSON) or label mask PNG of BACH codes.")]
        public string Truth { get; set; } = "";

        [CommandOption("-o|--output <DIR>")]
        [Description("New folder for the dataset: DIR/<class>/<slide>_x<X>_y<Y>.png.")]
        public string? Output { get; set; }

        [CommandOption("-n|--count <N>")]
        [Description("Patches to sample, balanced across classes (default 5900, the seed's).")]
        public int Count { get; set; } = 5900;

        [CommandOption("--seed <SEED>")]
        [Description("Seed of the sampling (default 42).")]
        public int Seed { get; set; } = 42;

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Output))
            {
                return ValidationResult.Error("an output folder is required: -o DIR");
            }

            if (Count < 1)
            {
                return ValidationResult.Error($"-n must be at least 1, got {Count}");
            }

            return base.Validate();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        foreach (string file in new[] { settings.Slide, settings.Truth }.Where(f => !File.Exists(f)))
        {
            throw new HistoException($"{file}: file not found");
        }

        int threads = settings.EffectiveThreads;
        using var model = settings.LoadModel();
        var miner = new HardExampleMiner(model, new MiningOptions
        {
            SampleCount = settings.Count,
            Seed = settings.Seed,
            LabelMap = settings.LabelMap,
            BatchSize = settings.Batch,
            ReaderThreads = threads,
        });
        var result = miner.Mine(settings.Slide, settings.Truth, settings.Output!, null, cancellationToken);
        var perClass = result.Selected.GroupBy(s => s.TruthCode).OrderBy(g => g.Key).Select(g => $"{result.ClassNames[g.Key]} {g.Count()}");
        Terminal.ErrorLine(
            $"{result.Candidates.Count} patches with >= 70 % tissue, {result.Hardest.Count} hardest kept, {result.Selected.Count} written to {settings.Output} ({string.Join(", ", perClass)})");
        if (result.Selected.Select(s => s.TruthCode).Distinct().Count() < 2)
        {
            Terminal.ErrorLine("warning: the sample holds one class only; combine it with other data (e.g. BACH Part A) for training");
        }

        return 0;
    }
}
