using Histo.Annotations;
using Histo.Datasets;
using Histo.Learning.Training;
using Histo.Scoring;

namespace Histo.Cli;

/// <summary>
/// The one place that words the remedy of a library failure or warning with this command line's options. The library
/// knows no option: it says which input to change (<see cref="HistoException.Parameter"/>,
/// <see cref="HistoWarning.Parameter"/>), states the problem without its remedy (<c>Problem</c>) and carries the
/// values the remedy needs as typed properties; the texts here are the library's remedies with the option named. A
/// refused training run says why instead (<see cref="TrainingRefusedException.Reason"/>), worded here for
/// <c>histo train</c>.
/// </summary>
internal static class OptionRemedies
{
    /// <summary>The option that sets <paramref name="parameter"/>.</summary>
    public static string Option(HistoParameter parameter) => parameter switch
    {
        HistoParameter.DatasetMpp => "--image-mpp",
        HistoParameter.FoldCount => "--folds",
        HistoParameter.MapGeometry => "--geometry",
        HistoParameter.LabelMap => "--label-map",
        HistoParameter.Shard => "--shard",
        HistoParameter.Port => "--port",
        _ => throw new ArgumentOutOfRangeException(nameof(parameter), parameter, null),
    };

    /// <summary>The text of the <c>error:</c> line (or the validation error) for <paramref name="e"/>.</summary>
    public static string Error(HistoException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e is TrainingRefusedException refused)
        {
            return Refusal(refused);
        }

        if (e.Parameter is not { } parameter)
        {
            return e.Message;
        }

        string option = Option(parameter);
        return (parameter, e) switch
        {
            (HistoParameter.DatasetMpp, _) => $"{e.Problem}; use images of one scale, or give their µm/px ({option}) to override",
            (HistoParameter.FoldCount, NotEnoughGroupsException g) => $"{g.Problem}; use {option} {g.MaxFolds} or fewer, or add data from more {g.MoreDataFrom}",
            (HistoParameter.MapGeometry, _) => $"{e.Problem} (give the slide output directory, or {option})",
            (HistoParameter.Port, _) => $"{e.Problem}; choose another port with {option}",
            (HistoParameter.LabelMap, ScoringException { UnknownLabels: [var first, ..] }) =>
                $"{e.Problem}; pass {option}, e.g. {option} \"{first.Label}=Invasive\"",
            (HistoParameter.LabelMap, LabelMapException) or (HistoParameter.Shard, _) => $"{option}: {e.Message}", // the value given is wrong
            _ => $"{e.Message} ({option})",
        };
    }

    /// <summary>A refused run's message with the remedy in <c>histo train</c>'s options.</summary>
    private static string Refusal(TrainingRefusedException e) => e.Reason switch
    {
        TrainingRefusal.ModelExists => $"{e.Problem}; use --force to replace it or choose another -o",
        TrainingRefusal.InterruptedRunExists => $"{e.Problem}; add --resume to continue it or --force to start again",
        TrainingRefusal.OutputNotEmpty => $"{e.Problem}; choose another -o or use --force",
        TrainingRefusal.ModelCompleteNothingToResume => $"{e.Problem} (use --force to train it again)",
        TrainingRefusal.NothingToResume => e.Problem,
        TrainingRefusal.CheckpointRecipeChanged => $"{e.Problem}; rerun with the same arguments, or start again with --force",
        TrainingRefusal.CheckpointUnsupported or TrainingRefusal.CheckpointMalformed => $"{e.Problem}; start again with --force",
        TrainingRefusal.InitialModelClassesDiffer => $"--init {e.Problem}; they must match in name and order",
        TrainingRefusal.InitialModelHasNoWeights => $"--init {e.Problem}",
        _ => e.Message,
    };

    /// <summary>The text of the <c>warning:</c> line for <paramref name="warning"/> (files record its message).</summary>
    public static string Warning(HistoWarning warning)
    {
        ArgumentNullException.ThrowIfNull(warning);
        return warning.Parameter switch
        {
            HistoParameter.LabelMap => $"{warning.Problem}; use {Option(HistoParameter.LabelMap)}",
            { } parameter => $"{warning.Message} ({Option(parameter)})",
            null => warning.Message,
        };
    }
}
