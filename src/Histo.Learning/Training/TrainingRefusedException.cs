namespace Histo.Learning.Training;

/// <summary>Why <see cref="Trainer.Run"/> refused to start: the state of the output directory, its checkpoint, or the initial model.</summary>
public enum TrainingRefusal
{
    /// <summary>The output directory holds a complete model and the run neither replaces nor resumes it.</summary>
    ModelExists,

    /// <summary>The output directory holds an interrupted run and the run neither replaces nor resumes it.</summary>
    InterruptedRunExists,

    /// <summary>The output directory holds other files and the run does not replace them.</summary>
    OutputNotEmpty,

    /// <summary>A resume was asked for, but the output directory holds a complete model and no checkpoint.</summary>
    ModelCompleteNothingToResume,

    /// <summary>A resume was asked for, but the output directory holds no checkpoint.</summary>
    NothingToResume,

    /// <summary>The checkpoint was made with another dataset or recipe.</summary>
    CheckpointRecipeChanged,

    /// <summary>The checkpoint is in a format this version does not read.</summary>
    CheckpointUnsupported,

    /// <summary>The checkpoint cannot be parsed.</summary>
    CheckpointMalformed,

    /// <summary>The initial model's classes differ from the dataset's.</summary>
    InitialModelClassesDiffer,

    /// <summary>The initial model directory has no weights file.</summary>
    InitialModelHasNoWeights,
}

/// <summary>
/// A training run that refused to start, before anything was written. <see cref="Reason"/> says why and
/// <see cref="HistoException.Problem"/> states what was found without a remedy, so that a caller (the command line)
/// can name its own options in the remedy; <see cref="Exception.Message"/> is the problem with a remedy in library terms.
/// </summary>
public sealed class TrainingRefusedException : HistoException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">Why the run refused to start.</param>
    /// <param name="path">The model directory, checkpoint file or initial model directory concerned.</param>
    /// <param name="problem">What was found, without a remedy (e.g. "MODEL already holds a trained model").</param>
    /// <param name="message">The problem with a remedy that names no command-line option.</param>
    public TrainingRefusedException(TrainingRefusal reason, string path, string problem, string message)
        : base(problem, message, null, null)
    {
        Reason = reason;
        Path = path;
    }

    /// <summary>Creates the exception with its underlying cause.</summary>
    /// <param name="reason">Why the run refused to start.</param>
    /// <param name="path">The model directory, checkpoint file or initial model directory concerned.</param>
    /// <param name="problem">What was found, without a remedy.</param>
    /// <param name="message">The problem with a remedy that names no command-line option.</param>
    /// <param name="inner">The underlying cause.</param>
    public TrainingRefusedException(TrainingRefusal reason, string path, string problem, string message, Exception inner)
        : base(problem, message, null, inner)
    {
        Reason = reason;
        Path = path;
    }

    /// <summary>Why the run refused to start.</summary>
    public TrainingRefusal Reason { get; }

    /// <summary>The model directory, checkpoint file or initial model directory concerned.</summary>
    public string Path { get; }
}
