namespace Histo;

/// <summary>
/// Base of every failure Histo reports on purpose. The message is one line a user can act on;
/// the command-line program prints it as <c>error: message</c> and exits non-zero.
/// </summary>
/// <remarks>
/// The message names no option of a caller (the library does not know the command line's flags). When changing one
/// input gets past the failure, <see cref="Parameter"/> says which and <see cref="Problem"/> states what was found
/// without the remedy, so that a caller can word the remedy with its own name for that input.
/// </remarks>
public class HistoException : Exception
{
    /// <summary>Creates the exception with a user-facing message.</summary>
    public HistoException(string message) : base(message) => Problem = message;

    /// <summary>Creates the exception with a user-facing message and the underlying cause.</summary>
    public HistoException(string message, Exception inner) : base(message, inner) => Problem = message;

    /// <summary>Creates the exception for a failure that another value of <paramref name="parameter"/> gets past.</summary>
    /// <param name="problem">What was found, without a remedy.</param>
    /// <param name="parameter">The input the remedy changes.</param>
    /// <param name="message">The problem with its remedy in library terms.</param>
    public HistoException(string problem, HistoParameter parameter, string message) : this(problem, message, parameter, null) { }

    /// <summary>Creates the exception with its problem stated apart from the remedy.</summary>
    /// <param name="problem">What was found, without a remedy.</param>
    /// <param name="message">The problem with its remedy in library terms.</param>
    /// <param name="parameter">The input the remedy changes, or null when the remedy is not a parameter's value.</param>
    /// <param name="inner">The underlying cause, or null.</param>
    protected HistoException(string problem, string message, HistoParameter? parameter, Exception? inner)
        : base(message, inner)
    {
        Problem = problem;
        Parameter = parameter;
    }

    /// <summary>What was found, without a remedy; the message itself when the failure names no parameter to change.</summary>
    public string Problem { get; }

    /// <summary>The input whose change the message's remedy names, or null.</summary>
    public HistoParameter? Parameter { get; }
}

/// <summary>A slide or image file that cannot be opened: missing, unsupported, truncated or corrupt.</summary>
public sealed class SlideOpenException : HistoException
{
    /// <summary>Path of the file that failed to open.</summary>
    public string Path { get; }

    /// <summary>Creates the exception.</summary>
    public SlideOpenException(string path, string message) : base(message) => Path = path;

    /// <summary>Creates the exception with its cause.</summary>
    public SlideOpenException(string path, string message, Exception inner) : base(message, inner) => Path = path;
}

/// <summary>
/// A read from an opened slide failed. OpenSlide errors latch: after the first one every later call on the same
/// slide fails too (<see cref="Slides.Slide.LatchedError"/>).
/// </summary>
public sealed class SlideReadException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public SlideReadException(string message) : base(message) { }
}

/// <summary>A requested region, level or size that does not fit the slide.</summary>
public sealed class InvalidRegionException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public InvalidRegionException(string message) : base(message) { }
}

/// <summary>An image file that cannot be decoded or encoded.</summary>
public sealed class ImageFormatException : HistoException
{
    /// <summary>Creates the exception.</summary>
    public ImageFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public ImageFormatException(string message, Exception inner) : base(message, inner) { }
}
