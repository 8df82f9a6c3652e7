namespace Histo.Viewer;

/// <summary>The viewer cannot start: a missing folder, a port in use, an unusable host, missing page assets.</summary>
public sealed class ViewerStartException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public ViewerStartException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public ViewerStartException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception for a port that cannot be listened on (another port gets past it).</summary>
    public ViewerStartException(string problem, HistoParameter parameter, string message, Exception inner) : base(problem, message, parameter, inner) { }
}

/// <summary>A prediction folder or annotation file that exists but cannot be used (malformed JSON, bad geometry).</summary>
public sealed class PredictionFormatException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public PredictionFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public PredictionFormatException(string message, Exception inner) : base(message, inner) { }
}
