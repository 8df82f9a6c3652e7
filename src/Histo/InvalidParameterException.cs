namespace Histo;

/// <summary>
/// A parameter given to a library call (an option value such as a patch size, a resolution or a jitter range) that
/// is out of range or inconsistent. The message names the parameter and the accepted range.
/// </summary>
public sealed class InvalidParameterException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public InvalidParameterException(string message) : base(message) { }

    /// <summary>Creates the exception for a value of <paramref name="parameter"/>, which a caller may name its own way.</summary>
    /// <param name="parameter">The input whose value is wrong.</param>
    /// <param name="message">What is wrong with it, naming the input in library terms.</param>
    public InvalidParameterException(HistoParameter parameter, string message) : base(message, message, parameter, null) { }
}
