namespace Histo;

/// <summary>
/// A parameter given to a library call (an option value such as a patch size, a resolution or a jitter range) that
/// is out of range or inconsistent. The message names the parameter and the accepted range.
/// </summary>
public sealed class InvalidParameterException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public InvalidParameterException(string message) : base(message) { }
}
