namespace Histo;

/// <summary>What a <see cref="HistoWarning"/> is about: callers act on the code, never on the wording.</summary>
public enum WarningCode
{
    /// <summary>The slide records no µm/px: a size or resolution fell back to pixels or level 0.</summary>
    NoMpp,

    /// <summary>The slide records no objective power: a magnification was taken as 10 / magnification µm/px.</summary>
    NoObjectivePower,

    /// <summary>The slide records neither objective power nor µm/px: level 0 was used.</summary>
    NoScale,

    /// <summary>The model card records no µm/px: patches are cut at level 0.</summary>
    ModelWithoutMpp,

    /// <summary>The resolution asked for is finer than level 0: patches are enlarged.</summary>
    Enlarged,

    /// <summary>The tissue mask is empty.</summary>
    NoTissue,

    /// <summary>Tissue was found but no patch reached the minimum tissue fraction.</summary>
    NoPatchKept,

    /// <summary>A region-of-interest mask or annotation selects nothing.</summary>
    EmptyRegion,

    /// <summary>An annotation was skipped, clipped or repaired while reading (its details are in the message).</summary>
    Annotation,

    /// <summary>An annotation's label is not in the label map, so it was not painted.</summary>
    UnknownLabel,

    /// <summary>A mask was resized to another mask's size before comparing them.</summary>
    MaskResized,

    /// <summary>A cross-validation fold has no image of a class (its per-class metrics are undefined).</summary>
    FoldWithoutClass,

    /// <summary>Images of a dataset have no µm/px or one off the dataset's scale.</summary>
    DatasetScale,
}

/// <summary>
/// A finding worth telling the user that did not stop the work (a fallback taken, an empty mask, a skipped
/// annotation): a <see cref="WarningCode"/> for programs and one sentence for people. Files (<c>summary.json</c>,
/// <c>histo score --json</c>) record the message. As in <see cref="HistoException"/>, the sentence names no caller's
/// option: when a remedy changes an input, <see cref="Parameter"/> names it and <see cref="Problem"/> is the sentence
/// without the remedy.
/// </summary>
/// <param name="Code">What it is about.</param>
/// <param name="Message">One sentence naming the file or object concerned.</param>
public sealed record HistoWarning(WarningCode Code, string Message)
{
    /// <summary>What was found, without a remedy; the message itself when it names no input to change.</summary>
    public string Problem { get; init; } = Message;

    /// <summary>The input whose change the message's remedy names, or null.</summary>
    public HistoParameter? Parameter { get; init; }

    /// <summary>A warning whose remedy is another value of <paramref name="parameter"/>: the message is "problem; remedy".</summary>
    /// <param name="code">What it is about.</param>
    /// <param name="problem">What was found, without a remedy.</param>
    /// <param name="parameter">The input the remedy changes.</param>
    /// <param name="remedy">The remedy in library terms.</param>
    public static HistoWarning WithRemedy(WarningCode code, string problem, HistoParameter parameter, string remedy) =>
        new(code, $"{problem}; {remedy}") { Problem = problem, Parameter = parameter };

    /// <summary>The message.</summary>
    public override string ToString() => Message;
}
