using Histo.Annotations;

namespace Histo.Scoring;

/// <summary>
/// Maps that cannot be scored: sizes that do not match, values that are not BACH codes, truth that cannot be placed.
/// Truth whose labels map to no class has <see cref="HistoException.Parameter"/> <see cref="HistoParameter.LabelMap"/>
/// and the labels in <see cref="UnknownLabels"/>; annotations with no geometry to place them has
/// <see cref="HistoParameter.MapGeometry"/>.
/// </summary>
public sealed class ScoringException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public ScoringException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public ScoringException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception for truth that another value of <paramref name="parameter"/> makes scorable.</summary>
    /// <param name="problem">What was found, without a remedy.</param>
    /// <param name="parameter">The input the remedy changes.</param>
    /// <param name="message">The problem with its remedy in library terms.</param>
    /// <param name="unknownLabels">The truth's labels that the label map does not map, if any.</param>
    public ScoringException(string problem, HistoParameter parameter, string message, IReadOnlyList<LabelCount>? unknownLabels = null)
        : base(problem, parameter, message) => UnknownLabels = unknownLabels ?? [];

    /// <summary>The truth's labels that the label map does not map (empty unless the failure is about them).</summary>
    public IReadOnlyList<LabelCount> UnknownLabels { get; } = [];
}
