namespace Histo.Scoring;

/// <summary>Maps that cannot be scored: sizes that do not match, values that are not BACH codes, truth that cannot be placed.</summary>
public sealed class ScoringException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public ScoringException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public ScoringException(string message, Exception inner) : base(message, inner) { }
}
