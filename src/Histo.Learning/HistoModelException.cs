namespace Histo.Learning;

/// <summary>
/// A model file or a model definition could not be used: the file is missing, truncated or malformed, or its
/// structure is not the one the caller expects. The message names the file and what was wrong with it.
/// </summary>
public sealed class HistoModelException : HistoException
{
    /// <summary>Creates the exception with a default message.</summary>
    public HistoModelException()
        : base("The model could not be read.")
    {
    }

    /// <summary>Creates the exception with a message a user can act on.</summary>
    /// <param name="message">What went wrong, naming the file where there is one.</param>
    public HistoModelException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the lower-level error that caused it.</summary>
    /// <param name="message">What went wrong, naming the file where there is one.</param>
    /// <param name="innerException">The error that caused this one.</param>
    public HistoModelException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
